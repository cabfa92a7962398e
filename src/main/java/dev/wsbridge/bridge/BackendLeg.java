package dev.wsbridge.bridge;

import dev.wsbridge.backend.GracefulClose;
import dev.wsbridge.frame.Frames;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend leg: a Jetty websocket-core session, which validates the backend's frames and runs the close
 * handshake. Frames are read one at a time, the next only when the client has taken the last
 * ({@link CoreSession#demand()}); the client's frames are written with Jetty's batching, one flush per burst.
 * Pings are answered here, per hop.
 */
public final class BackendLeg implements FrameHandler, Leg {

    private static final Logger LOG = LoggerFactory.getLogger(BackendLeg.class);

    private final Relay relay;
    private final Half toClient;
    private volatile CoreSession core;
    /** Whether the backend message in progress is text; touched by the one thread delivering frames. */
    private boolean text;
    /** When the frame in flight was handed to the client leg. */
    private volatile long sentAt;
    /** When the last frame (a pong included) came from the backend: what keep-alive pings count. */
    private volatile long lastRead = System.nanoTime();
    /** When the last keep-alive ping was written; 0 before the first. */
    private volatile long pingWrittenAt;
    /** A forwarded ping or pong is being written: the next one is dropped rather than queued without bound. */
    private final AtomicBoolean controlInFlight = new AtomicBoolean();
    /** The frame being written to the client: one at a time, so one reusable completion serves them all. */
    private volatile Callback inFlight;
    private final Callback written = new Callback() {
        @Override
        public void succeeded() {
            release();
        }

        @Override
        public void failed(Throwable x) {
            // The client leg reports its own failure; the frame is released and reading goes on, so the
            // backend's answer to the close that follows is still read.
            release();
        }
    };

    /** Whether the connection reports the end of each burst, so frames to the client may wait for it. */
    private volatile boolean burstEnds;

    BackendLeg(Relay relay, Half toClient) {
        this.relay = relay;
        this.toClient = toClient;
    }

    private void release() {
        toClient.traffic().held(System.nanoTime() - sentAt);
        Callback frame = inFlight;
        inFlight = null;
        frame.succeeded();
        core.demand();
    }

    /**
     * The listener to run when a read on the backend connection finds no more bytes: it flushes the frames
     * written to the client since the last one. Set as the connection is upgraded, before any frame.
     */
    public Runnable burstListener() {
        return relay::backendBurstEnded;
    }

    /** The connection reports the end of each burst to {@link #burstListener()}. */
    public void reportsBurstEnds() {
        burstEnds = true;
    }

    // ---- frames from the backend ----

    @Override
    public void onOpen(CoreSession session, Callback callback) {
        core = session;
        callback.succeeded();
        relay.backendOpened();
    }

    /** Reads the next frame; the first call comes once the client leg is open. */
    void demand() {
        core.demand();
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
        long now = System.nanoTime();
        lastRead = now;
        if (LOG.isTraceEnabled() && frame.isControlFrame()) {
            LOG.trace("[{}] backend->bridge frame opcode {} length {} fin {}", relay.id(), frame.getOpCode(),
                    frame.getPayloadLength(), frame.isFin());
        }
        switch (frame.getOpCode()) {
            case OpCode.TEXT, OpCode.BINARY, OpCode.CONTINUATION -> {
                if (frame.getOpCode() != OpCode.CONTINUATION) {
                    text = frame.getOpCode() == OpCode.TEXT;
                }
                ByteBuffer payload = frame.hasPayload() ? frame.getPayload() : BufferUtil.EMPTY_BUFFER;
                inFlight = callback;
                sentAt = now;
                toClient.forward(text, payload, frame.isFin(), burstEnds, written);
            }
            case OpCode.PING, OpCode.PONG -> {
                if (relay.forwardsPings()) {
                    byte[] payload = frame.hasPayload() ? BufferUtil.toArray(frame.getPayload()) : new byte[0];
                    if (frame.getOpCode() == OpCode.PING) {
                        relay.backendPing(payload);
                    } else {
                        relay.backendPong(payload);
                    }
                    callback.succeeded();
                    core.demand();
                } else if (frame.getOpCode() == OpCode.PING) {
                    answerPing(frame, callback);
                } else {
                    callback.succeeded();
                    core.demand();
                }
            }
            case OpCode.CLOSE -> {
                CloseStatus status = CloseStatus.getCloseStatus(frame);
                relay.backendCloseFrame(status.getCode(), status.getReason(), callback);
            }
            default -> {
                callback.succeeded();
                core.demand();
            }
        }
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
        // Before open, the error is the handshake failing: the connect outcome reports it, and the same leg may
        // yet be connected to another backend, so the relay must not take it for its own end.
        if (core != null) {
            relay.backendError(cause);
        }
        callback.succeeded();
    }

    @Override
    public void onClosed(CloseStatus closeStatus, Callback callback) {
        callback.succeeded();
        relay.backendClosed(closeStatus.getCode(), closeStatus.getReason());
    }

    /** Answers a ping per hop; the next frame is read once the pong is written. */
    private void answerPing(Frame frame, Callback callback) {
        core.sendFrame(new Frame(OpCode.PONG, true, BufferUtil.copy(frame.getPayload())), Callback.from(() -> {
            callback.succeeded();
            core.demand();
        }, x -> {
            callback.succeeded();
            core.demand();
        }), false);
    }

    /** Forwards a ping or pong from the client; dropped while the last one forwarded is still being written. */
    void sendControl(byte opcode, byte[] payload) {
        CoreSession session = core;
        if (session != null && session.isOutputOpen() && controlInFlight.compareAndSet(false, true)) {
            session.sendFrame(new Frame(opcode, true, ByteBuffer.wrap(payload)),
                    Callback.from(() -> controlInFlight.set(false), x -> controlInFlight.set(false)), false);
        }
    }

    long lastRead() {
        return lastRead;
    }

    long pingWrittenAt() {
        return pingWrittenAt;
    }

    /** Sends a keep-alive ping; {@link #pingWrittenAt()} tells when it was written. */
    void ping() {
        CoreSession session = core;
        if (session != null && session.isOutputOpen()) {
            // Timed from before the send: the pong may be read before the write's completion runs.
            long asked = System.nanoTime();
            session.sendFrame(new Frame(OpCode.PING, true, ByteBuffer.wrap(Frames.KEEP_ALIVE.clone())),
                    Callback.from(() -> pingWrittenAt = asked, x -> { }), false);
        }
    }

    // ---- frames to the backend ----

    @Override
    public void send(byte opcode, boolean fin, ByteBuffer payload, boolean batch, Callback done) {
        core.sendFrame(new Frame(opcode, fin, payload), done, batch);
    }

    @Override
    public void close(int code, String reason) {
        CoreSession session = core;
        if (session != null) {
            GracefulClose.close(session, code, reason);
        }
    }

    @Override
    public void abort() {
        CoreSession session = core;
        if (session != null) {
            session.abort();
        }
    }

    @Override
    public String toString() {
        return "BackendLeg[" + relay.id() + (core == null ? "" : " open") + "]";
    }
}
