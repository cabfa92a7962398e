package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.junit.jupiter.api.Test;

/**
 * Backpressure across the bridge: a side that stops reading stops the writer on the other side (its
 * writes stop completing) instead of growing the proxy's memory; when it reads again, every message
 * arrives, in order.
 */
class FlowControlTest extends ContainerSuite {

    private static final int MESSAGES = 400;
    private static final int SIZE = 256 * 1024; // 100 MiB in all: far beyond every socket buffer on the way

    @Test
    void backendNotReadingHoldsTheClientBack() throws Exception {
        start();
        clientHeldBack(MESSAGES, SIZE);
    }

    /** Small frames gather in the backend leg's batch buffer, which must hold the client back just the same. */
    @Test
    void backendNotReadingHoldsBatchingClientBack() throws Exception {
        start(Map.of("backendBatching", "true"));
        clientHeldBack(100_000, 1000); // 100 MB in frames small enough to batch
    }

    private void clientHeldBack(int count, int size) throws Exception {
        backend.echo(false);
        Peer c = client.connect(container.wss("/wsapp/slow"));
        Peer b = backend.session();
        b.pause();
        byte[][] sent = stream(c.session(), count, size);
        AtomicInteger done = completions;
        int stalledAt = settle(done);
        assertTrue(stalledAt < count, "all " + count + " writes completed while the backend read nothing");
        b.resume();
        Await.until("all writes done", 60, () -> done.get() == count);
        for (byte[] m : sent) {
            assertArrayEquals(m, b.nextBinary());
        }
    }

    @Test
    void clientNotReadingHoldsTheBackendBack() throws Exception {
        start();
        backend.echo(false);
        Peer c = client.connect(container.wss("/wsapp/slow"));
        Peer b = backend.session();
        c.pause();
        byte[][] sent = stream(b.session(), MESSAGES, SIZE);
        AtomicInteger done = completions;
        int stalledAt = settle(done);
        assertTrue(stalledAt < MESSAGES, "all " + MESSAGES + " writes completed while the client read nothing");
        c.resume();
        Await.until("all writes done", 60, () -> done.get() == MESSAGES);
        for (byte[] m : sent) {
            assertArrayEquals(m, c.nextBinary());
        }
        assertEquals(0, c.pending().size());
    }

    private AtomicInteger completions;

    /** Writes {@code count} numbered binary messages back to back, each as soon as the previous one completes. */
    private byte[][] stream(Session session, int count, int size) {
        completions = new AtomicInteger();
        byte[][] messages = new byte[count][];
        for (int i = 0; i < count; i++) {
            messages[i] = new byte[size];
            ByteBuffer.wrap(messages[i]).putInt(i).putInt(size - 4, i);
        }
        // One thread, each write awaited: completions that come inline must not nest 100,000 deep.
        Thread sender = new Thread(() -> {
            for (byte[] m : messages) {
                CompletableFuture<Void> done = new CompletableFuture<>();
                session.sendBinary(ByteBuffer.wrap(m), Callback.from(() -> done.complete(null), done::completeExceptionally));
                try {
                    done.get(120, TimeUnit.SECONDS);
                } catch (Exception e) {
                    return; // the session ended or stayed stalled: the assertions say what was missing
                }
                completions.incrementAndGet();
            }
        }, "flow-control-sender");
        sender.setDaemon(true);
        sender.start();
        return messages;
    }

    /** Waits until the count stops moving for half a second, at most 30 s, and returns it. */
    private static int settle(AtomicInteger count) throws InterruptedException {
        int last = -1;
        for (int i = 0; i < 60; i++) {
            int now = count.get();
            if (now == last) {
                return now;
            }
            last = now;
            Thread.sleep(500);
        }
        return count.get();
    }
}
