package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import java.nio.ByteBuffer;
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
        backend.echo(false);
        Peer c = client.connect(container.wss("/wsapp/slow"));
        Peer b = backend.session();
        b.pause();
        byte[][] sent = stream(c.session());
        AtomicInteger done = completions;
        int stalledAt = settle(done);
        assertTrue(stalledAt < MESSAGES, "all " + MESSAGES + " writes completed while the backend read nothing");
        b.resume();
        Await.until("all writes done", 60, () -> done.get() == MESSAGES);
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
        byte[][] sent = stream(b.session());
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

    /** Writes MESSAGES numbered binary messages back to back, each as soon as the previous one completes. */
    private byte[][] stream(Session session) {
        completions = new AtomicInteger();
        byte[][] messages = new byte[MESSAGES][];
        for (int i = 0; i < MESSAGES; i++) {
            messages[i] = new byte[SIZE];
            ByteBuffer.wrap(messages[i]).putInt(i).putInt(SIZE - 4, i);
        }
        sendFrom(session, messages, 0);
        return messages;
    }

    private void sendFrom(Session session, byte[][] messages, int i) {
        if (i == messages.length) {
            return;
        }
        session.sendBinary(ByteBuffer.wrap(messages[i]), Callback.from(() -> {
            completions.incrementAndGet();
            sendFrom(session, messages, i + 1);
        }, x -> { }));
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
