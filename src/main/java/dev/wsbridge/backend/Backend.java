package dev.wsbridge.backend;

import dev.wsbridge.config.BackendMember;
import dev.wsbridge.config.BackendTarget;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backend of a route: its health as seen from failed connections (passive) and from the active check,
 * whether an operator drained it, and its figures. Transitions are decided under this object's lock and
 * returned as the line to log, which the caller logs after releasing it.
 */
public final class Backend implements BackendMXBean {

    private static final Logger LOG = LoggerFactory.getLogger(Backend.class);

    /** Passive health. */
    enum State {
        /** Takes sessions. */
        UP,
        /** Out after failed connections until {@link #retryAt}; then one handshake may try it. */
        DOWN,
        /** One trial handshake in progress; the others keep away until it ends. */
        TRIAL
    }

    private final String route;
    private final BackendMember member;
    private final int index;
    private final int failuresToDown;
    private final long cooldownNanos;
    /** Whether health may take it out: not when it is the route's only backend, which is always tried. */
    private final boolean excludable;

    private State state = State.UP;
    private int failuresInARow;
    private long retryAt;
    private volatile boolean drained;
    private volatile boolean checkPassed = true;

    private final AtomicInteger openSessions = new AtomicInteger();
    private final LongAdder handshakes = new LongAdder();
    private final LongAdder sessions = new LongAdder();
    private final LongAdder failures = new LongAdder();

    Backend(String route, BackendMember member, int index, int failuresToDown, long cooldownNanos, boolean excludable) {
        this.route = route;
        this.member = member;
        this.index = index;
        this.failuresToDown = failuresToDown;
        this.cooldownNanos = cooldownNanos;
        this.excludable = excludable;
    }

    public BackendTarget target() {
        return member.target();
    }

    int index() {
        return index;
    }

    /** Whether the balancer may choose it at {@code now}: in rotation, and up or due its trial. */
    synchronized boolean eligible(long now) {
        if (drained) {
            return false;
        }
        if (!excludable) {
            return true;
        }
        return checkPassed && (state == State.UP || (state == State.DOWN && now - retryAt >= 0));
    }

    /** Takes it for one handshake at {@code now}: false when another handshake took its trial first. */
    synchronized boolean acquire(long now) {
        if (!excludable || state == State.UP) {
            return !drained;
        }
        if (state == State.DOWN && now - retryAt >= 0 && !drained && checkPassed) {
            state = State.TRIAL;
            return true;
        }
        return false;
    }

    /** The backend answered HTTP: it is alive. Returns the line to log, or null. */
    synchronized String answered() {
        failuresInARow = 0;
        if (state == State.UP) {
            return null;
        }
        state = State.UP;
        return "backend [" + target() + "] is back: it answered a trial handshake";
    }

    /** A handshake got no answer at {@code now}. Returns the line to log, or null. */
    synchronized String failed(long now, String why) {
        failures.increment();
        failuresInARow++;
        if (state == State.TRIAL) {
            state = State.DOWN;
            retryAt = now + cooldownNanos;
            return "backend [" + target() + "] still down: its trial handshake failed (" + why + "); next trial in "
                    + millis(cooldownNanos);
        }
        if (state == State.UP && failuresToDown > 0 && failuresInARow >= failuresToDown) {
            state = State.DOWN;
            retryAt = now + cooldownNanos;
            return "backend [" + target() + "] down after " + failuresInARow + " failed connections in a row (" + why
                    + ")" + (excludable ? "; next trial in " + millis(cooldownNanos) : "; still tried: it is the route's only backend");
        }
        return null;
    }

    /** A handshake taken with {@link #acquire} ended without reaching the backend (the client went away). */
    synchronized void abandoned() {
        if (state == State.TRIAL) {
            state = State.DOWN;
        }
    }

    /** The active check's verdict changed. Returns the line to log, or null. */
    String checked(boolean passed, String why) {
        if (checkPassed == passed) {
            return null;
        }
        checkPassed = passed;
        if (passed) {
            synchronized (this) {
                // The check is newer evidence than the failures that took it out.
                state = State.UP;
                failuresInARow = 0;
            }
            return "backend [" + target() + "] is up: its health check passed";
        }
        return "backend [" + target() + "] is down: its health check failed (" + why + ")"
                + (excludable ? "" : "; still tried: it is the route's only backend");
    }

    synchronized int failuresInARow() {
        return failuresInARow;
    }

    int weight() {
        return member.weight();
    }

    int openSessions() {
        return openSessions.get();
    }

    void sessionStarting() {
        openSessions.incrementAndGet();
        handshakes.increment();
    }

    void sessionOpened() {
        sessions.increment();
    }

    void sessionEnded() {
        openSessions.decrementAndGet();
    }

    private static String millis(long nanos) {
        long ms = nanos / 1_000_000L;
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }

    // ---------------------------------------------------------------- JMX

    @Override
    public String getUri() {
        return target().toString();
    }

    @Override
    public int getWeight() {
        return member.weight();
    }

    @Override
    public synchronized String getState() {
        if (drained) {
            return "drained";
        }
        if (!checkPassed) {
            return "check failed";
        }
        return state.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public int getOpenSessions() {
        return openSessions.get();
    }

    @Override
    public long getHandshakes() {
        return handshakes.sum();
    }

    @Override
    public long getSessions() {
        return sessions.sum();
    }

    @Override
    public long getFailures() {
        return failures.sum();
    }

    @Override
    public boolean isEnabled() {
        return !drained;
    }

    @Override
    public void drain() {
        if (!drained) {
            drained = true;
            LOG.info("wsbridge route [{}]: backend [{}] drained: no new sessions, {} open ones continue", route, target(),
                    openSessions.get());
        }
    }

    @Override
    public void enable() {
        if (drained) {
            drained = false;
            LOG.info("wsbridge route [{}]: backend [{}] back in rotation", route, target());
        }
    }

    @Override
    public String toString() {
        return "Backend[" + member + ", " + getState() + ", open=" + openSessions.get() + "]";
    }
}
