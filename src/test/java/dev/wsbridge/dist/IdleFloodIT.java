package dev.wsbridge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A flood of idle sessions against a small heap, in the real Tomcat 10.1 (its {@code maxConnections} raised, as
 * an admin expecting many WebSockets does) and Jetty 12.1 with their stock thread pools: the WAR answers 503
 * before the heap runs out, the container never throws an {@code OutOfMemoryError}, keeps answering plain
 * requests, and lets new sessions in once the flood has gone. The build runs it at {@code -Xmx128m};
 * {@code -Dit.floodHeap=512m -Dit.floodSessions=9000} is the README's figure.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.wsbridge.dist.StalledPeersIT#relayDistributions")
class IdleFloodIT {

    private static final String HEAP = System.getProperty("it.floodHeap", "128m");
    private static final int MAX_SESSIONS = Integer.getInteger("it.floodSessions", 9000);
    /** Refusals after which the flood stops: the guard has shown it holds. */
    private static final int ENOUGH_REFUSALS = 200;

    @Parameter
    Distribution distribution;

    @Test
    void idleFloodGets503BeforeTheHeapRunsOut() throws Exception {
        try (StalledPeersIT.Backend backend = new StalledPeersIT.Backend();
                ContainerProcess container = distribution.newProcess(Path.of("target", "it", "IdleFloodIT", distribution.name()))) {
            container.jvmOption("-Xmx" + HEAP);
            if (container instanceof TomcatProcess tomcat) {
                tomcat.editServerXml(xml -> xml.replace("maxThreads=\"150\">", "maxThreads=\"150\" maxConnections=\"20000\">"));
            }
            container.deploy("ROOT", ContainerProcess.builtWar());
            container.contextParams("ROOT", Map.of("proxyTo", backend.uri()));
            container.start();
            container.awaitStatus("/wsapp/", 426);
            WebSocketClient client = client();
            try {
                Queue<Session> open = new ConcurrentLinkedQueue<>();
                Map<Integer, Integer> statuses = new ConcurrentSkipListMap<>();
                AtomicInteger refused = new AtomicInteger();
                long t0 = System.nanoTime();
                Semaphore inFlight = new Semaphore(32);
                int attempts = 0;
                while (attempts < MAX_SESSIONS && refused.get() < ENOUGH_REFUSALS) {
                    assertTrue(inFlight.tryAcquire(60, TimeUnit.SECONDS), "handshakes stalled after " + attempts);
                    attempts++;
                    client.connect(new Idle(), container.wss("/wsapp/echo")).whenComplete((s, x) -> {
                        int status = s != null ? 101 : status(x);
                        if (s != null) {
                            open.add(s);
                        } else if (status == 503) {
                            refused.incrementAndGet();
                        }
                        statuses.merge(status, 1, Integer::sum);
                        inFlight.release();
                    });
                }
                assertTrue(inFlight.tryAcquire(32, 60, TimeUnit.SECONDS), "last handshakes not answered");
                long floodMillis = (System.nanoTime() - t0) / 1_000_000;
                int page = container.get("/index.html", Map.of()).statusCode();
                Jcmd.Footprint flooded = Jcmd.footprint(container.pid());
                if (Boolean.getBoolean("it.floodHistogram")) {
                    // What the sessions hold, class by class: -Dit.floodHistogram=true.
                    System.out.println(Jcmd.run(container.pid(), "GC.class_histogram").lines().limit(60)
                            .collect(java.util.stream.Collectors.joining("\n")));
                }

                for (Session s : open) {
                    s.close();
                }
                Await.until("the flood's sessions closed", 60, () -> open.stream().noneMatch(Session::isOpen));
                // The heap guard reads the heap left after a collection; once the flood is gone it asks for one
                // itself if none comes (a quiet container may not collect for a long time).
                if (Boolean.getBoolean("it.floodHistogram")) {
                    Thread.sleep(10_000);
                    System.out.println("after the flood closed:\n" + Jcmd.run(container.pid(), "GC.class_histogram").lines()
                            .limit(40).collect(java.util.stream.Collectors.joining("\n")));
                }
                Peer after = new Peer();
                long t1 = System.nanoTime();
                // The heap guard reads the heap left after a collection: ended sessions must be unreachable, and the
                // guard asks for a collection itself when none comes.
                boolean readmitted = awaitAdmitted(client, container, after, 60);
                assertTrue(readmitted, "no new session admitted within 60 s after the flood closed");
                long readmittedMillis = readmitted ? (System.nanoTime() - t1) / 1_000_000 : -1;
                String echoed = "after the flood";
                if (readmitted) {
                    after.send("after the flood");
                    echoed = after.nextText();
                    after.close(1000, "done");
                }

                System.out.printf("%s, -Xmx%s, %,d handshakes in %,d ms: %s; with them open: plain GET %d, %s;"
                        + " a new session admitted %,d ms after the flood closed%n",
                        distribution, HEAP, attempts, floodMillis, new TreeMap<>(statuses), page, flooded, readmittedMillis);
                assertFalse(container.log().contains("OutOfMemoryError"), "the container ran out of heap:\n" + container.tail());
                assertTrue(container.isAlive());
                assertEquals(200, page);
                assertEquals("after the flood", echoed);
                assertEquals(List.of(), statuses.keySet().stream().filter(s -> s != 101 && s != 503).toList(),
                        "handshakes answered neither 101 nor 503: " + statuses);
            } finally {
                client.stop();
            }
        }
    }

    private static WebSocketClient client() throws Exception {
        WebSocketClient client = new WebSocketClient(StalledPeersIT.clients("flood-client", MAX_SESSIONS + 100));
        client.setIdleTimeout(Duration.ofMinutes(10));
        client.start();
        return client;
    }

    /** Tries a new session until one is admitted, at most {@code seconds}; whether one was. */
    private static boolean awaitAdmitted(WebSocketClient client, ContainerProcess container, Peer peer, int seconds)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try {
                client.connect(peer, container.wss("/wsapp/echo")).get(30, TimeUnit.SECONDS);
                return true;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException | java.io.IOException e) {
                Thread.sleep(500);
            }
        }
        return false;
    }

    /** The status of a refused handshake; -1 for a failure without one. */
    private static int status(Throwable failure) {
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof UpgradeException u && u.getResponseStatusCode() > 0) {
                return u.getResponseStatusCode();
            }
        }
        return -1;
    }

    /** A session that says nothing. */
    public static final class Idle implements Session.Listener.AutoDemanding {
    }
}
