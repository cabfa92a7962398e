package dev.wsbridge.support;

import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/**
 * One end of a test session (a test client, or a backend's accepted session): records every whole
 * message and the close it saw, and optionally echoes. Jetty's WebSocket API; it demands the next
 * frame after each message unless {@link #pause paused}, so a paused peer stops reading from TCP.
 */
public class Peer implements Session.Listener {

    /** How a peer's session ended. */
    public record Closed(int code, String reason) {
    }

    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private final BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
    private final CompletableFuture<Session> opened = new CompletableFuture<>();
    private final CompletableFuture<Closed> closed = new CompletableFuture<>();
    private volatile boolean echo;
    private volatile boolean record = true;
    private volatile boolean obey;
    private boolean paused;
    private boolean owed;
    private volatile Session session;

    public Peer echo(boolean on) {
        this.echo = on;
        return this;
    }

    /** Whether messages are kept for {@link #next}; off for long runs. */
    public Peer record(boolean on) {
        this.record = on;
        return this;
    }

    /**
     * Obeys text commands from the other side instead of echoing them: {@code !disconnect} drops the
     * connection, {@code !close:CODE} closes with CODE. For faults injected at the far end of a bridge.
     */
    public Peer obey(boolean on) {
        this.obey = on;
        return this;
    }

    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        opened.complete(session);
        session.demand();
    }

    /** Stops reading: no frame is read from the connection until {@link #resume}. */
    public synchronized void pause() {
        paused = true;
    }

    public void resume() {
        boolean demand;
        synchronized (this) {
            paused = false;
            demand = owed;
            owed = false;
        }
        if (demand) {
            session.demand();
        }
    }

    private void next(Session s) {
        synchronized (this) {
            if (paused) {
                owed = true;
                return;
            }
        }
        s.demand();
    }

    @Override
    public void onWebSocketText(String message) {
        if (obey && message.startsWith("!")) {
            if (message.equals("!disconnect")) {
                session.disconnect();
            } else if (message.startsWith("!close:")) {
                session.close(Integer.parseInt(message.substring(7)), "as told", Callback.NOOP);
            }
            return;
        }
        if (record) {
            received.add(message);
        }
        if (echo) {
            session.sendText(message, Callback.NOOP);
        }
        next(session);
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        if (record) {
            received.add(bytes);
        }
        if (echo) {
            session.sendBinary(ByteBuffer.wrap(bytes), callback);
        } else {
            callback.succeed();
        }
        next(session);
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, Callback callback) {
        closed.complete(new Closed(statusCode, reason));
        callback.succeed();
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        errors.add(cause);
    }

    /** Errors the peer's session reported (a dropped connection, a protocol violation). */
    public BlockingQueue<Throwable> errors() {
        return errors;
    }

    public Session session() {
        return Await.get(opened);
    }

    /** The next whole message: a String or a byte[]; fails after 10 s. */
    public Object next() {
        try {
            Object m = received.poll(10, TimeUnit.SECONDS);
            if (m == null) {
                throw new AssertionError("no message within 10 s");
            }
            return m;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public String nextText() {
        Object m = next();
        if (!(m instanceof String s)) {
            throw new AssertionError("expected text, got " + m.getClass().getSimpleName());
        }
        return s;
    }

    public byte[] nextBinary() {
        Object m = next();
        if (!(m instanceof byte[] b)) {
            throw new AssertionError("expected binary, got " + m.getClass().getSimpleName());
        }
        return b;
    }

    /** Whatever arrived and was not taken yet. */
    public BlockingQueue<Object> pending() {
        return received;
    }

    /** The close this peer saw; fails after 15 s. */
    public Closed closed() {
        return Await.get(closed, 15);
    }

    /** The close this peer saw within {@code seconds}, or {@code null} if it saw none by then. */
    public Closed closedWithin(int seconds) {
        try {
            return closed.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public boolean isClosed() {
        return closed.isDone();
    }

    /** Sends text and waits for the write. */
    public void send(String text) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        session().sendText(text, Callback.from(() -> done.complete(null), done::completeExceptionally));
        Await.get(done);
    }

    /** Sends binary and waits for the write. */
    public void send(byte[] bytes) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        session().sendBinary(ByteBuffer.wrap(bytes), Callback.from(() -> done.complete(null), done::completeExceptionally));
        Await.get(done);
    }

    /**
     * Vanishes: drops the TCP (or TLS) connection at once, with no close frame and whatever is still queued
     * unsent, as a crashed process or a cut cable looks to the other side (Jetty's {@code Session.disconnect()}).
     */
    public void abort() {
        session().disconnect();
    }

    public void close(int code, String reason) {
        session().close(code, reason, Callback.NOOP);
    }
}
