package dev.wsbridge.bridge;

import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.common.WebSocketSession;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;

/**
 * Writes the client's data to the backend leg, one frame per piece the container delivers.
 *
 * <p>Without batching every frame is written at once. With batching ({@code backendBatching}), a frame
 * smaller than a quarter of the connection's output buffer is copied into Jetty's batch buffer (its write
 * completes at once) and one task on the backend client's executor flushes the batch; whatever else the
 * container delivers before that task runs joins the same socket write. Under load the task waits longer
 * and the batches grow; when idle, each message waits one thread hand-off. A bigger frame is written at
 * once, with whatever is batched before it.
 *
 * <p>Bounded: the batch buffer is one output buffer per session, taken from Jetty's pool while a batch is
 * open; when it is full or a write is still in progress, the next frame's write completes only when the
 * connection has taken it, which holds back the container thread ({@link WriteLatch}).
 *
 * <p>{@link #send} is called by one container thread at a time (the one delivering the client's data).
 */
final class BackendSender {

    private final Executor executor;
    private final boolean batching;
    private final AtomicBoolean flushPending = new AtomicBoolean();
    private final Runnable flush = this::flush;
    /** Set by the backend's open, read by the container thread that sends. */
    private volatile CoreSession core;
    /** The next piece continues a message. */
    private boolean continuing;

    /**
     * @param executor runs the flush of a batch
     * @param batching whether small frames are batched
     */
    BackendSender(Executor executor, boolean batching) {
        this.executor = executor;
        this.batching = batching;
    }

    /** Binds the backend session; before any {@link #send}. */
    void open(Session session) {
        if (!(session instanceof WebSocketSession jetty)) {
            throw new IllegalStateException("backend session [" + session + "] is not a Jetty WebSocket session");
        }
        core = jetty.getCoreSession();
    }

    /**
     * Sends one piece of a client message.
     *
     * @param text whether the message is text (its pieces are UTF-8)
     * @param written completed when the connection has taken the frame, or has failed
     */
    void send(boolean text, ByteBuffer payload, boolean last, Callback written) {
        CoreSession core = this.core;
        byte opcode = continuing ? OpCode.CONTINUATION : text ? OpCode.TEXT : OpCode.BINARY;
        continuing = !last;
        // Jetty batches a frame under a quarter of its output buffer, and writes a bigger one at once.
        boolean batch = batching && payload.remaining() < core.getOutputBufferSize() / 4;
        core.sendFrame(new Frame(opcode, last, payload), written, batch);
        if (batch && flushPending.compareAndSet(false, true)) {
            try {
                executor.execute(flush);
            } catch (RejectedExecutionException e) {
                // The client is stopping: flush here, the session is about to end anyway.
                flush();
            }
        }
    }

    private void flush() {
        // Cleared before flushing: a frame batched from here on schedules the next flush.
        flushPending.set(false);
        core.flush(Callback.NOOP);
    }

    @Override
    public String toString() {
        return "BackendSender[batching=" + batching + ", continuing=" + continuing + ", flushPending="
                + flushPending.get() + "]";
    }
}
