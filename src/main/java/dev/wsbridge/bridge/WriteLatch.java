package dev.wsbridge.bridge;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.util.Callback;

/**
 * The one write in flight toward the backend, waited on by the container thread that delivered the
 * client's data: this is the client leg's backpressure, since Jakarta WebSocket has no demand API.
 * Reused for every write of a session, so a message costs no allocation here.
 */
final class WriteLatch implements Callback {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition done = lock.newCondition();
    private boolean complete;
    private Throwable failure;

    /** Arms the latch for the next write and returns it as that write's callback. */
    Callback arm() {
        lock.lock();
        try {
            complete = false;
            failure = null;
        } finally {
            lock.unlock();
        }
        return this;
    }

    @Override
    public void succeeded() {
        finish(null);
    }

    @Override
    public void failed(Throwable x) {
        finish(x == null ? new IllegalStateException("write failed") : x);
    }

    private void finish(Throwable x) {
        lock.lock();
        try {
            complete = true;
            failure = x;
            done.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for the armed write.
     *
     * @return {@code null} on success, else the failure (a timeout included)
     */
    Throwable await(long timeoutMillis) {
        long nanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        lock.lock();
        try {
            while (!complete) {
                if (nanos <= 0) {
                    return new java.util.concurrent.TimeoutException("backend write did not complete in " + timeoutMillis + " ms");
                }
                nanos = done.awaitNanos(nanos);
            }
            return failure;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e;
        } finally {
            lock.unlock();
        }
    }
}
