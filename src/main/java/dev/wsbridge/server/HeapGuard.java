package dev.wsbridge.server;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.GcInfo;
import com.sun.management.HotSpotDiagnosticMXBean;
import dev.wsbridge.config.HeapReserve;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses new sessions while the heap left after the last garbage collection is under {@code minFreeHeap},
 * or the direct buffer memory left is under {@code minFreeDirectMemory} (where a container keeps a session's
 * buffers off the heap, as Tomcat does with {@code socket.directSslBuffer}).
 * The heap in use is read from the collectors' own notifications (what each pool held when the collection
 * ended), so garbage waiting for the next collection does not count, and {@link #admits()} only reads a
 * field and the JDK's count of direct buffer memory: refusing costs no allocation and no lock.
 *
 * <p>After a young collection the old pool's figure still includes garbage not yet collected: the guard errs
 * towards refusing. A pool the collection did not manage and did not change (such as the young pools during
 * a concurrent collector's pause) keeps its figure from the collection that last emptied it.
 */
final class HeapGuard implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HeapGuard.class);
    /** Ten seconds of refusing without a collection before the guard asks for one. */
    private static final long DEFAULT_RECHECK_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final String route;
    private final long maxHeap;
    private final long minFree;
    private final Set<String> heapPools = new HashSet<>();
    /** Per heap pool, bytes in use after the last collection that told us about it; guarded by this. */
    private final Map<String, Long> usedByPool = new java.util.HashMap<>();
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final NotificationListener listener = this::collected;
    private volatile long usedAfterGc;
    private volatile boolean admitting = true;
    /** How long the guard refuses on the strength of one collection before it asks for another. */
    private final long recheckNanos;
    /** {@link System#nanoTime} of the last collection reported, or of the last one asked for. */
    private final AtomicLong lastLook = new AtomicLong(System.nanoTime());

    /** The JVM's direct buffer pool, or null when direct memory is not watched. */
    private BufferPoolMXBean direct;
    private long maxDirect;
    private long minFreeDirect;
    private volatile boolean directAdmitting = true;

    private HeapGuard(String route, long maxHeap, long minFree, long recheckNanos) {
        this.route = route;
        this.maxHeap = maxHeap;
        this.minFree = minFree;
        this.recheckNanos = recheckNanos;
    }

    /**
     * Watches direct buffer memory too, against {@code reserve} of the JVM's limit ({@code -XX:MaxDirectMemorySize},
     * by default the maximum heap); nothing when {@code reserve} is off or the JVM does not say.
     */
    HeapGuard watchingDirectMemory(HeapReserve reserve) {
        if (reserve.off()) {
            return this;
        }
        try {
            long limit = Long.parseLong(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .getVMOption("MaxDirectMemorySize").getValue());
            maxDirect = limit > 0 ? limit : Runtime.getRuntime().maxMemory();
            for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (pool.getName().equals("direct")) {
                    direct = pool;
                }
            }
        } catch (LinkageError | RuntimeException e) {
            direct = null;
        }
        if (direct == null || maxDirect == Long.MAX_VALUE) {
            LOG.warn("wsbridge route [{}]: this JVM does not report its direct buffer memory, so minFreeDirectMemory [{}]"
                    + " cannot be applied", route, reserve);
            direct = null;
            return this;
        }
        minFreeDirect = reserve.of(maxDirect);
        return this;
    }

    /**
     * Starts watching the collectors; the guard admits everything when {@code reserve} is off, the heap has no
     * maximum, or this JVM gives no collection notifications ({@code com.sun.management}).
     */
    static HeapGuard start(String route, HeapReserve reserve) {
        return start(route, reserve, DEFAULT_RECHECK_NANOS);
    }

    /** As {@link #start(String, HeapReserve)}, asking for a collection after {@code recheckNanos} of refusing. */
    static HeapGuard start(String route, HeapReserve reserve, long recheckNanos) {
        long maxHeap = Runtime.getRuntime().maxMemory();
        if (reserve.off()) {
            return new HeapGuard(route, maxHeap, 0, recheckNanos);
        }
        if (maxHeap == Long.MAX_VALUE) {
            LOG.warn("wsbridge route [{}]: the heap has no maximum, so minFreeHeap [{}] cannot be applied", route, reserve);
            return new HeapGuard(route, maxHeap, 0, recheckNanos);
        }
        HeapGuard guard = new HeapGuard(route, maxHeap, reserve.of(maxHeap), recheckNanos);
        try {
            guard.watch();
        } catch (LinkageError | RuntimeException e) {
            guard.close();
            LOG.warn("wsbridge route [{}]: this JVM reports no garbage collections ({}), so minFreeHeap [{}] cannot be"
                    + " applied", route, e, reserve);
            return new HeapGuard(route, maxHeap, 0, recheckNanos);
        }
        return guard;
    }

    private void watch() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapPools.add(pool.getName());
                // Until the first collection is reported: what the pool holds now, garbage included.
                usedByPool.put(pool.getName(), pool.getUsage().getUsed());
            }
        }
        GcInfo latest = null;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof com.sun.management.GarbageCollectorMXBean sun) {
                GcInfo last = sun.getLastGcInfo();
                if (last != null && (latest == null || last.getEndTime() > latest.getEndTime())) {
                    latest = last;
                }
            }
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(listener, null, null);
                emitters.add(emitter);
            }
        }
        if (emitters.isEmpty()) {
            throw new IllegalStateException("no garbage collector emits notifications");
        }
        synchronized (this) {
            if (latest != null) {
                latest.getMemoryUsageAfterGc().forEach((pool, usage) -> {
                    if (heapPools.contains(pool)) {
                        usedByPool.put(pool, usage.getUsed());
                    }
                });
            }
            update();
        }
    }

    /**
     * Whether a new session may be taken: an unlocked read of what the last collection left. While it refuses,
     * it asks for a collection once no collection has been reported for {@code recheckNanos}: the sessions that
     * filled the heap may have ended since, and a quiet container may not collect for a long time, which would
     * otherwise keep it refusing (a {@code -XX:+DisableExplicitGC} JVM leaves that to its own collections).
     */
    boolean admits() {
        if (admitting && directRoom()) {
            return true;
        }
        long now = System.nanoTime();
        long last = lastLook.get();
        if (now - last >= recheckNanos && lastLook.compareAndSet(last, now)) {
            Thread collector = new Thread(System::gc, "wsbridge-" + route + "-heap-recheck");
            collector.setDaemon(true);
            collector.start();
        }
        return false;
    }

    /**
     * Whether the direct buffer memory in use leaves {@code minFreeDirect}: one read of the JDK's own count.
     * Direct buffers no longer used count until a collection frees them, which {@link #admits} asks for after
     * refusing for a while.
     */
    private boolean directRoom() {
        if (direct == null) {
            return true;
        }
        long used = direct.getMemoryUsed();
        boolean room = maxDirect - used >= minFreeDirect;
        if (room != directAdmitting) {
            directAdmitting = room;
            if (room) {
                LOG.info("wsbridge route [{}] takes new sessions again: {} MiB of direct buffer memory free,"
                        + " minFreeDirectMemory is {} MiB", route, (maxDirect - used) >> 20, minFreeDirect >> 20);
            } else {
                LOG.warn("wsbridge route [{}] refuses new sessions with 503: {} MiB of direct buffer memory free,"
                        + " minFreeDirectMemory is {} MiB", route, (maxDirect - used) >> 20, minFreeDirect >> 20);
            }
        }
        return room;
    }

    /** Bytes of heap in use after the last collection, as the guard counts them. */
    long usedAfterGc() {
        return usedAfterGc;
    }

    private void collected(Notification notification, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
            return;
        }
        GarbageCollectionNotificationInfo info =
                GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
        Set<String> managed = new HashSet<>(Arrays.asList(managedPools(info.getGcName())));
        Map<String, MemoryUsage> before = info.getGcInfo().getMemoryUsageBeforeGc();
        lastLook.set(System.nanoTime());
        synchronized (this) {
            info.getGcInfo().getMemoryUsageAfterGc().forEach((pool, after) -> {
                MemoryUsage was = before.get(pool);
                // A pool this collector does not manage counts only when the collection changed it: the old
                // pool that a young collection promoted into, not the young pools during a concurrent pause.
                if (heapPools.contains(pool)
                        && (managed.contains(pool) || was == null || was.getUsed() != after.getUsed())) {
                    usedByPool.put(pool, after.getUsed());
                }
            });
            update();
        }
    }

    private static String[] managedPools(String collector) {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc.getName().equals(collector)) {
                return gc.getMemoryPoolNames();
            }
        }
        return new String[0];
    }

    /** Recomputes the verdict; logs when it changes. Called holding this. */
    private void update() {
        long used = 0;
        for (long u : usedByPool.values()) {
            used += u;
        }
        usedAfterGc = used;
        boolean admit = minFree == 0 || maxHeap - used >= minFree;
        if (admit != admitting) {
            admitting = admit;
            if (admit) {
                LOG.info("wsbridge route [{}] takes new sessions again: {} MiB heap free after the last collection,"
                        + " minFreeHeap is {} MiB", route, (maxHeap - used) >> 20, minFree >> 20);
            } else {
                LOG.warn("wsbridge route [{}] refuses new sessions with 503: {} MiB heap free after the last"
                        + " collection, minFreeHeap is {} MiB", route, (maxHeap - used) >> 20, minFree >> 20);
            }
        }
    }

    /** Stops watching: the platform's collectors must not keep this web application's classes. */
    @Override
    public void close() {
        for (NotificationEmitter emitter : emitters) {
            try {
                emitter.removeNotificationListener(listener);
            } catch (ListenerNotFoundException e) {
                // never added
            }
        }
        emitters.clear();
    }

    @Override
    public String toString() {
        return "HeapGuard[route=" + route + ", maxHeap=" + maxHeap + ", minFree=" + minFree + ", usedAfterGc="
                + usedAfterGc + ", admitting=" + admitting + "]";
    }
}
