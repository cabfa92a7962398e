package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.BridgeContainer;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.Peer.Closed;
import dev.wsbridge.support.RawClient;
import java.net.URI;
import java.util.Map;
import org.eclipse.jetty.websocket.api.Callback;
import org.junit.jupiter.api.Test;

/** Every way a session ends, and the close each side sees (DESIGN §3, "Messages and closes"). */
class CloseMappingTest extends ContainerSuite {

    private Peer clientPeer;
    private Peer backendPeer;

    private void open(Map<String, String> params) throws Exception {
        start(params);
        clientPeer = client.connect(container.wss("/wsapp/s"));
        backendPeer = backend.session();
        clientPeer.send("ping");
        assertEquals("ping", clientPeer.nextText());
    }

    private void open() throws Exception {
        open(Map.of());
    }

    @Test
    void clientCloseCodeAndReasonReachTheBackend() throws Exception {
        open();
        clientPeer.close(4001, "bye now ✓");
        assertEquals(new Closed(4001, "bye now ✓"), backendPeer.closed());
        assertEquals(4001, clientPeer.closed().code());
    }

    @Test
    void backendCloseCodeAndReasonReachTheClient() throws Exception {
        open();
        backendPeer.close(4002, "later");
        assertEquals(new Closed(4002, "later"), clientPeer.closed());
        assertEquals(4002, backendPeer.closed().code());
    }

    @Test
    void longestReasonCrossesIntact() throws Exception {
        open();
        String reason = "é".repeat(61) + "x"; // 123 bytes of UTF-8
        backendPeer.close(1000, reason);
        assertEquals(new Closed(1000, reason), clientPeer.closed());
    }

    @Test
    void emptyCloseFromTheClientIsAnEmptyCloseToTheBackend() throws Exception {
        open();
        clientPeer.session().close(1005, null, Callback.NOOP);
        assertEquals(1005, backendPeer.closed().code());
    }

    @Test
    void emptyCloseFromTheBackendReachesTheClient() throws Exception {
        open();
        backendPeer.session().close(1005, null, Callback.NOOP);
        assertEquals(1005, clientPeer.closed().code());
    }

    @Test
    void backendVanishingIs1014ToTheClient() throws Exception {
        open();
        backendPeer.session().disconnect();
        assertEquals(1014, clientPeer.closed().code());
    }

    @Test
    void backendStoppingIs1014OrItsGoingAwayToTheClient() throws Exception {
        open();
        backend.close();
        int code = clientPeer.closed().code();
        assertTrue(code == 1014 || code == 1001, "code " + code);
    }

    @Test
    void clientVanishingIs1001ToTheBackend() throws Exception {
        open();
        clientPeer.session().disconnect();
        assertEquals(1001, backendPeer.closed().code());
    }

    @Test
    void clientMessageTooBigIs1009ToTheClientAnd1001ToTheBackend() throws Exception {
        open(Map.of("maxMessageSize", "1KiB"));
        clientPeer.send(new byte[2048]);
        assertEquals(1009, clientPeer.closed().code());
        assertEquals(1001, backendPeer.closed().code());
    }

    @Test
    void backendMessageTooBigIs1009ToTheBackendAnd1014ToTheClient() throws Exception {
        open(Map.of("maxMessageSize", "1KiB"));
        backendPeer.send("x".repeat(2048));
        assertEquals(1009, backendPeer.closed().code());
        assertEquals(1014, clientPeer.closed().code());
    }

    @Test
    void messagesAtTheLimitPass() throws Exception {
        open(Map.of("maxMessageSize", "1KiB"));
        clientPeer.send(new byte[1024]);
        assertEquals(1024, clientPeer.nextBinary().length);
        clientPeer.send("é".repeat(512));
        assertEquals("é".repeat(512), clientPeer.nextText());
    }

    @Test
    void idleSessionsCloseWith1001OnBothLegs() throws Exception {
        open(Map.of("idleTimeout", "1s"));
        assertEquals(1001, clientPeer.closed().code());
        assertEquals(1001, backendPeer.closed().code());
    }

    /**
     * The route's idleTimeout governs a session, not the container's timeouts: Jetty's connectors time out
     * connections idle for 30 s by default, and Jetty carries a Servlet upgrade in an asynchronous request that
     * times out after 30 s; neither may end a session (idle, or held back by a backend that stopped reading,
     * which is as quiet to the container).
     */
    @Test
    void sessionsOutliveTheContainersTimeouts() throws Exception {
        start(Map.of(), java.time.Duration.ofMillis(500));
        clientPeer = client.connect(container.wss("/wsapp/s"));
        backendPeer = backend.session();
        // Past Jetty's default asynchronous request timeout (Tomcat has none on an upgraded connection).
        Thread.sleep(kind == BridgeContainer.Kind.JETTY ? 31_000 : 1500);
        clientPeer.send("after a quiet while");
        assertEquals("after a quiet while", clientPeer.nextText());
        assertFalse(clientPeer.isClosed());
        assertFalse(backendPeer.isClosed());
    }

    /** RFC 6455 §7.1.1: once the close handshake is done, the server closes the TCP connection, at once. */
    @Test
    void theServerClosesTheConnectionAfterTheCloseHandshake() throws Exception {
        start();
        try (RawClient.Upgraded c = RawClient.upgradeTls(container.tlsPort(),
                RawClient.upgrade("/wsapp/tcp", "localhost:" + container.tlsPort()))) {
            assertEquals(101, c.head().status());
            backendPeer = backend.session();
            c.send(dev.wsbridge.support.RawFrames.CLOSE, true, 0, new byte[] {0x03, (byte) 0xE8}, true);

            assertEquals(dev.wsbridge.support.RawFrames.CLOSE, c.readData().opcode());
            c.socket().setSoTimeout(5000);
            assertEquals(-1, c.socket().getInputStream().read(), "the connection was not closed");
        }
    }

    @Test
    void closedSessionsGiveTheirSlotBackWithoutWaitingForTheCloseTimeout() throws Exception {
        start(Map.of("maxSessions", "1", "closeTimeout", "1m"));
        for (int i = 0; i < 20; i++) {
            URI uri = container.wss("/wsapp/slot" + i);
            // A slot still held by the previous session is a 503 until the close timeout, a minute away.
            Await.until("session " + i + " admitted", 10, () -> {
                try {
                    return RawClient.tls(container.tlsPort(), RawClient.upgrade(uri.getPath(), "localhost")).status() == 101;
                } catch (Exception e) {
                    return false;
                }
            });
            Await.until("probe released", 10, () -> backend.handshakeCount() == 0 || drain());
            Peer c = client.connect(uri);
            for (int m = 0; m < 10; m++) {
                c.send("echo in flight " + m);
            }
            c.close(1000, "while echoes are in flight");
            c.closed();
        }
    }

    private boolean drain() {
        backend.handshake();
        return backend.handshakeCount() == 0;
    }

    @Test
    void undeployClosesBothLegsWith1001() throws Exception {
        open();
        container.undeploy();
        assertEquals(1001, clientPeer.closed().code());
        assertEquals(1001, backendPeer.closed().code());
    }
}
