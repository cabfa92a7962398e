package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.LogCapture;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawClient;
import dev.wsbridge.support.RawFrameBackend;
import dev.wsbridge.support.RawFrames;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Per-hop policy a tunnel cannot apply: a session's longest life, the close code of a shutdown, the largest
 * message in each direction and a client's message rate, each with the close codes on both legs.
 */
class HopPolicyTest extends ContainerSuite {

    @Test
    void sessionLifetimeEndsTheSessionWith1001BothWays() throws Exception {
        try (LogCapture access = new LogCapture("dev.wsbridge.access")) {
            start(Map.of("maxSessionLifetime", "1s"));
            Peer c = client.connect(container.wss("/wsapp/life"));
            Peer b = backend.session();
            c.send("still here");
            assertEquals("still here", c.nextText());
            assertEquals(new Peer.Closed(1001, "Session lifetime reached"), c.closed());
            assertEquals(new Peer.Closed(1001, "Session lifetime reached"), b.closed());
            dev.wsbridge.support.Await.until("the access-log line", 10, () -> !access.lines().isEmpty());
            assertTrue(access.lines().get(0).contains("ended_by=limit"), access.lines().toString());
            assertTrue(access.lines().get(0).contains("reason=\"session lifetime\""), access.lines().toString());
        }
    }

    @Test
    void shutdownCanSay1012ServiceRestart() throws Exception {
        start(Map.of("shutdownCloseCode", "1012"));
        Peer c = client.connect(container.wss("/wsapp/restart"));
        Peer b = backend.session();
        container.undeploy();
        assertEquals(new Peer.Closed(1012, "Server restarting"), c.closed());
        assertEquals(new Peer.Closed(1012, "Server restarting"), b.closed());
    }

    @Test
    void clientMessageLimitLeavesTheBackendsAlone() throws Exception {
        start(Map.of("maxClientMessageSize", "1KiB"));
        Peer c = client.connect(container.wss("/wsapp/sizes"));
        Peer b = backend.session();
        b.send(new byte[4096]);
        assertEquals(4096, c.nextBinary().length, "a backend message over the client limit passes");
        c.send(new byte[1024]);
        assertEquals(1024, b.nextBinary().length, "a client message at the limit passes");
        c.session().sendBinary(java.nio.ByteBuffer.wrap(new byte[1025]), org.eclipse.jetty.websocket.api.Callback.NOOP);
        assertEquals(1009, c.closed().code());
        assertEquals(1001, b.closed().code());
    }

    @Test
    void backendMessageLimitIs1014ToTheClientAnd1009ToTheBackend() throws Exception {
        start(Map.of("maxBackendMessageSize", "1KiB"));
        Peer c = client.connect(container.wss("/wsapp/sizes"));
        Peer b = backend.session();
        c.send(new byte[4096]);
        assertEquals(4096, b.nextBinary().length, "a client message over the backend limit passes");
        // Not awaited: the bridge may close the session before the send is reported done.
        b.session().sendBinary(java.nio.ByteBuffer.wrap(new byte[1025]), org.eclipse.jetty.websocket.api.Callback.NOOP);
        assertEquals(1014, c.closed().code());
        assertEquals(1009, b.closed().code());
    }

    @Test
    void clientOverItsMessageRateGets1008AndTheBackend1001() throws Exception {
        start(Map.of("maxClientMessageRate", "5"));
        backend.echo(false);
        Peer c = client.connect(container.wss("/wsapp/rate"));
        Peer b = backend.session();
        for (int i = 0; i < 50; i++) {
            try {
                c.send("m" + i);
            } catch (AssertionError closedUnderIt) {
                // The bridge closed the session as the limit was crossed.
                break;
            }
        }
        Peer.Closed closed = c.closed();
        assertEquals(1008, closed.code(), closed.toString());
        assertEquals(1001, b.closed().code());
        int received = b.pending().size();
        assertTrue(received >= 5 && received < 50, received + " messages reached the backend");
        for (int i = 0; i < received; i++) {
            assertEquals("m" + i, b.nextText());
        }
    }

    @Test
    void clientThatStopsAnsweringPingsIsNoticedAndTheBackendGets1001() throws Exception {
        try (LogCapture access = new LogCapture("dev.wsbridge.access")) {
            start(Map.of("clientPingInterval", "300ms", "clientPingTimeout", "500ms"));
            // A raw client that reads nothing, so answers no ping, and keeps its TCP connection open.
            try (RawClient.Upgraded c = RawClient.upgradeTls(container.tlsPort(), RawClient.upgrade("/wsapp/mute", "localhost"))) {
                Peer b = backend.session();
                assertEquals(1001, b.closedWithin(10).code());
                dev.wsbridge.support.Await.until("the access-log line", 10, () -> !access.lines().isEmpty());
                assertTrue(access.lines().get(0).contains("ended_by=client"), access.lines().toString());
                assertTrue(access.lines().get(0).contains("client did not answer a ping within 500 ms"), access.lines().toString());
            }
        }
    }

    @Test
    void clientThatAnswersPingsStaysAndPingsDoNotHoldOffTheIdleTimeout() throws Exception {
        start(Map.of("clientPingInterval", "200ms", "clientPingTimeout", "400ms", "idleTimeout", "2s"));
        try (RawClient.Upgraded c = RawClient.upgradeTls(container.tlsPort(), RawClient.upgrade("/wsapp/alive", "localhost"))) {
            Peer b = backend.session();
            int pings = 0;
            RawFrames.Frame f;
            // Answer every ping until the session idles out: pings and pongs are not traffic to the idle timeout.
            while ((f = c.read()).opcode() == RawFrames.PING) {
                pings++;
                c.send(RawFrames.PONG, true, 0, f.payload(), true);
            }
            assertEquals(RawFrames.CLOSE, f.opcode());
            assertEquals(1001, f.closeCode());
            assertTrue(pings >= 3, pings + " pings before the idle timeout");
            assertEquals(1001, b.closed().code());
        }
    }

