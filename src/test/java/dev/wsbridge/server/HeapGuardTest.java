package dev.wsbridge.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.config.HeapReserve;
import dev.wsbridge.support.Await;
import org.junit.jupiter.api.Test;

/** {@link HeapGuard} in this JVM, with its real collectors. */
class HeapGuardTest {

    private static final int LIVE = 64 << 20;

    @Test
    void refusesWhenMoreIsAskedThanTheHeapHas() {
        try (HeapGuard guard = HeapGuard.start("test", new HeapReserve(1024L << 30, -1))) {
            assertFalse(guard.admits());
        }
    }

    @Test
    void admitsWhenTheReserveIsLeft() {
        try (HeapGuard guard = HeapGuard.start("test", new HeapReserve(1 << 20, -1))) {
            assertTrue(guard.admits());
        }
    }

    @Test
    void offAdmitsEverything() {
        try (HeapGuard guard = HeapGuard.start("test", new HeapReserve(0, 0))) {
            assertTrue(guard.admits());
        }
    }

    @Test
    void followsWhatEachCollectionLeaves() {
        try (HeapGuard guard = HeapGuard.start("test", new HeapReserve(0, 1))) {
            byte[] live = new byte[LIVE];
            System.gc();
            Await.until("a collection counting the live array", 10, () -> guard.usedAfterGc() >= LIVE,
                    guard::toString);
            long withArray = guard.usedAfterGc();
            live[LIVE - 1] = 1;
            live = null;
            System.gc();
            Await.until("a collection without the array", 10, () -> guard.usedAfterGc() < withArray - LIVE / 2,
                    guard::toString);
        }
    }

    /**
     * After the heap has filled and emptied, a quiet JVM may not collect again for a long time: the guard asks
     * for a collection itself rather than refuse on the strength of an old one.
     */
    @Test
    void asksForACollectionRatherThanRefuseOnAnOldOne() {
        System.gc();
        long baseline = java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long max = Runtime.getRuntime().maxMemory();
        int big = 256 << 20;
        HeapReserve reserve = new HeapReserve(max - baseline - big / 2, -1);
        try (HeapGuard guard = HeapGuard.start("test", reserve, java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(200))) {
            byte[] live = new byte[big];
            System.gc();
            Await.until("refusing while the array is live", 10, () -> guard.usedAfterGc() >= big && !guard.admits(),
                    guard::toString);
            live[big - 1] = 1;
            live = null;

            Await.until("admitting again without a collection from anyone else", 20, guard::admits, guard::toString);
        }
    }
}
