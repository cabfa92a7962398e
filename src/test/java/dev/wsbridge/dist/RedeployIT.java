package dev.wsbridge.dist;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.ScriptedBackend;
import dev.wsbridge.support.TestClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Redeploy and undeploy hygiene in the real distributions. With sessions open, the WAR in {@code webapps/} is
 * replaced {@value #REDEPLOYS} times and the container hot-redeploys it; every undeploy closes both client
 * sessions and both backend sessions with 1001. Afterwards the container JVM has as many live threads, as much
 * heap after a full GC and as many web application class loaders as before the redeploys (measured with the
 * JDK's {@code jcmd}), Tomcat logs no leak warning and its manager's
 * {@code findleaks} finds no stopped web application still in memory. Last, stopping the container with
 * SIGTERM, as an admin stopping the service does, ends the open sessions the same way.
 */
class RedeployIT {

    private static final int REDEPLOYS = 5;
    /** Live threads the container may have more of after the redeploys than before. */
    private static final int THREAD_TOLERANCE = 2;
    /** Heap used after a full GC the container may have more of after the redeploys than before. */
    private static final long HEAP_TOLERANCE_KIB = 10 * 1024;
    private static final String READY = "wsbridge route \\[wsapp\\] ready";
    /** What Tomcat's WebappClassLoaderBase logs when a stopped web application left something behind. */
    private static final List<String> TOMCAT_LEAK_WARNINGS = List.of("appears to have started a thread", "failed to stop it",
            "ThreadLocal", "memory leak", "pinned", "did not stop");
    /** What wsbridge logs when its own shutdown went wrong. */
    private static final List<String> BRIDGE_SHUTDOWN_WARNINGS = List.of("sessions still open after the close timeout",
            "closing sessions failed", "Stopping the backend client failed");
    private static final String NO_LEAKS = "OK - No memory leaks found";
    private static final String MANAGER_USER = "wsbridge-it";
    private static final String MANAGER_PASSWORD = "redeploy-" + Long.toHexString(System.nanoTime());

    static Stream<Distribution> distributions() {
        return Stream.of(Distribution.TOMCAT_10_1, Distribution.TOMCAT_11, Distribution.JETTY_12_1_EE10)
                .filter(Distribution.selected()::contains);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("distributions")
    void redeploysAndShutdownClose1001AndLeaveNothingBehind(Distribution distribution) throws Exception {
        long started = System.nanoTime();
        List<Executable> checks = new ArrayList<>();
        try (ScriptedBackend backend = new ScriptedBackend();
                ContainerProcess container = distribution.newProcess(Path.of("target", "it", "RedeployIT", distribution.name()))) {
            container.enableHotRedeploy();
            Path war = ContainerProcess.builtWar();
            container.deploy("ROOT", war);
            container.contextParams("ROOT", Map.of("proxyTo", backend.uri().toString()));
            if (container instanceof TomcatProcess tomcat) {
                tomcat.enableManager(MANAGER_USER, MANAGER_PASSWORD);
            }
            container.start();
            container.awaitStatus("/wsapp/", 426);

            try (TestClient client = new TestClient()) {
                Jcmd.run(container.pid(), "VM.version"); // its Attach Listener thread is there from now on
                steadyState(container, client, backend);
                String leaksBefore = findLeaks(container);
                assertEquals(NO_LEAKS, leaksBefore, "findleaks before any redeploy");
                Jcmd.Footprint before = Jcmd.footprint(container.pid());

                for (int i = 1; i <= REDEPLOYS; i++) {
                    redeployWithSessionsOpen(container, client, backend, war, i);
                }

                steadyState(container, client, backend);
                String leaks = findLeaks(container);
                for (int attempt = 1; attempt < 5 && !NO_LEAKS.equals(leaks); attempt++) {
                    // findleaks runs one GC and reports a stopped context whose loader is still reachable at
                    // that moment as a "potential" leak; the last undeploy's threads may still be ending.
                    System.out.printf("%s: findleaks said [%s]; asking again%n", distribution, leaks.replace('\n', ' '));
                    Thread.sleep(2000);
                    leaks = findLeaks(container);
                }
                String leaksAfter = leaks;
                Jcmd.Footprint after = Jcmd.footprint(container.pid());
                for (int attempt = 1; attempt < 5 && !withinTolerance(before, after); attempt++) {
                    Thread.sleep(2000); // threads of the last undeploy may still be ending
                    after = Jcmd.footprint(container.pid());
                }
                System.out.printf("%s: before %d redeploys: %s%n%s: after  %d redeploys: %s%n", distribution, REDEPLOYS, before,
                        distribution, REDEPLOYS, after);
                Jcmd.Footprint last = after;
                checks.add(() -> assertEquals(NO_LEAKS, leaksAfter, "findleaks after " + REDEPLOYS + " redeploys"));
                checks.add(() -> assertTrue(last.threads() <= before.threads() + THREAD_TOLERANCE, "live threads " + before.threads()
                        + " before " + REDEPLOYS + " redeploys, " + last.threads() + " after; more of:\n"
                        + last.moreThreadsThan(before)));
                checks.add(() -> assertTrue(last.heapKiB() <= before.heapKiB() + HEAP_TOLERANCE_KIB, "heap used after GC "
                        + before.heapKiB() + " KiB before " + REDEPLOYS + " redeploys, " + last.heapKiB() + " KiB after"));
                checks.add(() -> assertEquals(before.webappClassLoaders(), last.webappClassLoaders(),
                        "web application class loaders alive after a full GC, before and after " + REDEPLOYS + " redeploys"));

                checks.add(shutdownWithSessionsOpen(container, client, backend));
            }

            String log = container.log();
            checks.add(() -> assertEquals(REDEPLOYS + 1, count(log, READY), "deployments"));
            checks.add(() -> assertNoLines(log, BRIDGE_SHUTDOWN_WARNINGS));
            if (distribution.isTomcat()) {
                checks.add(() -> assertNoLines(log, TOMCAT_LEAK_WARNINGS));
            }
        }
        System.out.printf("%s: %d redeploys and the shutdown took %d s%n", distribution, REDEPLOYS,
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
        assertAll(distribution + ": redeploy and shutdown hygiene", checks);
    }

    /** Two sessions open through the bridge, the WAR replaced: all four legs get 1001, then the new deployment serves. */
    private static void redeployWithSessionsOpen(ContainerProcess container, TestClient client, ScriptedBackend backend, Path war,
            int i) throws Exception {
        Peer c1 = client.connect(container.wss("/wsapp/r" + i + "a"));
        Peer b1 = backend.session();
        Peer c2 = client.connect(container.wss("/wsapp/r" + i + "b"));
        Peer b2 = backend.session();
        c1.send("before redeploy " + i);
        assertEquals("before redeploy " + i, b1.nextText());
        assertEquals("before redeploy " + i, c1.nextText());

        container.redeploy("ROOT", war);

        assertAllGoingAway("redeploy " + i, container, c1, c2, b1, b2);
        int deployments = i + 1;
        Await.until("deployment " + deployments, 60, () -> count(container.log(), READY) >= deployments);
        container.awaitStatus("/wsapp/", 426);
    }

    /**
     * Two sessions open through the bridge, the container stopped with SIGTERM; the check that it exited by itself
     * and that all four legs got 1001.
     */
    private static Executable shutdownWithSessionsOpen(ContainerProcess container, TestClient client, ScriptedBackend backend)
            throws Exception {
        Peer c1 = client.connect(container.wss("/wsapp/shutdown-a"));
        Peer b1 = backend.session();
        Peer c2 = client.connect(container.wss("/wsapp/shutdown-b"));
        Peer b2 = backend.session();
        c2.send("before shutdown");
        assertEquals("before shutdown", b2.nextText());
        assertEquals("before shutdown", c2.nextText());

        boolean exited = container.terminate(30);

        return () -> {
            assertTrue(exited, "did not exit within 30 s of SIGTERM");
            assertAllGoingAway("SIGTERM", container, c1, c2, b1, b2);
        };
    }

    /**
     * Brings the container to a comparable state before measuring it: Tomcat's connector pool grown to its core
     * size (it adds a thread per request until then), one session bridged and closed (the backend client's
     * threads started).
     */
    private static void steadyState(ContainerProcess container, TestClient client, ScriptedBackend backend) throws Exception {
        for (int i = 0; i < 20; i++) {
            // Proxied over HTTP to the WebSocket backend, which has nothing to serve there.
            assertEquals(404, container.get("/wsapp/", Map.of()).statusCode(), "GET /wsapp/");
        }
        Peer c = client.connect(container.wss("/wsapp/steady"));
        Peer b = backend.session();
        c.send("steady");
        assertEquals("steady", b.nextText());
        assertEquals("steady", c.nextText());
        c.close(1000, "done");
        assertEquals(new Peer.Closed(1000, "done"), b.closed());
        assertEquals(new Peer.Closed(1000, "done"), c.closed());
    }

    /** Tomcat's {@code findleaks} answer, stripped; {@link #NO_LEAKS} for Jetty, which has no such thing. */
    private static String findLeaks(ContainerProcess container) throws Exception {
        return container instanceof TomcatProcess tomcat ? tomcat.findLeaks(MANAGER_USER, MANAGER_PASSWORD).strip() : NO_LEAKS;
    }

    private static boolean withinTolerance(Jcmd.Footprint before, Jcmd.Footprint after) {
        return after.threads() <= before.threads() + THREAD_TOLERANCE && after.heapKiB() <= before.heapKiB() + HEAP_TOLERANCE_KIB
                && after.webappClassLoaders() <= before.webappClassLoaders();
    }

    /** Both clients and both backend sessions closed with 1001; all four closes in the message when not. */
    private static void assertAllGoingAway(String when, ContainerProcess container, Peer client1, Peer client2, Peer backend1,
            Peer backend2) {
        Map<String, Peer> legs = new LinkedHashMap<>();
        legs.put("client 1", client1);
        legs.put("client 2", client2);
        legs.put("backend 1", backend1);
        legs.put("backend 2", backend2);
        StringBuilder closes = new StringBuilder();
        boolean allGoingAway = true;
        for (Map.Entry<String, Peer> leg : legs.entrySet()) {
            String closed;
            try {
                Peer.Closed c = leg.getValue().closed();
                allGoingAway &= c.code() == 1001;
                closed = c.code() + " [" + c.reason() + "]";
            } catch (AssertionError e) {
                allGoingAway = false;
                closed = "no close within 15 s";
            }
            closes.append("  ").append(leg.getKey()).append(": ").append(closed).append('\n');
        }
        assertTrue(allGoingAway, when + ": every leg should close with 1001, got\n" + closes + container.tail(12));
    }

    /** No line of {@code log} contains any of {@code warnings}; the offending lines, with their stack traces, if any does. */
    private static void assertNoLines(String log, List<String> warnings) {
        StringBuilder found = new StringBuilder();
        String[] lines = log.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (warnings.stream().anyMatch(line::contains)) {
                found.append(line).append('\n');
                for (int j = i + 1; j < lines.length && j <= i + 12 && lines[j].startsWith(" "); j++) {
                    found.append(lines[j]).append('\n');
                }
            }
        }
        assertTrue(found.isEmpty(), "logged:\n" + found);
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
