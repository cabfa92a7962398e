package dev.wsbridge.bridge;

import static dev.wsbridge.bridge.CloseMapping.ABORT;
import static dev.wsbridge.bridge.CloseMapping.LEAVE;

import dev.wsbridge.bridge.CloseMapping.Close;
import dev.wsbridge.config.BridgeConfig;
import dev.wsbridge.frame.Frames;
import dev.wsbridge.observability.Ending;
import dev.wsbridge.observability.SessionRecord;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One relayed session: the client's connection, taken over through the Servlet API's upgrade
 * ({@link ClientLeg}), joined frame by frame to the backend's Jetty connection ({@link BackendLeg}) by two
 * {@link Half halves} of one implementation. No thread ever waits: each leg reads more only when the write
 * of what it read last is done on the other leg.
 *
 * <p>Closing: the first end of either leg decides the close sent on the other ({@link CloseMapping}); later
 * ends are recorded, not acted on. A backend's close frame is answered only once the client has answered the
 * close it caused. Whatever happens, both legs are released within {@code closeTimeout} of the first end.
 *
 * <p>Draining (undeploy, shutdown): a message in progress in either direction may finish; a direction at a
 * message boundary forwards nothing new; once both are at a boundary the session ends with 1001 on both legs.
 */
public final class Relay implements Bridged {

    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);

    /** Where a session is in its life. */
    enum State {
        /** Backend connecting or connected; client not yet taken over. */
        CONNECTING,
        /** Both legs open; frames flow. */
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
    private final ByteBufferPool pool;
    private final Consumer<Relay> onClosed;
    final Half toBackend;
    final Half toClient;
    private final BackendLeg backendLeg;

    private final Object lock = new Object();
    private volatile State state = State.CONNECTING;
    private volatile boolean draining;
    private volatile ClientLeg clientLeg;
    private boolean clientEnded;
    private boolean backendEnded;
    private boolean closeSentToClient;
    private Close pendingClientClose;
    private Callback heldBackendClose;
    private Scheduler.Task closeTimer;
    private Scheduler.Task idleTimer;
    private Scheduler.Task lifetimeTimer;
    private Scheduler.Task keepAliveTimer;
    private String endCause;
    private Throwable backendFailure;

    /**
     * @param record   what the access log, the metrics and the status page learn of the session
     * @param onClosed run once, when both legs are released
     */
    public Relay(SessionRecord record, BridgeConfig config, Scheduler scheduler, ByteBufferPool pool, Consumer<Relay> onClosed) {
        this.id = record.id();
        this.record = record;
        this.config = config;
        this.scheduler = scheduler;
        this.pool = pool;
        this.onClosed = onClosed;
        this.toBackend = new Half(this, true, config.maxClientMessageSize(), config.maxClientMessageRate(),
                record.clientToBackend());
        this.toClient = new Half(this, false, config.maxBackendMessageSize(), 0, record.backendToClient());
        this.backendLeg = new BackendLeg(this, toClient);
        toBackend.to(backendLeg);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public SessionRecord record() {
        return record;
    }

    /** The frame handler to connect the backend with. */
    public BackendLeg backendLeg() {
        return backendLeg;
    }

    ByteBufferPool pool() {
        return pool;
    }

    BridgeConfig config() {
        return config;
    }

    /**
     * Joins the client leg the container made in {@code upgrade()}; it starts once the container hands it the
     * connection ({@link #clientOpened}).
     */
    public void attachClient(ClientLeg leg) {
        leg.attach(this, toBackend);
        toClient.to(leg);
        synchronized (lock) {
            clientLeg = leg;
        }
    }

    // ---- client leg events ----

    void clientOpened() {
        Close pending;
        ClientLeg leg;
        synchronized (lock) {
            leg = clientLeg;
            pending = pendingClientClose;
            pendingClientClose = null;
            if (state == State.CONNECTING) {
                state = State.OPEN;
            }
        }
        LOG.debug("[{}] open {} <-> {}", id, leg, backendLeg);
        scheduleIdleCheck(config.idleTimeout().toMillis());
        scheduleLifetimeEnd();
        scheduleKeepAlive();
        if (pending != null) {
            closeClient(leg, pending);
        }
        backendLeg.demand();
    }

    /** The container did not take the client connection over after the backend had answered. */
    public void clientUpgradeFailed(Throwable cause) {
        LOG.debug("[{}] client upgrade failed", id, cause);
        synchronized (lock) {
            clientEnded = true;
        }
        end(Close.LEAVE_IT, new Close(Frames.GOING_AWAY, "Client handshake failed"), Ending.ERROR, "client upgrade failed");
        finishIfBothEnded();
    }

    /** The client sent a close frame: its answer to ours, or the start of its own close. */
    void clientCloseFrame(int code, String reason) {
        Callback held;
        boolean answer;
        synchronized (lock) {
            held = heldBackendClose;
            heldBackendClose = null;
            answer = !closeSentToClient;
            closeSentToClient = true;
        }
        LOG.debug("[{}] client closed {} {}", id, code, reason);
        record.clientClose(code);
        if (answer) {
            // RFC 6455 §5.5.1: answer with the same code; the connection closes once that is written.
            clientLeg.close(code, reason);
        }
        if (held != null) {
            held.succeeded();
        }
        end(Close.LEAVE_IT, CloseMapping.toBackend(code, reason), Ending.CLIENT, "client closed " + code);
    }

    /** The client broke the protocol: it gets the code its violation earns, the backend 1001. */
    void clientProtocolError(int code, String reason) {
        LOG.debug("[{}] client protocol error {} {}", id, code, reason);
        end(new Close(code, reason), new Close(Frames.GOING_AWAY, "Client protocol error"), Ending.ERROR,
                "client protocol error " + code);
    }

    /** The client's connection is gone (closed, reset, failed), with the failure if any. */
    void clientGone(Throwable failure) {
        Callback held;
        synchronized (lock) {
            clientEnded = true;
            held = heldBackendClose;
            heldBackendClose = null;
        }
        if (failure != null) {
            LOG.debug("[{}] client connection failed", id, failure);
        }
        if (held != null) {
            held.succeeded();
        }
        record.clientClose(Frames.NO_CLOSE);
        end(Close.LEAVE_IT, new Close(Frames.GOING_AWAY, "Client connection lost"), Ending.CLIENT, "client connection lost");
        finishIfBothEnded();
    }

    void clientWriteFailed(Throwable failure) {
        LOG.debug("[{}] client write failed", id, failure);
        end(new Close(ABORT, ""), new Close(Frames.GOING_AWAY, "Client connection lost"), Ending.CLIENT, "client write failed");
    }

    // ---- backend leg events ----

    void backendOpened() {
        boolean ended;
        synchronized (lock) {
            ended = state != State.CONNECTING;
        }
        if (ended) {
            // The handshake was given up before the backend answered.
            backendLeg.close(Frames.GOING_AWAY, "Client handshake failed");
        }
    }

    void backendCloseFrame(int code, String reason, Callback callback) {
        Callback complete = callback;
        synchronized (lock) {
            if ((state == State.OPEN || state == State.CONNECTING) && clientLeg != null && !clientEnded) {
                // Answer the backend's close only once the client has answered ours.
                heldBackendClose = callback;
                complete = null;
            }
        }
        if (complete != null) {
            complete.succeeded();
        }
        LOG.debug("[{}] backend closed {} {}", id, code, reason);
        record.backendClose(code);
        end(CloseMapping.toClient(code, reason, null), Close.LEAVE_IT, Ending.BACKEND, "backend closed " + code);
    }

    void backendError(Throwable cause) {
        LOG.debug("[{}] backend error", id, cause);
        synchronized (lock) {
            if (endCause == null) {
                endCause = "backend error: " + CloseMapping.describe(cause);
            }
            if (backendFailure == null) {
                backendFailure = cause;
            }
        }
    }

    /** The backend connection is released, after a close handshake or not. */
    void backendClosed(int code, String reason) {
        Throwable failure;
        synchronized (lock) {
            backendEnded = true;
            failure = backendFailure;
        }
        LOG.debug("[{}] backend connection closed {} {}", id, code, reason);
        record.backendClose(code);
        end(CloseMapping.toClient(code, reason, failure), Close.LEAVE_IT, Ending.BACKEND, "backend closed " + code);
        finishIfBothEnded();
    }

    /** A read on the backend connection found no more bytes: what went to the client since is flushed. */
    void backendBurstEnded() {
        ClientLeg leg = clientLeg;
        if (leg != null) {
            leg.flushBurst();
        }
    }

    void backendWriteFailed(Throwable failure) {
        LOG.debug("[{}] backend write failed", id, failure);
        end(new Close(Frames.BAD_GATEWAY, "Backend write failed"), new Close(ABORT, ""), Ending.BACKEND, "backend write failed");
    }

    // ---- limits ----

    boolean mayForward(boolean midMessage) {
        return state == State.OPEN && (!draining || midMessage);
    }

    void tooBig(boolean fromClient) {
        String what = "larger than " + (fromClient ? toBackend : toClient).maxMessageSize() + " bytes";
        if (fromClient) {
            end(new Close(Frames.MESSAGE_TOO_BIG, "Message " + what), new Close(Frames.GOING_AWAY, "Client message " + what),
                    Ending.LIMIT, "client message too big");
        } else {
            end(new Close(Frames.BAD_GATEWAY, "Backend message " + what), new Close(Frames.MESSAGE_TOO_BIG, "Message " + what),
                    Ending.LIMIT, "backend message too big");
        }
    }

    /** The client sent more messages in a second than {@code maxRate}: 1008 to it, 1001 to the backend. */
    void rateExceeded(int maxRate) {
        end(new Close(Frames.POLICY_VIOLATION, "More than " + maxRate + " messages a second"),
                new Close(Frames.GOING_AWAY, "Client over its message rate"), Ending.LIMIT, "client message rate over "
                        + maxRate + "/s");
    }

    void invalidUtf8(boolean fromClient) {
        if (fromClient) {
            end(new Close(Frames.BAD_DATA, "Invalid UTF-8 in a text message"),
                    new Close(Frames.GOING_AWAY, "Client sent invalid UTF-8"), Ending.ERROR, "client sent invalid UTF-8");
        } else {
            end(new Close(Frames.BAD_GATEWAY, "Backend sent invalid UTF-8"),
                    new Close(Frames.BAD_DATA, "Invalid UTF-8 in a text message"), Ending.ERROR, "backend sent invalid UTF-8");
        }
    }

    // ---- idle ----

    private void scheduleIdleCheck(long delayMillis) {
        synchronized (lock) {
            if (state != State.OPEN) {
                return;
            }
            idleTimer = scheduler.schedule(this::idleCheck, delayMillis, TimeUnit.MILLISECONDS);
        }
    }

    /** Ends the session once the client leg has been quiet for {@code idleTimeout}; the backend's Jetty times itself. */
    private void idleCheck() {
        ClientLeg leg;
        synchronized (lock) {
            leg = clientLeg;
        }
        long idle = config.idleTimeout().toMillis();
        long quiet = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - leg.lastActivity());
        if (quiet < idle) {
            scheduleIdleCheck(idle - quiet);
            return;
        }
        end(new Close(Frames.GOING_AWAY, "Idle timeout"), new Close(Frames.GOING_AWAY, "Idle timeout"), Ending.IDLE, "client idle");
    }

    // ---- pings forwarded end to end (forwardPings) ----

    boolean forwardsPings() {
        return config.forwardPings();
    }

    /** The client pinged: the backend answers, not the bridge. */
    void clientPing(byte[] payload) {
        backendLeg.sendControl(OpCode.PING, payload);
    }

    /** The client's pong goes to the backend, unless it answers the bridge's own keep-alive ping. */
    void clientPong(byte[] payload) {
        if (!Arrays.equals(payload, Frames.KEEP_ALIVE)) {
            backendLeg.sendControl(OpCode.PONG, payload);
        }
    }

    /** The backend pinged: the client answers, not the bridge. */
    void backendPing(byte[] payload) {
        ClientLeg leg = clientLeg;
        if (leg != null && leg.opened()) {
            leg.ping(payload);
        }
    }

    /** The backend's pong goes to the client, unless it answers the bridge's own keep-alive ping. */
    void backendPong(byte[] payload) {
        ClientLeg leg = clientLeg;
        if (leg != null && leg.opened() && !Arrays.equals(payload, Frames.KEEP_ALIVE)) {
            leg.pong(payload);
        }
    }

    // ---- keep-alive pings, per hop ----

    /** How often the legs' pings are looked at: half the shortest ping setting in use, at least 100 ms. */
    private long keepAliveTick() {
        long tick = Long.MAX_VALUE;
        if (!config.clientPingInterval().isZero()) {
            tick = Math.min(tick, Math.min(config.clientPingInterval().toMillis(), config.clientPingTimeout().toMillis()));
        }
        if (!config.backendPingInterval().isZero()) {
            tick = Math.min(tick, Math.min(config.backendPingInterval().toMillis(), config.backendPingTimeout().toMillis()));
        }
        return tick == Long.MAX_VALUE ? 0 : Math.max(100, tick / 2);
    }

    private void scheduleKeepAlive() {
        long tick = keepAliveTick();
        if (tick == 0) {
            return;
        }
        synchronized (lock) {
            if (state != State.OPEN) {
                return;
            }
            keepAliveTimer = scheduler.schedule(this::keepAlive, tick, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Pings a leg that has sent nothing for its ping interval; ends the session when a leg has sent nothing
     * (not even a pong) for its ping timeout after a ping: a peer that vanished without a FIN is noticed
     * within interval + timeout (+ a tick).
     */
    private void keepAlive() {
        ClientLeg client;
        synchronized (lock) {
            client = clientLeg;
        }
        long now = System.nanoTime();
        if (!config.clientPingInterval().isZero() && client != null) {
            if (dead(now, client.pingWrittenAt(), client.lastRead(), config.clientPingTimeout().toNanos())) {
                end(new Close(ABORT, ""), new Close(Frames.GOING_AWAY, "Client stopped answering pings"), Ending.CLIENT,
                        "client did not answer a ping within " + config.clientPingTimeout().toMillis() + " ms");
                return;
            }
            if (due(now, client.pingWrittenAt(), client.lastRead(), config.clientPingInterval().toNanos())) {
                client.ping();
            }
        }
        if (!config.backendPingInterval().isZero()) {
            if (dead(now, backendLeg.pingWrittenAt(), backendLeg.lastRead(), config.backendPingTimeout().toNanos())) {
                end(new Close(Frames.BAD_GATEWAY, "Backend stopped answering pings"), new Close(ABORT, ""), Ending.BACKEND,
                        "backend did not answer a ping within " + config.backendPingTimeout().toMillis() + " ms");
                return;
            }
            if (due(now, backendLeg.pingWrittenAt(), backendLeg.lastRead(), config.backendPingInterval().toNanos())) {
                backendLeg.ping();
            }
        }
        scheduleKeepAlive();
    }

    /** A ping went out and nothing has come since, for {@code timeout}. */
    private static boolean dead(long now, long pinged, long lastRead, long timeout) {
        return pinged != 0 && lastRead - pinged < 0 && now - pinged >= timeout;
    }

    /** No ping is waiting for an answer, and the leg has been quiet for {@code interval}. */
    private static boolean due(long now, long pinged, long lastRead, long interval) {
        return (pinged == 0 || lastRead - pinged >= 0) && now - lastRead >= interval;
    }

    // ---- lifetime ----

    private void scheduleLifetimeEnd() {
        long lifetime = config.maxSessionLifetime().toMillis();
        if (lifetime <= 0) {
            return;
        }
        synchronized (lock) {
            if (state != State.OPEN) {
                return;
            }
            lifetimeTimer = scheduler.schedule(() -> end(new Close(Frames.GOING_AWAY, "Session lifetime reached"),
                    new Close(Frames.GOING_AWAY, "Session lifetime reached"), Ending.LIMIT, "session lifetime"),
                    lifetime, TimeUnit.MILLISECONDS);
        }
    }

    // ---- ending ----

    @Override
    public void drain() {
        // Set before the boundaries are read, as they are written before this is read: whichever of this
        // and a finishing message comes second sees the other, so the session ends either way.
        draining = true;
        endIfDrained();
    }

    void endIfDrained() {
        if (draining && !toBackend.midMessage() && !toClient.midMessage()) {
            shutdown();
        }
    }

    @Override
    public void shutdown() {
        int code = config.shutdownCloseCode();
        String reason = code == Frames.GOING_AWAY ? "Server shutting down" : "Server restarting";
        end(new Close(code, reason), new Close(code, reason), Ending.SHUTDOWN, "shutdown");
    }

    /**
     * The first end of the session: decides, under the lock, which legs still need a close, then sends
     * those closes outside it. Later calls do nothing.
     */
    private void end(Close toClientClose, Close toBackendClose, Ending by, String cause) {
        ClientLeg client;
        boolean closeClient;
        boolean closeBackend;
        Scheduler.Task idle;
        Scheduler.Task lifetime;
        Scheduler.Task keepAlive;
        synchronized (lock) {
            if (state == State.CLOSING || state == State.CLOSED) {
                return;
            }
            state = State.CLOSING;
            if (endCause == null) {
                endCause = cause;
            }
            record.ending(by, endCause);
            client = clientLeg;
            closeClient = !clientEnded && toClientClose.code() != LEAVE && (toClientClose.code() == ABORT || !closeSentToClient);
            closeBackend = !backendEnded && toBackendClose.code() != LEAVE;
            if (closeClient && toClientClose.code() != ABORT) {
                closeSentToClient = true;
            }
            if (closeClient && (client == null || !client.opened())) {
                pendingClientClose = toClientClose;
                closeClient = false;
            }
            idle = idleTimer;
            lifetime = lifetimeTimer;
            keepAlive = keepAliveTimer;
            closeTimer = scheduler.schedule(this::closeTimedOut, config.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        if (idle != null) {
            idle.cancel();
        }
        if (lifetime != null) {
            lifetime.cancel();
        }
        if (keepAlive != null) {
            keepAlive.cancel();
        }
        LOG.debug("[{}] ending ({}): client <- {}, backend <- {}", id, endCause, toClientClose, toBackendClose);
        if (closeBackend) {
            if (toBackendClose.code() == ABORT) {
                record.backendClose(Frames.NO_CLOSE);
                backendLeg.abort();
            } else {
                record.backendClose(toBackendClose.code());
                backendLeg.close(toBackendClose.code(), toBackendClose.reason());
            }
        }
        if (closeClient) {
            closeClient(client, toClientClose);
        }
    }

    private void closeClient(ClientLeg client, Close close) {
        if (close.code() == ABORT) {
            record.clientClose(Frames.NO_CLOSE);
            client.abort();
        } else {
            record.clientClose(close.code());
            client.close(close.code(), close.reason());
        }
    }

    private void closeTimedOut() {
        Callback held;
        boolean abortBackend;
        boolean abortClient;
        ClientLeg client;
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            abortBackend = !backendEnded;
            abortClient = !clientEnded;
            client = clientLeg;
            held = heldBackendClose;
            heldBackendClose = null;
        }
        LOG.debug("[{}] close timed out (client ended {}, backend ended {})", id, !abortClient, !abortBackend);
        if (held != null) {
            held.succeeded();
        }
        if (abortBackend) {
            record.backendClose(Frames.NO_CLOSE);
            backendLeg.abort();
        }
        if (abortClient && client != null) {
            record.clientClose(Frames.NO_CLOSE);
            client.abort();
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
        Scheduler.Task idle;
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            timer = closeTimer;
            idle = idleTimer;
        }
        if (timer != null) {
            timer.cancel();
        }
        if (idle != null) {
            idle.cancel();
        }
        LOG.debug("[{}] closed ({})", id, endCause);
        onClosed.accept(this);
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "Relay[" + id + " " + state + (endCause == null ? "" : " (" + endCause + ")") + " clientEnded="
                    + clientEnded + " backendEnded=" + backendEnded + "]";
        }
    }
}