    /**
     * Many clients answering frequent pings at once, so that a pong often arrives while the thread that wrote
     * its ping is still on its way out of the flush: none may be taken for dead. (A ping timed after its flush
     * made such a pong look earlier than the ping, and the session ended as "did not answer".)
     */
    @Test
    void clientsAnsweringEveryPingAreNeverTakenForDead() throws Exception {
        start(Map.of("clientPingInterval", "20ms", "clientPingTimeout", "1s"));
        int clients = 24;
        java.util.List<RawClient.Upgraded> raw = new java.util.ArrayList<>();
        java.util.List<Thread> answering = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger pings = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.ConcurrentLinkedQueue<String> ended = new java.util.concurrent.ConcurrentLinkedQueue<>();
        try {
            for (int i = 0; i < clients; i++) {
                RawClient.Upgraded c = RawClient.upgradeTls(container.tlsPort(), RawClient.upgrade("/wsapp/p" + i, "localhost"));
                raw.add(c);
                Thread t = new Thread(() -> {
                    try {
                        while (true) {
                            RawFrames.Frame f = c.read();
                            if (f.opcode() != RawFrames.PING) {
                                ended.add("opcode " + f.opcode() + " code " + f.closeCode());
                                return;
                            }
                            pings.incrementAndGet();
                            c.send(RawFrames.PONG, true, 0, f.payload(), true);
                        }
                    } catch (java.io.IOException e) {
                        ended.add(e.toString());
                    }
                }, "pong-" + i);
                t.setDaemon(true);
                t.start();
                answering.add(t);
            }
            Thread.sleep(Long.getLong("wsbridge.test.pingSeconds", 3) * 1000);
            assertTrue(ended.isEmpty(), ended.size() + " of " + clients + " sessions ended after " + pings.get()
                    + " pings: " + ended);
            assertTrue(pings.get() > clients * 20, pings.get() + " pings");
        } finally {
            for (RawClient.Upgraded c : raw) {
                c.close();
            }
        }
    }

    @Test
    void backendThatStopsAnsweringPingsIsNoticedAndTheClientGets1014() throws Exception {
        try (RawFrameBackend raw = new RawFrameBackend()) {
            start(Map.of("proxyTo", raw.uri().toString(), "backendPingInterval", "300ms", "backendPingTimeout", "500ms",
                    "clientPingInterval", "0"));
            Peer c = client.connect(container.wss("/wsapp/deaf"));
            raw.connection();
            Peer.Closed closed = c.closedWithin(10);
            assertEquals(new Peer.Closed(1014, "Backend stopped answering pings"), closed);
        }
    }

    @Test
    void backendThatAnswersPingsStays() throws Exception {
        start(Map.of("backendPingInterval", "200ms", "backendPingTimeout", "400ms"));
        Peer c = client.connect(container.wss("/wsapp/steady"));
        backend.session();
        Thread.sleep(1500);
        c.send("after pings");
        assertEquals("after pings", c.nextText());
        assertFalse(c.isClosed());
    }

    @Test
    void pingsAndPongsCrossTheBridgeWhenForwarded() throws Exception {
        try (RawFrameBackend raw = new RawFrameBackend()) {
            start(Map.of("proxyTo", raw.uri().toString(), "forwardPings", "true", "clientPingInterval", "0"));
            try (RawClient.Upgraded c = RawClient.upgradeTls(container.tlsPort(), RawClient.upgrade("/wsapp/pp", "localhost"))) {
                RawFrameBackend.Connection b = raw.connection();
                c.send(RawFrames.PING, true, 0, bytes("from the client"), true);
                assertFrame(b.read(), RawFrames.PING, "from the client");
                b.send(RawFrames.PONG, true, 0, bytes("from the client"));
                assertFrame(c.read(), RawFrames.PONG, "from the client");
                b.send(RawFrames.PING, true, 0, bytes("from the backend"));
                assertFrame(c.read(), RawFrames.PING, "from the backend");
                c.send(RawFrames.PONG, true, 0, bytes("from the backend"), true);
                assertFrame(b.read(), RawFrames.PONG, "from the backend");
            }
        }
    }

    @Test
    void pingsAreAnsweredPerHopByDefault() throws Exception {
        try (RawFrameBackend raw = new RawFrameBackend()) {
            start(Map.of("proxyTo", raw.uri().toString(), "clientPingInterval", "0"));
            try (RawClient.Upgraded c = RawClient.upgradeTls(container.tlsPort(), RawClient.upgrade("/wsapp/pp", "localhost"))) {
                RawFrameBackend.Connection b = raw.connection();
                c.send(RawFrames.PING, true, 0, bytes("to the bridge"), true);
                assertFrame(c.read(), RawFrames.PONG, "to the bridge");
                c.send(RawFrames.TEXT, true, 0, bytes("after"), true);
                assertFrame(b.read(), RawFrames.TEXT, "after");
                b.send(RawFrames.PING, true, 0, bytes("to the bridge too"));
                assertFrame(b.read(), RawFrames.PONG, "to the bridge too");
                b.sendText("then");
                assertFrame(c.read(), RawFrames.TEXT, "then");
            }
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void assertFrame(RawFrames.Frame f, int opcode, String payload) {
        assertEquals(opcode, f.opcode(), f.toString());
        assertEquals(payload, new String(f.payload(), java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void badShutdownCloseCodeStopsTheDeployment() throws Exception {
        start(Map.of("shutdownCloseCode", "1000"));
        assertFalse(container.deployed());
    }
}
