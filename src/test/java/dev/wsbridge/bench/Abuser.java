package dev.wsbridge.bench;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/**
 * A misbehaving generator session: either it never reads ({@code flood == null}), or it sends 64 KiB
 * messages back to back, one write in flight, counting the bytes its writes completed.
 */
public final class Abuser implements Session.Listener {

    private static final byte[] MESSAGE = new byte[BenchBackend.FLOOD_MESSAGE];

    private final ExecutorService flood;
    private final LongAdder written;
    private final CompletableFuture<Session> opened = new CompletableFuture<>();
    private volatile Session session;
    private volatile boolean stopped;

    /** A session that never reads. */
    Abuser() {
        this(null, null);
    }

    /** A session that sends without pause through {@code flood}, adding what it wrote to {@code written}. */
    Abuser(ExecutorService flood, LongAdder written) {
        this.flood = flood;
        this.written = written;
    }

    CompletableFuture<Session> opened() {
        return opened;
    }

    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        opened.complete(session);
        if (flood != null) {
            session.demand();
            flood.execute(this::sendNext);
        }
    }

    private void sendNext() {
        if (!stopped && session.isOpen()) {
            session.sendBinary(ByteBuffer.wrap(MESSAGE), Callback.from(() -> {
                written.add(MESSAGE.length);
                flood.execute(this::sendNext);
            }, failure -> { }));
        }
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        callback.succeed();
        session.demand();
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        opened.completeExceptionally(cause);
    }

    /** Drops the connection without a close handshake (it may be stuck behind a full TCP buffer). */
    void disconnect() {
        stopped = true;
        Session s = session;
        if (s != null) {
            s.disconnect();
        }
    }
}
