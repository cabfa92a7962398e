package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.HttpBackend;
import dev.wsbridge.support.LogCapture;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawHttp;
import dev.wsbridge.support.ScriptedBackend;
import dev.wsbridge.support.TestCerts;
import dev.wsbridge.support.TestClient;
import dev.wsbridge.support.TestTls;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.Test;

/**
 * What the backend is told about the client: the user the container authenticated (BASIC auth in front of the
 * route, in each container), the client certificate its TLS took, where the request came from in
 * {@code X-Forwarded-*} and RFC 7239 {@code Forwarded}; and that no client can claim any of these itself.
 */
class IdentityTest extends ContainerSuite {

    private static final String ALICE = basic("alice", "wonder land");

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private void startProtected(Map<String, String> params) throws Exception {
        startWith(params, c -> c.basicAuth("alice", "wonder land"));
    }

    @Test
    void theAuthenticatedUserReachesTheBackendAndSpoofedCopiesDoNot() throws Exception {
        try (LogCapture access = new LogCapture("dev.wsbridge.access")) {
            startProtected(Map.of());
            Peer c = client.connect(container.wss("/wsapp/me"),
                    Map.of("Authorization", ALICE, "X-Forwarded-User", "mallory", "x-ssl-client-dn", "CN=mallory"));
            ScriptedBackend.Handshake seen = backend.handshake();
            assertEquals(List.of("alice"), seen.headers().get("X-Forwarded-User"), seen.headers().toString());
            assertNull(seen.header("X-SSL-Client-DN"), "no certificate, so no subject, and never the client's");
            assertEquals(ALICE, seen.header("Authorization"), "credentials pass on, as httpd passes them");
            c.close(1000, "bye");
            Await.until("the access-log line", 10, () -> !access.lines().isEmpty());
            assertTrue(access.lines().get(0).contains(" user=alice "), access.lines().toString());
        }
    }

    @Test
    void withoutCredentialsTheContainerAnswers401AndNoBackendIsAsked() throws Exception {
        startProtected(Map.of());
        assertEquals(401, client.status(container.wss("/wsapp/me"), Map.of("X-Forwarded-User", "alice")));
        assertEquals(401, client.status(container.wss("/wsapp/me"), Map.of("Authorization", basic("alice", "guess"))));
        assertEquals(0, backend.handshakeCount());
    }

    @Test
    void onAnOpenRouteNoUserIsSentAndTheClientsClaimIsDropped() throws Exception {
        start(Map.of());
        client.connect(container.wss("/wsapp/open"), Map.of("X-Forwarded-User", "admin", "Forwarded", "for=10.9.9.9"));
        ScriptedBackend.Handshake seen = backend.handshake();
        assertNull(seen.header("X-Forwarded-User"), seen.headers().toString());
        assertNull(seen.header("Forwarded"), "the default x-forwarded mode vouches for no Forwarded header");
        assertEquals("127.0.0.1", seen.header("X-Forwarded-For"));
        assertEquals("https", seen.header("X-Forwarded-Proto"));
    }

    @Test
    void theUserHeaderCanBeRenamedOrLeftOut() throws Exception {
        startProtected(Map.of("userHeader", "X-Remote-User"));
        client.connect(container.wss("/wsapp/me"), Map.of("Authorization", ALICE, "X-Remote-User", "mallory"));
        ScriptedBackend.Handshake seen = backend.handshake();
        assertEquals(List.of("alice"), seen.headers().get("X-Remote-User"), seen.headers().toString());
        assertNull(seen.header("X-Forwarded-User"));
        stopAll();

        startProtected(Map.of("userHeader", ""));
        client.connect(container.wss("/wsapp/me"), Map.of("Authorization", ALICE));
        assertNull(backend.handshake().header("X-Forwarded-User"));
    }

    @Test
    void rfc7239ForwardedIsAppendedToTheClientsChain() throws Exception {
        start(Map.of("forwardedHeaders", "rfc7239"));
        client.connect(container.wss("/wsapp/f"), Map.of("Forwarded", "for=192.0.2.60;proto=http", "X-Forwarded-For", "1.2.3.4"));
        ScriptedBackend.Handshake seen = backend.handshake();
        assertEquals("for=192.0.2.60;proto=http, for=127.0.0.1;proto=https;host=\"localhost:" + container.tlsPort() + "\"",
                seen.header("Forwarded"));
        assertNull(seen.header("X-Forwarded-For"), "rfc7239 alone sends no X-Forwarded-*, and never the client's");
        assertNull(seen.header("X-Forwarded-Proto"));
        stopAll();

        start(Map.of("forwardedHeaders", "both"));
        client.connect(container.wss("/wsapp/f"));
        seen = backend.handshake();
        assertEquals("for=127.0.0.1;proto=https;host=\"localhost:" + container.tlsPort() + "\"", seen.header("Forwarded"));
        assertEquals("127.0.0.1", seen.header("X-Forwarded-For"));
    }

