package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawClient;
import dev.wsbridge.support.RawFrameBackend;
import dev.wsbridge.support.RawFrames;
import dev.wsbridge.support.ScriptedBackend;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.websocket.api.Callback;
import org.junit.jupiter.api.Test;

/** Faults that end sessions or handshakes: what each side sees, and that nothing is left open. */
class FaultTest extends ContainerSuite {

    @Test
    void wssBackendWithAnUntrustedCertificateIs502() throws Exception {
        try (ScriptedBackend untrusted = new ScriptedBackend(true)) {
            start(Map.of("proxyTo", untrusted.uri().toString()));
            assertEquals(502, RawClient.tls(container.tlsPort(), RawClient.upgrade("/wsapp/x", "localhost")).status());
            assertEquals(0, untrusted.handshakeCount());
        }
    }

    @Test
    void undeployMidMessageClosesBothLegsWith1001AfterTheDrainTimeAndDeliversNoHalfMessage() throws Exception {
        start(Map.of("drainTimeout", "500ms"));
        Peer c = client.connect(container.wss("/wsapp/mid"));
        Peer b = backend.session();
        partial(c, new byte[100_000], false);
        container.undeploy();
        assertEquals(1001, c.closed().code());
        assertEquals(1001, b.closed().code());
        assertTrue(b.pending().isEmpty(), "a half message reached the backend as whole");
    }

    @Test
    void undeployWithNothingInProgressClosesAtOnce() throws Exception {
        // A drain time far beyond the 15 s a peer waits for its close: only closing at once passes.
        start(Map.of("drainTimeout", "1m"));
        Peer c = client.connect(container.wss("/wsapp/idle"));
        Peer b = backend.session();
        c.send("before");
        assertEquals("before", c.nextText());
        container.undeploy();
        assertEquals(1001, c.closed().code());
        assertEquals(1001, b.closed().code());
    }

    @Test
    void undeployLetsTheClientsMessageInProgressFinishThenCloses() throws Exception {
        try (RawFrameBackend raw = new RawFrameBackend()) {
            start(Map.of("proxyTo", raw.uri().toString(), "drainTimeout", "1m"));
            try (RawClient.Upgraded c = RawClient.upgradeTls(container.tlsPort(), RawClient.upgrade("/wsapp/up", "localhost"))) {
                RawFrameBackend.Connection b = raw.connection();
                c.send(RawFrames.TEXT, false, 0, bytes("first half, "), true);
                assertFrame(b.readSkippingPongs(), RawFrames.TEXT, false, "first half, ");

                CompletableFuture<Void> undeployed = undeployWithAMessageInProgress();
                c.send(RawFrames.CONTINUATION, true, 0, bytes("second half"), true);

                assertFrame(b.readSkippingPongs(), RawFrames.CONTINUATION, true, "second half");
                assertEquals(1001, b.readSkippingPongs().closeCode());
                b.send(RawFrames.CLOSE, true, 0, RawFrames.close(1001, ""));
                assertEquals(1001, c.readData().closeCode());
                c.send(RawFrames.CLOSE, true, 0, RawFrames.close(1001, ""), true);
                Await.get(undeployed);
            }
        }
    }

    @Test
    void undeployLetsTheBackendsMessageInProgressFinishAndForwardsNothingNew() throws Exception {
        try (RawFrameBackend raw = new RawFrameBackend()) {
            start(Map.of("proxyTo", raw.uri().toString(), "drainTimeout", "1m"));
            try (RawClient.Upgraded c = RawClient.upgradeTls(container.tlsPort(), RawClient.upgrade("/wsapp/down", "localhost"))) {
                RawFrameBackend.Connection b = raw.connection();
                b.send(RawFrames.BINARY, false, 0, new byte[] {1, 2, 3});
                assertFrame(c.readData(), RawFrames.BINARY, false, new byte[] {1, 2, 3});

                CompletableFuture<Void> undeployed = undeployWithAMessageInProgress();
                c.send(RawFrames.TEXT, true, 0, bytes("late"), true);
                b.send(RawFrames.CONTINUATION, true, 0, new byte[] {4, 5});

                assertFrame(c.readData(), RawFrames.CONTINUATION, true, new byte[] {4, 5});
                assertEquals(1001, c.readData().closeCode());
                c.send(RawFrames.CLOSE, true, 0, RawFrames.close(1001, ""), true);
                RawFrames.Frame next = b.readSkippingPongs();
                assertEquals(RawFrames.CLOSE, next.opcode(), "a message that began while draining was forwarded");
                assertEquals(1001, next.closeCode());
                b.send(RawFrames.CLOSE, true, 0, RawFrames.close(1001, ""));
                Await.get(undeployed);
            }
        }
    }

    /** Time after an undeploy began by which the bridge has surely been told to drain. */
    private static final long DRAIN_START_MILLIS = 1000;

    /** Starts an undeploy; once it has surely told the bridge to drain, checks that it still waits. */
    private CompletableFuture<Void> undeployWithAMessageInProgress() throws InterruptedException {
        CompletableFuture<Void> undeployed = CompletableFuture.runAsync(this::undeploy);
        Thread.sleep(DRAIN_START_MILLIS);
        assertFalse(undeployed.isDone(), "undeploy did not wait for the message in progress");
        return undeployed;
    }

    private void undeploy() {
        try {
            container.undeploy();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static void assertFrame(RawFrames.Frame f, int opcode, boolean fin, String text) {
        assertFrame(f, opcode, fin, bytes(text));
    }

    private static void assertFrame(RawFrames.Frame f, int opcode, boolean fin, byte[] payload) {
        assertEquals(opcode, f.opcode(), "opcode");
        assertEquals(fin, f.fin(), "fin");
        assertArrayEquals(payload, f.payload(), "payload");
    }

    private static void partial(Peer p, byte[] bytes, boolean last) {
        CompletableFuture<Void> sent = new CompletableFuture<>();
        p.session().sendPartialBinary(ByteBuffer.wrap(bytes), last,
                Callback.from(() -> sent.complete(null), sent::completeExceptionally));
        Await.get(sent);
    }

    @Test
    void sessionsEndedByFaultsGiveTheirSlotsBack() throws Exception {
        start(Map.of("maxSessions", "2"));
        for (int round = 0; round < 3; round++) {
            Peer c1 = client.connect(container.wss("/wsapp/a"));
            Peer b1 = backend.session();
            Peer c2 = client.connect(container.wss("/wsapp/b"));
            Peer b2 = backend.session();
            c1.session().disconnect();
            b2.session().disconnect();
            assertEquals(1001, b1.closed().code());
            assertEquals(1014, c2.closed().code());
        }
        Await.until("both slots free again", 10, () -> {
            try {
                return RawClient.tls(container.tlsPort(), RawClient.upgrade("/wsapp/c", "localhost")).status() == 101;
            } catch (Exception e) {
                return false;
            }
        });
    }
}
