package dev.wsbridge.bridge;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The sessions of one route: a slot is reserved before the backend is contacted, so {@code maxSessions}
 * counts handshakes in progress too, and {@link #shutdown} can close every open session on undeploy.
 */
public final class BridgeRegistry {

    private final Semaphore slots;
    private final Set<Bridged> open = ConcurrentHashMap.newKeySet();

    public BridgeRegistry(int maxSessions) {
        this.slots = new Semaphore(maxSessions);
    }

    /** Reserves a session slot; false when the route is full. */
    public boolean tryReserve() {
        return slots.tryAcquire();
    }

    /** Gives back a slot reserved for a handshake that did not become a session. */
    public void unreserve() {
        slots.release();
    }

    /**
     * Tracks a bridge holding a reserved slot, from before its backend is contacted; the slot is given
     * back by {@link #closed}, once.
     */
    public void track(Bridged bridge) {
        open.add(bridge);
    }

    /** Called when a tracked bridge is released, or its handshake failed; later calls do nothing. */
    public void closed(Bridged bridge) {
        if (open.remove(bridge)) {
            slots.release();
        }
    }

    public int size() {
        return open.size();
    }

    /**
     * Undeploy or shutdown: drains every session ({@link Bridge#drain}), ends those still draining after
     * {@code drainMillis} with 1001 at once, and waits at most {@code closeMillis} more for all to be released.
     *
     * @return the number of sessions still open after the wait
     */
    public int shutdown(long drainMillis, long closeMillis) throws InterruptedException {
        for (Bridged b : open) {
            b.drain();
        }
        awaitEmpty(drainMillis);
        for (Bridged b : open) {
            b.shutdown();
        }
        awaitEmpty(closeMillis);
        return open.size();
    }

    private void awaitEmpty(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!open.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }
}
