package dev.wsbridge.server;

import dev.wsbridge.bridge.BridgeRegistry;
import dev.wsbridge.config.BridgeConfig;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides, before the backend is contacted, whether a handshake may go on: the heap must have room
 * ({@link HeapGuard}), the route a free session slot, and the backend a free handshake permit. A handshake
 * that finds every permit taken waits for one in a bounded queue (like HAProxy's {@code timeout queue}), so a
 * reconnect storm against a backend that answers passes however long the queue; but only while the queue
 * moves: when no handshake has taken or given back a permit for {@code handshakeQueueTimeout}, the waiting
 * ones get 503 and new ones get it at once, so a stalled backend holds {@code maxPendingHandshakes} request
 * threads, and more only for that long. No handshake waits in the queue longer than {@code upgradeTimeout}.
 */
final class Admission implements AutoCloseable {

    /** Seconds a refused client is told to wait. */
    static final Map<String, String> RETRY = Map.of("Retry-After", "5");

    // Built once: a refusal under memory pressure must not need to build anything.
    static final HandshakeCheck.Refusal LOW_HEAP = new HandshakeCheck.Refusal(
            HttpServletResponse.SC_SERVICE_UNAVAILABLE, RETRY, "Not enough memory for another session");
    static final HandshakeCheck.Refusal ROUTE_FULL = new HandshakeCheck.Refusal(
            HttpServletResponse.SC_SERVICE_UNAVAILABLE, RETRY, "Too many sessions on this route");
    static final HandshakeCheck.Refusal QUEUE_FULL = new HandshakeCheck.Refusal(
            HttpServletResponse.SC_SERVICE_UNAVAILABLE, RETRY, "Too many handshakes waiting for the backend");
    static final HandshakeCheck.Refusal BACKEND_SLOW = new HandshakeCheck.Refusal(
            HttpServletResponse.SC_SERVICE_UNAVAILABLE, RETRY, "The backend is slow to answer handshakes");

    private final BridgeRegistry registry;
    private final HeapGuard heap;
    private final Permits permits;
    private final AtomicInteger queued = new AtomicInteger();
    private final int maxQueued;
    private final long stillNanos;
    private final long maxQueueNanos;

    Admission(BridgeConfig config, BridgeRegistry registry, String route) {
        this.registry = registry;
        this.heap = HeapGuard.start(route, config.minFreeHeap()).watchingDirectMemory(config.minFreeDirectMemory());
        this.permits = new Permits(config.maxPendingHandshakes());
        this.maxQueued = config.maxQueuedHandshakes();
        this.stillNanos = config.handshakeQueueTimeout().toNanos();
        this.maxQueueNanos = config.upgradeTimeout().toNanos();
    }

    /**
     * The handshake permits: whoever {@link #admit} let through holds one and must {@link Semaphore#release}
     * it once the backend has answered (or failed to).
     */
    Semaphore handshakePermits() {
        return permits;
    }

    /**
     * Takes a session slot and a handshake permit for a new handshake, waiting at most
     * {@code handshakeQueueTimeout} for the permit.
     *
     * @return {@code null} when both are held, else the refusal (and nothing is held)
     */
    HandshakeCheck.Refusal admit() {
        if (!heap.admits()) {
            return LOW_HEAP;
        }
        if (!registry.tryReserve()) {
            return ROUTE_FULL;
        }
        HandshakeCheck.Refusal refusal = acquirePermit();
        if (refusal != null) {
            registry.unreserve();
        }
        return refusal;
    }

    private HandshakeCheck.Refusal acquirePermit() {
        try {
            // The timed form keeps the order: no permit for a newcomer while others wait in the queue.
            if (permits.tryAcquire(0, TimeUnit.NANOSECONDS)) {
                permits.moved();
                return null;
            }
            if (System.nanoTime() - permits.lastMove >= stillNanos) {
                return BACKEND_SLOW;
            }
            if (queued.incrementAndGet() > maxQueued) {
                queued.decrementAndGet();
                return QUEUE_FULL;
            }
            try {
                return awaitPermit();
            } finally {
                queued.decrementAndGet();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return BACKEND_SLOW;
        }
    }

    /** Waits in the queue while it moves, at most {@code maxQueueNanos} in all. */
    private HandshakeCheck.Refusal awaitPermit() throws InterruptedException {
        long deadline = System.nanoTime() + maxQueueNanos;
        while (true) {
            long now = System.nanoTime();
            long wait = Math.min(permits.lastMove + stillNanos - now, deadline - now);
            if (wait <= 0) {
                return BACKEND_SLOW;
            }
            if (permits.tryAcquire(wait, TimeUnit.NANOSECONDS)) {
                permits.moved();
                return null;
            }
        }
    }

    /** Handshakes waiting for a permit now. */
    int queued() {
        return queued.get();
    }

    @Override
    public void close() {
        heap.close();
    }

    @Override
    public String toString() {
        return "Admission[permitsFree=" + permits.availablePermits() + ", queued=" + queued.get() + ", " + heap + "]";
    }

    /** Fair handshake permits that remember when one was last taken or given back. */
    private static final class Permits extends Semaphore {
        private static final long serialVersionUID = 1L;

        /** {@link System#nanoTime} of the last acquire or release: the backend moving. */
        volatile long lastMove = System.nanoTime();

        Permits(int permits) {
            super(permits, true);
        }

        void moved() {
            lastMove = System.nanoTime();
        }

        @Override
        public void release() {
            super.release();
            moved();
        }
    }
}
