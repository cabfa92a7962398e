package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.LogCapture;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawClient;
import dev.wsbridge.support.ScriptedBackend;
import dev.wsbridge.support.TestCerts;
import dev.wsbridge.support.TestTls;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * TLS toward {@code wss://} backends from init-params alone: a trust store of the backend's own CA, a client
 * certificate for mutual TLS, host name verification and SNI, and failover past a backend whose TLS fails.
 */
class BackendTlsTest extends ContainerSuite {

    /** Trusts the test certificate, which names localhost and 127.0.0.1. */
    private static Map<String, String> trusting(String store) {
        Map<String, String> params = new HashMap<>();
        params.put("backendTrustStore", store);
        params.put("backendTrustStorePassword", "${sys:wsbridge.test.trust.password}");
        return params;
    }

    private int status(String path) throws Exception {
        return RawClient.tls(container.tlsPort(), RawClient.upgrade(path, "localhost")).status();
    }

    @Test
    void backendWithItsOwnCaWorksWithTheTrustStoreAndGetsSni() throws Exception {
        System.setProperty("wsbridge.test.trust.password", TestTls.PASSWORD);
        try (ScriptedBackend tls = new ScriptedBackend(true)) {
            Map<String, String> params = trusting(TestTls.keystore().toString());
            params.put("proxyTo", tls.uri().toString());
            start(params);

            Peer c = client.connect(container.wss("/wsapp/secure"));
            c.send("over wss");

            assertEquals("over wss", c.nextText());
            assertEquals(List.of("localhost"), tls.serverNames());
        } finally {
            System.clearProperty("wsbridge.test.trust.password");
        }
    }

    @Test
    void wrongTrustStoreGives502AndSaysWhy() throws Exception {
        try (ScriptedBackend tls = new ScriptedBackend(true); LogCapture log = new LogCapture("dev.wsbridge.backend")) {
            start(Map.of("proxyTo", tls.uri().toString(), "backendTrustStore", TestCerts.otherHost().toString(),
                    "backendTrustStorePassword", TestTls.PASSWORD));

            assertEquals(502, status("/wsapp/x"));

            assertEquals(0, tls.handshakeCount());
            assertTrue(log.has(Level.WARNING, "TLS handshake with backend [" + tls.uri() + "] failed:"), log.lines().toString());
        }
    }

    @Test
    void hostNameMismatchIsRefusedUnlessVerificationIsOff() throws Exception {
        try (ScriptedBackend other = new ScriptedBackend(TestCerts.server(TestCerts.otherHost()))) {
            Map<String, String> params = trusting(TestCerts.otherHost().toString());
            params.put("backendTrustStorePassword", TestTls.PASSWORD);
            // By address: no SNI is sent, so the backend's own check of SNI against its certificate stays out of it.
            params.put("proxyTo", "wss://127.0.0.1:" + other.port() + "/");
            start(params);
            assertEquals(502, status("/wsapp/x"));
            assertEquals(0, other.handshakeCount());
            container.close();

            try (LogCapture log = new LogCapture("dev.wsbridge.server")) {
                params.put("backendHostnameVerification", "false");
                container = kind.create();
                container.start(params, Map.of());
                assertEquals(101, status("/wsapp/y"));
                assertEquals("/y", other.handshake().pathAndQuery());
                assertTrue(log.has(Level.WARNING, "backendHostnameVerification is false"), log.lines().toString());
            }
        }
    }

    @Test
    void mutualTlsBackendGetsTheClientCertificate() throws Exception {
        try (ScriptedBackend mutual = new ScriptedBackend(TestCerts.mutual(TestCerts.client()))) {
            Map<String, String> params = trusting(TestTls.keystore().toString());
            params.put("backendTrustStorePassword", TestTls.PASSWORD);
            params.put("proxyTo", mutual.uri().toString());
            start(params);
            assertEquals(502, status("/wsapp/no-certificate"));
            assertEquals(0, mutual.handshakeCount());
            container.close();

            params.put("backendKeyStore", TestCerts.client().toString());
            params.put("backendKeyStorePassword", TestTls.PASSWORD);
            container = kind.create();
            container.start(params, Map.of());
            Peer c = client.connect(container.wss("/wsapp/certified"));
            c.send("mutual");
            assertEquals("mutual", c.nextText());
        }
    }

    @Test
    void backendWhoseTlsFailsIsSkipped() throws Exception {
        try (ScriptedBackend wrongName = new ScriptedBackend(TestCerts.server(TestCerts.otherHost()));
                ScriptedBackend good = new ScriptedBackend(true)) {
            Map<String, String> params = trusting(TestTls.keystore().toString());
            params.put("backendTrustStorePassword", TestTls.PASSWORD);
            params.put("proxyTo", wrongName.uri() + ", " + good.uri());
            start(params);

            assertEquals(101, status("/wsapp/a"));
            assertEquals(101, status("/wsapp/b"));

            assertEquals(0, wrongName.handshakeCount());
            assertEquals(2, good.handshakeCount());
        }
    }

    @Test
    void unreadableTrustStoreStopsTheDeploymentNamingIt() throws Exception {
        try (LogCapture log = new LogCapture("dev.wsbridge.server.RouteCheck")) {
            start(Map.of("backendTrustStore", "target/no-such-store.p12"));

            assertFalse(container.deployed());
            assertTrue(log.has(Level.SEVERE, "init-param [backendTrustStore] has value [target/no-such-store.p12]"),
                    log.lines().toString());
        }
    }

    @Test
    void wrongKeyStorePasswordStopsTheDeploymentNamingIt() throws Exception {
        try (LogCapture log = new LogCapture("dev.wsbridge.server.RouteCheck")) {
            start(Map.of("backendKeyStore", TestCerts.client().toString(), "backendKeyStorePassword", "wrong"));

            assertFalse(container.deployed());
            assertTrue(log.has(Level.SEVERE, "init-param [backendKeyStore] has value ["), log.lines().toString());
        }
    }
}
