package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawBackend;
import dev.wsbridge.support.RawClient;
import dev.wsbridge.support.RawClient.Head;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every row of the handshake table (DESIGN §3): what the client gets for each situation. */
class HandshakeTest extends ContainerSuite {

    private String host() {
        return "localhost:" + container.tlsPort();
    }

    private Head tls(String path, String... extra) throws Exception {
        return RawClient.tls(container.tlsPort(), RawClient.upgrade(path, host(), extra));
    }

    @Test
    void backendAnswered101GivesTheClient101() throws Exception {
        start();
        Head head = tls("/wsapp/ok");
        assertEquals(101, head.status());
        assertEquals("/ok", backend.handshake().pathAndQuery());
    }

    @Test
    void backendRefusalKeepsItsStatusAndAuthenticateHeader() throws Exception {
        start();
        backend.refuse(401, Map.of("WWW-Authenticate", "Bearer realm=\"chat\"", "X-Internal", "secret"));
        Head head = tls("/wsapp/private");
        assertEquals(401, head.status());
        assertEquals("Bearer realm=\"chat\"", head.header("WWW-Authenticate"));
        assertEquals(null, head.header("X-Internal"));
    }

    @ParameterizedTest
    @ValueSource(ints = {403, 404, 503})
    void otherBackendRefusalsKeepTheirStatus(int status) throws Exception {
        start();
        backend.refuse(status, Map.of("Retry-After", "7"));
        Head head = tls("/wsapp/x");
        assertEquals(status, head.status());
        assertEquals("7", head.header("Retry-After"));
    }

    @Test
    void refusedConnectionIs502() throws Exception {
        start(Map.of("proxyTo", RawBackend.refusedUri().toString()));
        assertEquals(502, tls("/wsapp/x").status());
    }

    @Test
    void unresolvableHostIs502() throws Exception {
        start(Map.of("proxyTo", "ws://no-such-host.invalid:8080/"));
        assertEquals(502, tls("/wsapp/x").status());
    }

    @Test
    void backendThatNeverAnswersIs504() throws Exception {
        try (RawBackend silent = RawBackend.neverAnswers()) {
            start(Map.of("proxyTo", silent.uri().toString(), "upgradeTimeout", "1s"));
            assertEquals(504, tls("/wsapp/x").status());
            assertEquals(1, silent.acceptedCount());
        }
    }

    @Test
    void fullRouteIs503WithRetryAfter() throws Exception {
        start(Map.of("maxSessions", "1"));
        Peer first = client.connect(container.wss("/wsapp/one"));
        Head head = tls("/wsapp/two");
        assertEquals(503, head.status());
        assertTrue(head.header("Retry-After") != null);
        first.close(1000, "done");
        first.closed();
        Await.until("slot released", 10, () -> {
            try {
                return tls("/wsapp/three").status() == 101;
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void tooManyPendingHandshakesIs503() throws Exception {
        try (RawBackend silent = RawBackend.neverAnswers()) {
            start(Map.of("proxyTo", silent.uri().toString(), "maxPendingHandshakes", "1", "upgradeTimeout", "10s"));
            CompletableFuture<Head> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return tls("/wsapp/slow");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Await.until("first handshake at the backend", 10, () -> silent.acceptedCount() == 1);
            Head second = tls("/wsapp/next");
            assertEquals(503, second.status());
            assertTrue(second.header("Retry-After") != null);
            assertEquals(504, Await.get(waiting, 30).status());
        }
    }

    @Test
    void plainWsIsRefusedWhenWssIsRequired() throws Exception {
        start();
        Head head = RawClient.plain(container.plainPort(), RawClient.upgrade("/wsapp/x", "localhost"));
        assertEquals(403, head.status());
        assertTrue(head.body().contains("wss"), head.body());
        assertEquals(0, backend.handshakeCount());
    }

    @Test
    void plainWsIsAcceptedWhenAllowed() throws Exception {
        start(Map.of("allowPlainWs", "true"));
        Peer c = client.connect(container.ws("/wsapp/dev"));
        c.send("plain");
        assertEquals("plain", c.nextText());
        assertEquals("http", backend.handshake().header("X-Forwarded-Proto"));
    }

    @Test
    void foreignOriginIsRefused() throws Exception {
        start();
        assertEquals(403, tls("/wsapp/x", "Origin: https://evil.example").status());
        assertEquals(403, tls("/wsapp/x", "Origin: https://localhost:1").status());
        assertEquals(0, backend.handshakeCount());
    }

    @Test
    void sameHostOriginAndListedOriginsPass() throws Exception {
        start(Map.of("allowedOrigins", "https://app.example.com, https://other.example"));
        assertEquals(101, tls("/wsapp/x", "Origin: https://" + host()).status());
        assertEquals(101, tls("/wsapp/x", "Origin: https://APP.example.com").status());
        assertEquals(403, tls("/wsapp/x", "Origin: https://app.example.com.evil").status());
        assertEquals("https://" + host(), backend.handshake().header("Origin"));
    }

    @Test
    void notAnUpgradeIs426WhenHttpProxyIsOff() throws Exception {
        start(Map.of("httpProxy", "false"));
        Head head = RawClient.tls(container.tlsPort(), "GET /wsapp/x HTTP/1.1\r\nHost: " + host() + "\r\n\r\n");
        assertEquals(426, head.status());
        assertEquals("websocket", head.header("Upgrade"));
    }

    @Test
    void wrongVersionIs426WithTheSupportedVersion() throws Exception {
        start();
        String request = RawClient.upgrade("/wsapp/x", host()).replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8");
        Head head = RawClient.tls(container.tlsPort(), request);
        assertEquals(426, head.status());
        assertEquals("13", head.header("Sec-WebSocket-Version"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"missing-key", "short-key", "no-connection-upgrade", "post"})
    void malformedUpgradeIs400(String defect) throws Exception {
        start();
        String request = RawClient.upgrade("/wsapp/x", host());
        request = switch (defect) {
            case "missing-key" -> request.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
            case "short-key" -> request.replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=");
            case "no-connection-upgrade" -> request.replace("Connection: Upgrade", "Connection: keep-alive");
            default -> request.replace("GET ", "POST ").replace("\r\n\r\n", "\r\nContent-Length: 0\r\n\r\n");
        };
        assertEquals(400, RawClient.tls(container.tlsPort(), request).status());
        assertEquals(0, backend.handshakeCount());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/wsapp/a/..;/x", "/wsapp/a%2f..%2fx", "/wsapp/a/%252e%252e/x", "/wsapp//x", "/wsapp/a%5c..%5cx"})
    void pathEscapesNeverReachTheBackend(String path) throws Exception {
        start();
        Head head = tls(path);
        assertNotEquals(101, head.status());
        assertTrue(head.status() == 400 || head.status() == 404, "status " + head.status());
        assertEquals(0, backend.handshakeCount());
    }
}