    @Test
    void theClientCertificateTakenByTheContainerIsForwarded() throws Exception {
        startWith(Map.of("clientCertHeader", "X-SSL-Client-Cert"), c -> c.wantClientCertificates(TestCerts.client()));
        SslContextFactory.Client tls = TestTls.clientTls();
        tls.setKeyStorePath(TestCerts.client().toString());
        tls.setKeyStorePassword(TestTls.PASSWORD);
        tls.setKeyStoreType("PKCS12");
        try (TestClient withCertificate = new TestClient(tls)) {
            withCertificate.connect(container.wss("/wsapp/cert"), Map.of("X-SSL-Client-Cert", "forged"));
            ScriptedBackend.Handshake seen = backend.handshake();
            assertEquals("CN=wsbridge-client", seen.header("X-SSL-Client-DN"), seen.headers().toString());
            assertEquals(1, seen.headers().get("X-SSL-Client-Cert").size());
            String pem = URLDecoder.decode(seen.header("X-SSL-Client-Cert"), StandardCharsets.UTF_8);
            assertTrue(pem.startsWith("-----BEGIN CERTIFICATE-----\n"), pem);
            X509Certificate sent = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            assertArrayEquals(clientCertificate().getEncoded(), sent.getEncoded());
        }
        // A client without a certificate is served, and its own claim to one is dropped.
        client.connect(container.wss("/wsapp/cert"), Map.of("X-SSL-Client-DN", "CN=admin", "X-SSL-Client-Cert", "forged"));
        ScriptedBackend.Handshake seen = backend.handshake();
        assertNull(seen.header("X-SSL-Client-DN"), seen.headers().toString());
        assertNull(seen.header("X-SSL-Client-Cert"));
    }

    private static X509Certificate clientCertificate() throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(TestCerts.client())) {
            store.load(in, TestTls.PASSWORD.toCharArray());
        }
        return (X509Certificate) store.getCertificate(store.aliases().nextElement());
    }

    @Test
    void theHttpLegSendsTheSameIdentity() throws Exception {
        try (HttpBackend http = new HttpBackend()) {
            Map<String, String> params = new HashMap<>();
            params.put("proxyTo", http.wsUri("/").toString());
            params.put("forwardedHeaders", "both");
            startProtected(params);
            String head = "GET /wsapp/echo/me HTTP/1.1\nHost: localhost:" + container.tlsPort() + "\nConnection: close\n"
                    + "Authorization: " + ALICE + "\nX-Forwarded-User: mallory\nForwarded: for=192.0.2.1";
            RawHttp.Response ok = RawHttp.exchange(container.tlsPort(), head, null);
            assertEquals(200, ok.status());
            HttpBackend.Exchange seen = http.exchange();
            assertEquals("alice", seen.header("X-Forwarded-User"), seen.headers().toString());
            assertEquals("for=192.0.2.1, for=127.0.0.1;proto=https;host=\"localhost:" + container.tlsPort() + "\"",
                    seen.header("Forwarded"));
            assertEquals("127.0.0.1", seen.header("X-Forwarded-For"));

            RawHttp.Response refused = RawHttp.exchange(container.tlsPort(),
                    "GET /wsapp/echo/anon HTTP/1.1\nHost: localhost\nConnection: close\nX-Forwarded-User: alice", null);
            assertEquals(401, refused.status());
        }
    }

    @Test
    void badIdentityParamsStopTheDeployment() throws Exception {
        for (Map<String, String> bad : List.of(Map.of("forwardedHeaders", "x-real-ip"), Map.of("userHeader", "X User"),
                Map.of("userHeader", "Host"), Map.of("clientCertHeader", "X-Forwarded-User"),
                Map.of("clientCertSubjectHeader", "Sec-WebSocket-Key"))) {
            start(bad);
            assertFalse(container.deployed(), bad.toString());
            stopAll();
        }
    }
}
