package dev.wsbridge.soak;

import dev.wsbridge.support.BridgeContainer;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.ScriptedBackend;
import dev.wsbridge.support.TestClient;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A soak run (not a test): minutes of mixed traffic over many sessions through the bridge, with faults
 * injected at random. Every message carries its session's sequence number; on sessions that were not
 * faulted every message must come back once and in order. Run with {@code mvn -Psoak}; tune with
 * {@code -Dsoak.minutes=}, {@code -Dsoak.sessions=}, {@code -Dsoak.container=TOMCAT|JETTY}.
 */
public final class SoakRun {

    private enum Fault {
        NONE, CLIENT_DROPS, BACKEND_DROPS, CLIENT_CLOSES, BACKEND_CLOSES
    }

    private final AtomicLong messages = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong duplicated = new AtomicLong();
    private final AtomicLong reordered = new AtomicLong();
    private final AtomicLong badCloses = new AtomicLong();
    private final AtomicLong faults = new AtomicLong();
    private final AtomicLong sessions = new AtomicLong();

    public static void main(String[] args) throws Exception {
        double minutes = Double.parseDouble(System.getProperty("soak.minutes", "2"));
        int parallel = Integer.parseInt(System.getProperty("soak.sessions", "100"));
        BridgeContainer.Kind kind = BridgeContainer.Kind.valueOf(System.getProperty("soak.container", "JETTY"));
        new SoakRun().run(kind, minutes, parallel);
    }

    private void run(BridgeContainer.Kind kind, double minutes, int parallel) throws Exception {
        try (ScriptedBackend backend = new ScriptedBackend().record(false); BridgeContainer container = kind.create()) {
            container.start(Map.of("proxyTo", backend.uri().toString(), "closeTimeout", "2s"), Map.of());
            try (TestClient client = new TestClient()) {
                long heapBefore = usedHeapAfterGc();
                long deadline = System.nanoTime() + (long) (minutes * 60e9);
                List<Thread> workers = new ArrayList<>();
                for (int i = 0; i < parallel; i++) {
                    Thread t = new Thread(() -> work(client, container, deadline), "soak-" + i);
                    t.start();
                    workers.add(t);
                }
                for (Thread t : workers) {
                    t.join();
                }
                Thread.sleep(3000);
                long heapAfter = usedHeapAfterGc();
                System.out.printf("%nsoak: %s, %.1f min, %d parallel%n", kind, minutes, parallel);
                System.out.printf("  sessions           %,d%n", sessions.get());
                System.out.printf("  messages           %,d (%,d MiB)%n", messages.get(), bytes.get() >> 20);
                System.out.printf("  faults injected    %,d%n", faults.get());
                System.out.printf("  lost / duplicated / reordered (unfaulted sessions)   %d / %d / %d%n",
                        lost.get(), duplicated.get(), reordered.get());
                System.out.printf("  unexpected close codes   %d%n", badCloses.get());
                System.out.printf("  heap used after GC: before %,d KiB, after %,d KiB%n", heapBefore >> 10, heapAfter >> 10);
                if (lost.get() + duplicated.get() + reordered.get() + badCloses.get() > 0) {
                    System.out.println("SOAK FAILED");
                    System.exit(1);
                }
            }
        }
    }

    private void work(TestClient client, BridgeContainer container, long deadline) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        while (System.nanoTime() < deadline) {
            Peer c = client.connect(container.wss("/wsapp/soak"));
            sessions.incrementAndGet();
            Fault fault = r.nextInt(10) < 7 ? Fault.NONE : Fault.values()[1 + r.nextInt(4)];
            int count = 20 + r.nextInt(200);
            int faultAt = fault == Fault.NONE ? -1 : r.nextInt(count);
            int expected = 0;
            for (int seq = 0; seq < count; seq++) {
                if (seq == faultAt) {
                    faults.incrementAndGet();
                    inject(fault, c);
                    break;
                }
                int size = r.nextInt(100) < 95 ? 16 + r.nextInt(2000) : 100_000 + r.nextInt(400_000);
                byte[] payload = new byte[size];
                ByteBuffer.wrap(payload).putInt(seq);
                try {
                    if (r.nextBoolean()) {
                        c.send(payload);
                    } else {
                        c.send(text(seq, size));
                    }
                } catch (AssertionError e) {
                    lost.incrementAndGet();
                    break;
                }
                messages.incrementAndGet();
                bytes.addAndGet(size);
                // Read back lazily: keep a few messages in flight.
                while (expected <= seq - 4) {
                    check(c, expected++);
                }
            }
            if (fault == Fault.NONE) {
                while (expected < count) {
                    check(c, expected++);
                }
                c.close(1000, "done");
                int code = c.closed().code();
                if (code != 1000) {
                    badCloses.incrementAndGet();
                }
            } else {
                int code = c.closed().code();
                if (code != expectedClose(fault)) {
                    badCloses.incrementAndGet();
                    System.out.println("  " + fault + " ended the client with " + code);
                }
            }
        }
    }

    /** Injects the fault: at the client directly, at the backend by a command it obeys. */
    private static void inject(Fault fault, Peer c) {
        switch (fault) {
            case CLIENT_DROPS -> c.session().disconnect();
            case BACKEND_DROPS -> c.send("!disconnect");
            case CLIENT_CLOSES -> c.close(4000, "client leaves");
            case BACKEND_CLOSES -> c.send("!close:4001");
            default -> {
            }
        }
    }

    /** The close code the client must see after the fault. */
    private static int expectedClose(Fault fault) {
        return switch (fault) {
            case CLIENT_DROPS -> 1006;
            case BACKEND_DROPS -> 1014;
            case CLIENT_CLOSES -> 4000;
            case BACKEND_CLOSES -> 4001;
            default -> 1000;
        };
    }

    private void check(Peer c, int seq) {
        Object m;
        try {
            m = c.next();
        } catch (AssertionError e) {
            lost.incrementAndGet();
            return;
        }
        int got = m instanceof byte[] b ? ByteBuffer.wrap(b).getInt() : Integer.parseInt(((String) m).substring(0, 10).trim());
        if (got < seq) {
            duplicated.incrementAndGet();
        } else if (got > seq) {
            reordered.incrementAndGet();
        }
    }

    private static String text(int seq, int size) {
        StringBuilder sb = new StringBuilder(size);
        sb.append(String.format("%10d", seq));
        while (sb.length() < size) {
            sb.append("soak✓ ");
        }
        return sb.substring(0, Math.max(10, size / 3));
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            TimeUnit.MILLISECONDS.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
