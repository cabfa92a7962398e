package dev.wsbridge.bridge;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The JDK's raw-deflate {@link Inflater}s and {@link Deflater}s (RFC 7692 uses deflate without the zlib
 * wrapper), kept for reuse between messages: without context takeover a session borrows one only while a
 * message is in flight, so an idle session holds none. At most {@link #MAX_IDLE} of each wait here; the rest
 * are ended at once, so their native memory goes back without waiting for a collection.
 */
final class ZlibPool {

    /** Most idle inflaters, and most idle deflaters, kept. */
    private static final int MAX_IDLE = 64;

    private static final Queue<Inflater> INFLATERS = new ConcurrentLinkedQueue<>();
    private static final Queue<Deflater> DEFLATERS = new ConcurrentLinkedQueue<>();
    private static final AtomicInteger IDLE_INFLATERS = new AtomicInteger();
    private static final AtomicInteger IDLE_DEFLATERS = new AtomicInteger();

    private ZlibPool() {
    }

    static Inflater inflater() {
        Inflater inflater = INFLATERS.poll();
        if (inflater == null) {
            return new Inflater(true);
        }
        IDLE_INFLATERS.decrementAndGet();
        return inflater;
    }

    static void release(Inflater inflater) {
        inflater.reset();
        if (IDLE_INFLATERS.incrementAndGet() <= MAX_IDLE) {
            INFLATERS.add(inflater);
        } else {
            IDLE_INFLATERS.decrementAndGet();
            inflater.end();
        }
    }

    /** A deflater at the fastest level: a relay compresses to save bandwidth without becoming the bottleneck. */
    static Deflater deflater() {
        Deflater deflater = DEFLATERS.poll();
        if (deflater == null) {
            return new Deflater(Deflater.BEST_SPEED, true);
        }
        IDLE_DEFLATERS.decrementAndGet();
        return deflater;
    }

    static void release(Deflater deflater) {
        deflater.reset();
        if (IDLE_DEFLATERS.incrementAndGet() <= MAX_IDLE) {
            DEFLATERS.add(deflater);
        } else {
            IDLE_DEFLATERS.decrementAndGet();
            deflater.end();
        }
    }
}
