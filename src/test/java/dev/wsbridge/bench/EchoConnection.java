package dev.wsbridge.bench;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/**
 * One generator connection that keeps {@code window} messages in flight: each echo is checked against the
 * message due next (content and order), then answered with a new message while the run is sending. Jetty
 * delivers its messages one at a time (it demands the next only after handling one).
 */
public final class EchoConnection implements Session.Listener {

    private final long id;
    private final int window;
    private final Payloads payloads;
    private final EchoRun run;
    private final long[] sentAt;
    private final CompletableFuture<Session> opened = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private Session session;
    private long sent;
    private long received;
    private long[] latencies = new long[256];
    private int latencyCount;

    EchoConnection(long id, int window, Payloads payloads, EchoRun run) {
        this.id = id;
        this.window = window;
        this.payloads = payloads;
        this.run = run;
        this.sentAt = new long[window];
    }

    CompletableFuture<Session> opened() {
        return opened;
    }

    CompletableFuture<Void> closed() {
        return closed;
    }

    /** Sends the first {@code window} messages. */
    void start() {
        for (int i = 0; i < window; i++) {
            send();
        }
    }

    /** Under the lock so that sequence numbers leave in order. */
    private synchronized void send() {
        long seq = sent++;
        sentAt[(int) (seq % window)] = System.nanoTime();
        session.sendBinary(payloads.message(id, seq),
                Callback.from(() -> { }, failure -> run.fail("connection [" + id + "]: send failed: " + failure)));
    }

    synchronized long outstanding() {
        return sent - received;
    }

    synchronized long[] latencies() {
        return Arrays.copyOf(latencies, latencyCount);
    }

    void close() {
        session.close(1000, "done", Callback.NOOP);
    }

    @Override
    public synchronized String toString() {
        return "EchoConnection[" + id + ", " + payloads.size() + " B, sent " + sent + ", received " + received + "]";
    }

    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        opened.complete(session);
        session.demand();
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        long now = System.nanoTime();
        long seq;
        long rtt;
        synchronized (this) {
            seq = received;
            rtt = now - sentAt[(int) (seq % window)];
        }
        int size = payload.remaining();
        String problem = payloads.check(payload, id, seq);
        callback.succeed();
        if (problem != null) {
            run.fail("connection [" + id + "] message [" + seq + "]: " + problem);
            return;
        }
        synchronized (this) {
            received++;
            if (run.measuring && run.latency) {
                if (latencyCount == latencies.length) {
                    latencies = Arrays.copyOf(latencies, latencyCount * 2);
                }
                latencies[latencyCount++] = rtt;
            }
        }
        if (run.measuring) {
            run.messages.increment();
            run.bytes.add(size);
        }
        if (run.sending) {
            send();
        }
        session.demand();
    }

    @Override
    public void onWebSocketText(String message) {
        run.fail("connection [" + id + "]: a text message arrived where only binary was sent");
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, Callback callback) {
        callback.succeed();
        if (!run.closing) {
            run.fail("connection [" + id + "] closed during the run: " + statusCode + " [" + reason + "]");
        }
        closed.complete(null);
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        if (!run.closing) {
            run.fail("connection [" + id + "] failed: " + cause);
        }
        opened.completeExceptionally(cause);
        closed.complete(null);
    }
}
