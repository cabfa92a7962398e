package dev.wsbridge.bridge;

import static dev.wsbridge.bridge.CloseMapping.ABORT;
import static dev.wsbridge.bridge.CloseMapping.GOING_AWAY;
import static dev.wsbridge.bridge.CloseMapping.LEAVE;
import static dev.wsbridge.bridge.CloseMapping.MESSAGE_TOO_BIG;
import static dev.wsbridge.bridge.CloseMapping.NORMAL;
import static dev.wsbridge.bridge.CloseMapping.NO_CODE;

import dev.wsbridge.bridge.CloseMapping.Close;
import dev.wsbridge.config.BridgeConfig;
import dev.wsbridge.observability.Ending;
import dev.wsbridge.observability.SessionRecord;
import jakarta.websocket.CloseReason;
import jakarta.websocket.SendHandler;
import jakarta.websocket.SendResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.eclipse.jetty.util.thread.Scheduler;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One bridged session: the client's {@code wss://} session (Jakarta WebSocket, in the container) joined
 * to the backend's {@code ws://} session (Jetty WebSocket client).
 *
 * <p>Flow control: client to backend, the container thread that delivers a piece of a message waits
 * until the backend connection has taken that piece ({@link BackendSender}; with {@code backendBatching} a
 * small piece is taken at once while the batch buffer has room); backend to client, the next backend frame is
 * demanded only when the client write of the previous one completes. So exactly one write is in flight
 * per direction (Tomcat refuses a second) and neither side can grow the proxy's heap.
 *
 * <p>Closing: the first leg to end decides the close sent on the other leg ({@link CloseMapping}); later
 * ends are recorded, not acted on. A backend's close frame is answered only once the client has
 * answered ours. Whatever happens, both legs are released within {@code closeTimeout} of the first end.
 *
 * <p>Draining (undeploy, shutdown): a message in progress in either direction may finish; a direction at
 * a message boundary forwards nothing new; once both are at a boundary the session ends with 1001 on both
 * legs. The registry ends whatever has not drained by {@code drainTimeout} with {@link #shutdown}.
 */
public final class Bridge implements Bridged {

    private static final Logger LOG = LoggerFactory.getLogger(Bridge.class);

    /** Tomcat's per-session user properties; ignored by other containers. */
    private static final String TOMCAT_BLOCKING_SEND_TIMEOUT = "org.apache.tomcat.websocket.BLOCKING_SEND_TIMEOUT";
    private static final String TOMCAT_SESSION_CLOSE_TIMEOUT = "org.apache.tomcat.websocket.SESSION_CLOSE_TIMEOUT";

    /** Where a bridge is in its life. */
    enum State {
        /** Backend connecting or connected; client not yet upgraded. */
        CONNECTING,
        /** Both legs open; messages flow. */
        OPEN,
        /** One leg ended; the other is being closed. */
        CLOSING,
        /** Both legs released. */
        CLOSED
    }

    private final String id;
    private final SessionRecord record;
    private final BridgeConfig config;
    private final Scheduler scheduler;
    private final Consumer<Bridge> onClosed;
    private final BackendListener backendListener = new BackendListener(this);
    private final ClientEndpoint clientEndpoint = new ClientEndpoint(this);
    private final WriteLatch backendWrite = new WriteLatch();
    private final BackendSender backendSender;
    private final SendHandler clientWriteDone = this::clientWriteDone;

    private final Object lock = new Object();
    private volatile State state = State.CONNECTING;
    private volatile jakarta.websocket.Session clientSession;
    private volatile Session backendSession;
    private boolean clientEnded;
    private boolean backendEnded;
    private Close pendingClientClose;
    private Callback heldBackendClose;
    private Scheduler.Task closeTimer;
    private Scheduler.Task lifetimeTimer;
    private String endCause;
    private Throwable backendFailure;

    // Touched only by the one thread delivering that direction's data at a time.
    private long clientMessageBytes;
    private long rateWindowStart = System.nanoTime();
    private int rateWindowCount;
    private long backendMessageBytes;
    /** Set between the first and the last piece of a message forwarded in that direction; read when draining. */
    private volatile boolean backendMidMessage;
    private volatile boolean clientMidMessage;
    private volatile boolean draining;
    /** The backend frame being written to the client; whoever takes it completes it and demands the next. */
    private final AtomicReference<Callback> backendFrame = new AtomicReference<>();

    /**
     * @param record   what the access log, the metrics and the status page learn of the session
     * @param executor the backend client's threads, which flush batched frames to the backend
     * @param onClosed run once, when both legs are released
     */
    public Bridge(SessionRecord record, BridgeConfig config, Scheduler scheduler, Executor executor, Consumer<Bridge> onClosed) {
        this.id = record.id();
        this.record = record;
        this.config = config;
        this.scheduler = scheduler;
        this.backendSender = new BackendSender(executor, config.backendBatching());
        this.onClosed = onClosed;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public SessionRecord record() {
        return record;
    }

    /** The Jetty listener to connect the backend with. */
    public Object backendListener() {
        return backendListener;
    }

    /** The Jakarta endpoint to upgrade the client with. */
    public jakarta.websocket.Endpoint clientEndpoint() {
        return clientEndpoint;
    }

    // ---- backend leg events (Jetty client threads) ----

    void backendOpened(Session session) {
        session.setIdleTimeout(config.idleTimeout());
        backendSender.open(session);
        boolean ended;
        synchronized (lock) {
            backendSession = session;
            ended = state != State.CONNECTING;
        }
        if (ended) {
            // The handshake was given up before the backend answered.
            session.close(GOING_AWAY, "Client handshake failed", Callback.NOOP);
        }
    }

    void backendBinary(ByteBuffer payload, boolean last, Callback callback) {
        if (backendData(false, payload.remaining(), last, callback)) {
            forwardToClient(payload, last);
        }
    }

    void backendText(String payload, boolean last, Callback callback) {
        if (backendData(true, CharCount.utf8Length(payload), last, callback)) {
            forwardToClient(payload, last);
        }
    }

    /**
     * Writes one backend frame, a {@link String} or a {@link ByteBuffer}, to the client. A whole message goes
     * out asynchronously; the pieces of a message in parts go out blocking, as Jakarta WebSocket has no
     * asynchronous partial send.
     */
    private void forwardToClient(Object payload, boolean last) {
        jakarta.websocket.Session client = clientSession;
        try {
            if (last && !backendMidMessage) {
                if (payload instanceof String text) {
                    client.getAsyncRemote().sendText(text, clientWriteDone);
                } else {
                    client.getAsyncRemote().sendBinary((ByteBuffer) payload, clientWriteDone);
                }
                return;
            }
            backendMidMessage = true;
            if (payload instanceof String text) {
                client.getBasicRemote().sendText(text, last);
            } else {
                client.getBasicRemote().sendBinary((ByteBuffer) payload, last);
            }
            backendMidMessage = !last;
            clientWriteDone(null);
        } catch (IOException | RuntimeException e) {
            clientWriteFailed(e);
        }
    }

    /** Accounts one backend frame; false when it must not be forwarded (its callback is then complete). */
    private boolean backendData(boolean text, long bytes, boolean last, Callback callback) {
        if (state != State.OPEN || (draining && !backendMidMessage)) {
            // Ending, or draining at a message boundary: drop the data but keep reading, or the backend's
            // close frame is never seen.
            callback.succeed();
            backendSession.demand();
            return false;
        }
        backendMessageBytes += bytes;
        if (backendMessageBytes > config.maxBackendMessageSize()) {
            callback.succeed();
            backendSession.demand();
            end(new Close(CloseMapping.BAD_GATEWAY, "Backend message larger than " + config.maxBackendMessageSize() + " bytes"),
                    new Close(MESSAGE_TOO_BIG, "Message larger than " + config.maxBackendMessageSize() + " bytes"),
                    Ending.LIMIT, "backend message too big");
            return false;
        }
        record.backendToClient().piece(text, (int) bytes);
        if (last) {
            record.backendToClient().message(text, backendMessageBytes);
            backendMessageBytes = 0;
        }
        backendFrame.set(callback);
        return true;
    }

    private void clientWriteDone(SendResult result) {
        if (result != null && !result.isOK()) {
            clientWriteFailed(result.getException());
            return;
        }
        releaseBackendFrame();
        endIfDrained();
    }

    /**
     * Completes the backend frame in flight, if any is still unclaimed, and demands the next one: also
     * while closing, since the backend's answer to our close must still be read. A write the container
     * never completes (its session ended under it) is released by {@link #clientClosed} instead.
     */
    private void releaseBackendFrame() {
        Callback frame = backendFrame.getAndSet(null);
        if (frame != null) {
            frame.succeed();
            backendSession.demand();
        }
    }

    private void clientWriteFailed(Throwable failure) {
        releaseBackendFrame();
        LOG.debug("[{}] client write failed", id, failure);
        end(new Close(ABORT, ""), new Close(GOING_AWAY, "Client connection lost"), Ending.CLIENT, "client write failed");
    }

    void backendError(Throwable cause) {
        LOG.debug("[{}] backend error", id, cause);
        synchronized (lock) {
            if (endCause == null) {
                endCause = "backend error: " + CloseMapping.describe(cause);
            }
            backendFailure = cause;
        }
    }

    void backendClosed(int code, String reason, Callback callback) {
        Throwable failure;
        Callback complete = callback;
        synchronized (lock) {
            backendEnded = true;
            failure = backendFailure;
            if ((state == State.OPEN || state == State.CONNECTING) && clientSession != null && !clientEnded) {
                // Answer the backend's close only once the client has answered ours.
                heldBackendClose = callback;
                complete = null;
            }
        }
        if (complete != null) {
            complete.succeed();
        }
        LOG.debug("[{}] backend closed {} {}", id, code, reason);
        record.backendClose(code);
        end(CloseMapping.toClient(code, reason, failure), Close.LEAVE_IT, Ending.BACKEND, "backend closed " + code);
        finishIfBothEnded();
    }

    // ---- client leg events (container threads) ----

    void clientOpened(jakarta.websocket.Session session) {
        session.setMaxIdleTimeout(config.idleTimeout().toMillis());
        long idle = config.idleTimeout().toMillis();
        session.getUserProperties().put(TOMCAT_BLOCKING_SEND_TIMEOUT, idle);
        session.getUserProperties().put(TOMCAT_SESSION_CLOSE_TIMEOUT, config.closeTimeout().toMillis());
        Close pending;
        Session backend;
        synchronized (lock) {
            clientSession = session;
            backend = backendSession;
            pending = pendingClientClose;
            if (state == State.CONNECTING) {
                state = State.OPEN;
            }
        }
        LOG.debug("[{}] open {} <-> {}", id, session.getId(), backend);
        long lifetime = config.maxSessionLifetime().toMillis();
        if (lifetime > 0) {
            Scheduler.Task task = scheduler.schedule(() -> end(new Close(GOING_AWAY, "Session lifetime reached"),
                    new Close(GOING_AWAY, "Session lifetime reached"), Ending.LIMIT, "session lifetime"), lifetime,
                    TimeUnit.MILLISECONDS);
            synchronized (lock) {
                lifetimeTimer = task;
            }
        }
        if (pending != null) {
            closeClient(session, pending);
        } else if (backend != null) {
            backend.demand();
        }
    }

    /** The client upgrade did not happen after the backend had answered. */
    public void clientUpgradeFailed(Throwable cause) {
        LOG.debug("[{}] client upgrade failed", id, cause);
        synchronized (lock) {
            clientEnded = true;
        }
        end(Close.LEAVE_IT, new Close(GOING_AWAY, "Client handshake failed"), Ending.ERROR, "client upgrade failed");
        finishIfBothEnded();
    }

    void clientBinary(ByteBuffer part, boolean last) {
        if (!clientData(false, part.remaining(), last)) {
            return;
        }
        if (!last) {
            clientMidMessage = true;
        }
        backendSender.send(false, part, last, backendWrite.arm());
        awaitBackendWrite(last);
    }

    void clientText(String part, boolean last) {
        ByteBuffer utf8 = ByteBuffer.wrap(part.getBytes(StandardCharsets.UTF_8));
        if (!clientData(true, utf8.remaining(), last)) {
            return;
        }
        if (!last) {
            clientMidMessage = true;
        }
        backendSender.send(true, utf8, last, backendWrite.arm());
        awaitBackendWrite(last);
    }

    private boolean clientData(boolean text, long bytes, boolean last) {
        if (state != State.OPEN || (draining && !clientMidMessage)) {
            return false;
        }
        int maxRate = config.maxClientMessageRate();
        if (maxRate > 0 && clientMessageBytes == 0 && !clientMidMessage && overRate(maxRate)) {
            end(new Close(1008, "More than " + maxRate + " messages a second"),
                    new Close(GOING_AWAY, "Client over its message rate"), Ending.LIMIT,
                    "client message rate over " + maxRate + "/s");
            return false;
        }
        clientMessageBytes += bytes;
        if (clientMessageBytes > config.maxClientMessageSize()) {
            end(new Close(MESSAGE_TOO_BIG, "Message larger than " + config.maxClientMessageSize() + " bytes"),
                    new Close(GOING_AWAY, "Client message larger than " + config.maxClientMessageSize() + " bytes"),
                    Ending.LIMIT, "client message too big");
            return false;
        }
        record.clientToBackend().piece(text, (int) bytes);
        if (last) {
            record.clientToBackend().message(text, clientMessageBytes);
            clientMessageBytes = 0;
        }
        return true;
    }

    /** Counts a client message starting now; true when it is one more than {@code maxRate} in the current second. */
    private boolean overRate(int maxRate) {
        long now = System.nanoTime();
        if (now - rateWindowStart >= 1_000_000_000L) {
            rateWindowStart = now;
            rateWindowCount = 0;
        }
        return ++rateWindowCount > maxRate;
    }

    private void awaitBackendWrite(boolean last) {
        Throwable failure = backendWrite.await(config.idleTimeout().toMillis());
        if (failure != null) {
            LOG.debug("[{}] backend write failed", id, failure);
            end(new Close(CloseMapping.BAD_GATEWAY, "Backend write failed"), new Close(ABORT, ""), Ending.BACKEND,
                    "backend write failed");
            return;
        }
        if (last && clientMidMessage) {
            // Written only at the end of a message in parts: a whole message costs no volatile write.
            clientMidMessage = false;
        }
        endIfDrained();
    }

    void clientError(Throwable cause) {
        LOG.debug("[{}] client error", id, cause);
        synchronized (lock) {
            if (endCause == null) {
                endCause = "client error: " + CloseMapping.describe(cause);
            }
        }
    }

    void clientClosed(int code, String reason) {
        Callback held;
        synchronized (lock) {
            clientEnded = true;
            held = heldBackendClose;
            heldBackendClose = null;
        }
        if (held != null) {
            held.succeed();
        }
        releaseBackendFrame();
        LOG.debug("[{}] client closed {} {}", id, code, reason);
        record.clientClose(code);
        end(Close.LEAVE_IT, CloseMapping.toBackend(code, reason), Ending.CLIENT, "client closed " + code);
        finishIfBothEnded();
    }

    // ---- ending ----

    /**
     * Undeploy or shutdown: ends the session with 1001 on both legs as soon as no message is in progress in
     * either direction (at once if none is), forwarding nothing new meanwhile.
     */
    @Override
    public void drain() {
        // Set before the boundaries are read, as they are written before this is read: whichever of this
        // and a finishing message comes second sees the other, so the session ends either way.
        draining = true;
        endIfDrained();
    }

    private void endIfDrained() {
        if (draining && !clientMidMessage && !backendMidMessage) {
            shutdown();
        }
    }

    /** Ends the session with 1001 on both legs now, whatever is in progress: undeploy or shutdown. */
    @Override
    public void shutdown() {
        int code = config.shutdownCloseCode();
        String reason = code == GOING_AWAY ? "Server shutting down" : "Server restarting";
        end(new Close(code, reason), new Close(code, reason), Ending.SHUTDOWN, "shutdown");
    }

    /**
     * The first end of the session: decides, under the lock, which legs still need a close, then sends
     * those closes outside it. Later calls do nothing.
     */
    private void end(Close toClient, Close toBackend, Ending by, String cause) {
        jakarta.websocket.Session client;
        Session backend;
        boolean closeClient;
        boolean closeBackend;
        synchronized (lock) {
            if (state == State.CLOSING || state == State.CLOSED) {
                return;
            }
            state = State.CLOSING;
            if (endCause == null) {
                endCause = cause;
            }
            record.ending(by, endCause);
            client = clientSession;
            backend = backendSession;
            closeClient = !clientEnded && toClient.code() != LEAVE;
            closeBackend = !backendEnded && toBackend.code() != LEAVE;
            if (client == null && closeClient) {
                pendingClientClose = toClient;
                closeClient = false;
            }
            closeTimer = scheduler.schedule(this::closeTimedOut, config.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        LOG.debug("[{}] ending ({}): client <- {}, backend <- {}", id, endCause, toClient, toBackend);
        if (closeBackend && backend != null) {
            closeBackend(backend, toBackend);
        }
        if (closeClient) {
            closeClient(client, toClient);
        }
    }

    private void closeBackend(Session backend, Close close) {
        record.backendClose(close.code() == ABORT ? CloseMapping.NO_CLOSE : close.code());
        if (close.code() == ABORT) {
            backend.disconnect();
        } else {
            backend.close(close.code(), close.reason(), Callback.NOOP);
        }
    }

    private void closeClient(jakarta.websocket.Session client, Close close) {
        int code = close.code() == ABORT ? GOING_AWAY : close.code();
        if (code == NO_CODE && isTomcat(client)) {
            // Tomcat writes 1005 on the wire instead of an empty close; 1000 is the nearest valid frame.
            code = NORMAL;
        }
        try {
            // Tomcat sends a 1000 close with its blocking send timeout (otherwise the idle timeout here),
            // and after the close the container's idle timeout is what drops a client that never answers.
            client.getUserProperties().put(TOMCAT_BLOCKING_SEND_TIMEOUT, config.closeTimeout().toMillis());
            client.setMaxIdleTimeout(config.closeTimeout().toMillis());
            // Not CloseCodes.getCloseCode: Tomcat's copy of it refuses codes it has no constant for (1014).
            int wire = code;
            record.clientClose(wire);
            client.close(new CloseReason(() -> wire, close.reason()));
        } catch (IOException | RuntimeException e) {
            LOG.debug("[{}] closing the client failed", id, e);
            clientClosed(CloseMapping.NO_CLOSE, "");
        }
    }

    private static boolean isTomcat(jakarta.websocket.Session session) {
        return session.getClass().getName().startsWith("org.apache.tomcat.");
    }

    private void closeTimedOut() {
        Session backend;
        Callback held;
        boolean abortBackend;
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            backend = backendSession;
            abortBackend = !backendEnded;
            held = heldBackendClose;
            heldBackendClose = null;
        }
        LOG.debug("[{}] close timed out (client ended {}, backend ended {})", id, clientEnded, backendEnded);
        if (held != null) {
            held.succeed();
        }
        if (abortBackend && backend != null) {
            record.backendClose(CloseMapping.NO_CLOSE);
            backend.disconnect();
        }
        finish();
    }

    private void finishIfBothEnded() {
        synchronized (lock) {
            if (!clientEnded || !backendEnded) {
                return;
            }
        }
        finish();
    }

    private void finish() {
        Scheduler.Task timer;
        Scheduler.Task lifetime;
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            timer = closeTimer;
            lifetime = lifetimeTimer;
        }
        if (timer != null) {
            timer.cancel();
        }
        if (lifetime != null) {
            lifetime.cancel();
        }
        LOG.debug("[{}] closed ({})", id, endCause);
        onClosed.accept(this);
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "Bridge[" + id + " " + state + (endCause == null ? "" : " (" + endCause + ")") + " clientEnded="
                    + clientEnded + " backendEnded=" + backendEnded + "]";
        }
    }
}
