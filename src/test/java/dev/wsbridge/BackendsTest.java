package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.backend.BackendMXBean;
import dev.wsbridge.support.Await;
import dev.wsbridge.support.LogCapture;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawBackend;
import dev.wsbridge.support.RawClient;
import dev.wsbridge.support.RawClient.Head;
import dev.wsbridge.support.ScriptedBackend;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import com.sun.net.httpserver.HttpServer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.stream.Collectors;
import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Several backends on one route: how sessions are spread, failover before the client is answered, passive
 * health, and draining over JMX. Three real backends on port 0 behind the route in a real container.
 */
class BackendsTest extends ContainerSuite {

    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void closeBackends() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private ScriptedBackend newBackend() throws Exception {
        ScriptedBackend b = new ScriptedBackend();
        closing.add(b);
        return b;
    }

    static String list(Object... backends) {
        return Arrays.stream(backends).map(Object::toString).collect(Collectors.joining(", "));
    }

    private Head handshake(String path, String... extra) throws Exception {
        return RawClient.tls(container.tlsPort(), RawClient.upgrade(path, "localhost:" + container.tlsPort(), extra));
    }

    static BackendMXBean jmx(URI backend) throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> names = server.queryNames(new ObjectName("dev.wsbridge:type=Backend,route=\"wsapp\",backend="
                + ObjectName.quote(backend.toString()) + ",*"), null);
        assertEquals(1, names.size(), "MBeans of " + backend + ": " + names);
        return JMX.newMXBeanProxy(server, names.iterator().next(), BackendMXBean.class);
    }

    @Test
    void weightedRoundRobinGivesEachBackendItsShare() throws Exception {
        ScriptedBackend b1 = newBackend();
        ScriptedBackend b2 = newBackend();
        ScriptedBackend b3 = newBackend();
        start(Map.of("proxyTo", b1.uri() + ", " + b2.uri() + " weight=2, " + b3.uri() + " weight=3"));

        for (int i = 0; i < 12; i++) {
            assertEquals(101, handshake("/wsapp/rr" + i).status());
        }

        assertEquals(List.of(2, 4, 6), List.of(b1.handshakeCount(), b2.handshakeCount(), b3.handshakeCount()));
        assertEquals(0, backend.handshakeCount());
        assertEquals(4, jmx(b2.uri()).getHandshakes());
        assertEquals(4, jmx(b2.uri()).getSessions());
    }

    @Test
    void backendRefusingConnectionsIsSkippedWithNoClientError() throws Exception {
        ScriptedBackend b2 = newBackend();
        ScriptedBackend b3 = newBackend();
        URI refused = RawBackend.refusedUri();
        try (LogCapture log = new LogCapture("dev.wsbridge.backend")) {
            start(Map.of("proxyTo", list(refused, b2.uri(), b3.uri())));

            for (int i = 0; i < 9; i++) {
                assertEquals(101, handshake("/wsapp/s" + i).status());
            }

            assertEquals(9, b2.handshakeCount() + b3.handshakeCount());
            assertTrue(jmx(refused).getFailures() >= 1);
            assertEquals("down", jmx(refused).getState());
            assertTrue(log.has(Level.INFO, "backend [" + refused + "] down after 3 failed connections in a row"),
                    log.lines().toString());
        }
    }

    @Test
    void backendKilledUnderLoadFailsNoNewSession() throws Exception {
        ScriptedBackend b1 = newBackend();
        ScriptedBackend b2 = new ScriptedBackend();
        ScriptedBackend b3 = newBackend();
        start(Map.of("proxyTo", list(b1.uri(), b2.uri(), b3.uri())));
        int threads = 4;
        int each = 25;
        ExecutorService load = Executors.newFixedThreadPool(threads);
        CountDownLatch underWay = new CountDownLatch(threads * 5);
        List<Future<List<Integer>>> results = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                int thread = t;
                results.add(load.submit(() -> {
                    List<Integer> statuses = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        statuses.add(handshake("/wsapp/load" + thread + "-" + i).status());
                        underWay.countDown();
                    }
                    return statuses;
                }));
            }
            assertTrue(underWay.await(30, TimeUnit.SECONDS), "load did not get going");
            b2.crash();

            List<Integer> all = new ArrayList<>();
            for (Future<List<Integer>> r : results) {
                all.addAll(Await.get(r, 60));
            }
            assertEquals(threads * each, all.size());
            assertEquals(List.of(101), all.stream().distinct().toList(), "statuses: " + all.stream()
                    .collect(Collectors.groupingBy(s -> s, Collectors.counting())));
        } finally {
            load.shutdownNow();
        }
    }

    @Test
    void backendWhoseConnectHangsIsGivenUpWithinTheBudget() throws Exception {
        ScriptedBackend b2 = newBackend();
        try (ConnectHangs hanging = new ConnectHangs()) {
            start(Map.of("proxyTo", list(hanging.uri(), b2.uri()), "connectTimeout", "500ms", "upgradeTimeout", "5s"));

            assertEquals(101, handshake("/wsapp/first").status());

            assertEquals("/first", b2.handshake().pathAndQuery());
            assertEquals(1, jmx(hanging.uri()).getFailures());
        }
    }

    @Test
    void allBackendsDownGives503WithRetryAfter() throws Exception {
        URI first = RawBackend.refusedUri();
        URI second = RawBackend.refusedUri();
        start(Map.of("proxyTo", list(first, second), "passiveHealthFailures", "2", "passiveHealthCooldown", "7s"));

        Head tried = handshake("/wsapp/x");
        assertEquals(503, tried.status());
        assertEquals("7", tried.header("Retry-After"));
        assertEquals(503, handshake("/wsapp/x").status());
        assertEquals(List.of("down", "down"), List.of(jmx(first).getState(), jmx(second).getState()));

        Head down = handshake("/wsapp/x");
        assertEquals(503, down.status());
        assertEquals("7", down.header("Retry-After"));
        assertEquals(2, jmx(first).getHandshakes(), "a backend that is down was tried");
    }

    @Test
    void backendAnswerEndsTheChoiceWithoutFailover() throws Exception {
        ScriptedBackend b1 = newBackend();
        ScriptedBackend b2 = newBackend();
        b1.refuse(403, Map.of());
        start(Map.of("proxyTo", list(b1.uri(), b2.uri())));

        assertEquals(403, handshake("/wsapp/x").status());

        assertEquals(1, b1.handshakeCount());
        assertEquals(0, b2.handshakeCount());
        assertEquals("up", jmx(b1.uri()).getState());
    }

    @Test
    void sessionAfterAFailoverRelaysAndEndsWithTheBackendsCloseCode() throws Exception {
        ScriptedBackend b2 = newBackend();
        start(Map.of("proxyTo", list(RawBackend.refusedUri(), b2.uri())));

        Peer c = client.connect(container.wss("/wsapp/after"));
        Peer b = b2.session();
        c.send("hello");
        assertEquals("hello", c.nextText());
        b.close(4000, "bye");

        Peer.Closed closed = c.closed();
        assertEquals(4000, closed.code());
        assertEquals("bye", closed.reason());
    }

    @Test
    void hashKeepsEachKeyOnOneBackendAndMovesOnlyTheDrainedBackendsKeys() throws Exception {
        ScriptedBackend[] bs = {newBackend(), newBackend(), newBackend()};
        start(Map.of("proxyTo", list(bs[0].uri(), bs[1].uri(), bs[2].uri()), "balancer", "hash", "hashKey", "header:X-User"));

        Map<String, Integer> placed = place(bs, 11);
        assertEquals(placed, place(bs, 11), "a key changed backend while all were up");
        int drained = placed.get("user0");
        assertTrue(placed.values().stream().distinct().count() > 1, "every key on one backend: " + placed);

        jmx(bs[drained].uri()).drain();
        Map<String, Integer> without = place(bs, 11);
        for (Map.Entry<String, Integer> e : placed.entrySet()) {
            if (e.getValue() == drained) {
                assertTrue(without.get(e.getKey()) != drained, e.getKey() + " still on the drained backend");
            } else {
                assertEquals(e.getValue(), without.get(e.getKey()), e.getKey() + " moved though its backend stayed");
            }
        }

        jmx(bs[drained].uri()).enable();
        assertEquals(placed, place(bs, 11), "keys did not go back to their backend");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"cookie:io | cookie", "query:room | query"})
    void hashOnACookieOrQueryParameterKeepsEachKeyOnOneBackend(String hashKey, String where) throws Exception {
        ScriptedBackend[] bs = {newBackend(), newBackend(), newBackend()};
        start(Map.of("proxyTo", list(bs[0].uri(), bs[1].uri(), bs[2].uri()), "balancer", "hash", "hashKey", hashKey));
        Map<String, Integer> first = new HashMap<>();
        for (int round = 0; round < 2; round++) {
            // Five keys on three backends: were the key ignored (round robin), round two would move them all.
            for (int k = 0; k < 5; k++) {
                int[] before = Arrays.stream(bs).mapToInt(ScriptedBackend::handshakeCount).toArray();
                Head head = where.equals("cookie")
                        ? handshake("/wsapp/c", "Cookie: other=1; io=key" + k)
                        : handshake("/wsapp/q?x=1&room=key" + k);
                assertEquals(101, head.status());
                int reached = -1;
                for (int i = 0; i < bs.length; i++) {
                    if (bs[i].handshakeCount() > before[i]) {
                        reached = i;
                    }
                }
                Integer was = first.putIfAbsent("key" + k, reached);
                assertTrue(was == null || was == reached, "key" + k + " went to " + reached + " after " + was);
            }
        }
    }

    /** Handshakes for user0..user(n-1) once each; which backend (index) each reached. */
    private Map<String, Integer> place(ScriptedBackend[] bs, int n) throws Exception {
        Map<String, Integer> out = new HashMap<>();
        int[] before = new int[bs.length];
        for (int i = 0; i < bs.length; i++) {
            before[i] = bs[i].handshakeCount();
        }
        for (int k = 0; k < n; k++) {
            assertEquals(101, handshake("/wsapp/h", "X-User: user" + k).status());
            for (int i = 0; i < bs.length; i++) {
                if (bs[i].handshakeCount() > before[i]) {
                    out.put("user" + k, i);
                    before[i] = bs[i].handshakeCount();
                }
            }
        }
        return out;
    }

    @Test
    void leastSessionsSendsNewSessionsToTheEmptierBackendAfterScaling() throws Exception {
        ScriptedBackend b1 = newBackend();
        ScriptedBackend b2 = newBackend();
        ScriptedBackend b3 = newBackend();
        start(Map.of("proxyTo", list(b1.uri(), b2.uri(), b3.uri()), "balancer", "leastSessions"));
        jmx(b3.uri()).drain();
        List<Peer> open = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            open.add(client.connect(container.wss("/wsapp/before" + i)));
        }
        assertEquals(List.of(2, 2, 0), List.of(b1.handshakeCount(), b2.handshakeCount(), b3.handshakeCount()));

        jmx(b3.uri()).enable();
        for (int i = 0; i < 2; i++) {
            open.add(client.connect(container.wss("/wsapp/after" + i)));
        }

        assertEquals(List.of(2, 2, 2), List.of(b1.handshakeCount(), b2.handshakeCount(), b3.handshakeCount()));
        assertEquals(2, jmx(b3.uri()).getOpenSessions());
        for (Peer p : open) {
            p.send("still here");
            assertEquals("still here", p.nextText());
        }
    }

    @Test
    void drainOverJmxStopsNewSessionsAndKeepsOpenOnes() throws Exception {
        ScriptedBackend b1 = newBackend();
        ScriptedBackend b2 = newBackend();
        start(Map.of("proxyTo", list(b1.uri(), b2.uri())));
        Peer onB1 = client.connect(container.wss("/wsapp/kept"));
        Peer b1Session = b1.session();
        BackendMXBean first = jmx(b1.uri());
        assertEquals(1, first.getOpenSessions());

        first.drain();
        for (int i = 0; i < 3; i++) {
            assertEquals(101, handshake("/wsapp/new" + i).status());
        }

        assertEquals("drained", first.getState());
        assertEquals(1, b1.handshakeCount());
        assertEquals(3, b2.handshakeCount());
        onB1.send("through the drain");
        assertEquals("through the drain", onB1.nextText());
        onB1.close(1000, "done");
        b1Session.closed();
        Await.until("the drained backend's session counted out", 10, () -> first.getOpenSessions() == 0);

        first.enable();
        assertEquals(101, handshake("/wsapp/back").status());
        assertEquals(101, handshake("/wsapp/back").status());
        assertEquals(2, b1.handshakeCount(), "the enabled backend got none of the next two sessions");
    }

    @Test
    void backendMBeansAndHealthChecksAreGoneAfterUndeploy() throws Exception {
        ScriptedBackend b1 = newBackend();
        ScriptedBackend b2 = newBackend();
        start(Map.of("proxyTo", list(b1.uri(), b2.uri()), "healthCheckPath", "/health", "healthCheckType", "websocket",
                "healthCheckInterval", "100ms"));
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName all = new ObjectName("dev.wsbridge:type=Backend,*");
        assertEquals(2, server.queryNames(all, null).size());
        Await.until("a health check", 10, () -> b2.handshakeCount() > 0);

        container.undeploy();

        assertEquals(Set.of(), server.queryNames(all, null));
        int checks = b2.handshakeCount();
        Thread.sleep(500);
        assertEquals(checks, b2.handshakeCount(), "health checks went on after undeploy");
    }

    @Test
    void onlyBackendDrainedGives503() throws Exception {
        start();
        jmx(backend.uri()).drain();

        Head head = handshake("/wsapp/x");

        assertEquals(503, head.status());
        assertNotNull(head.header("Retry-After"));
        assertEquals(0, backend.handshakeCount());
    }

    @Test
    void passiveHealthTakesABackendOutThenTriesItAgainAfterTheCooldown() throws Exception {
        ScriptedBackend b1 = newBackend();
        ScriptedBackend b2 = newBackend();
        try (LogCapture log = new LogCapture("dev.wsbridge.backend")) {
            URI first = b1.uri();
            start(Map.of("proxyTo", list(first, b2.uri()), "passiveHealthFailures", "2", "passiveHealthCooldown", "1s"));
            b1.stopListening();
            for (int i = 0; i < 4; i++) {
                assertEquals(101, handshake("/wsapp/down" + i).status());
            }
            assertEquals("down", jmx(first).getState());
            assertTrue(log.has(Level.INFO, "backend [" + first + "] down after 2 failed connections in a row"),
                    log.lines().toString());

            b1.startListening();
            Await.until("a trial handshake on the backend that came back", 10, () -> {
                try {
                    return handshake("/wsapp/trial").status() == 101 && b1.handshakeCount() > 0;
                } catch (Exception e) {
                    return false;
                }
            });

            assertEquals("up", jmx(first).getState());
            assertTrue(log.has(Level.INFO, "backend [" + first + "] is back"), log.lines().toString());
        }
    }

    @Test
    void activeWebSocketCheckTakesOutABackendThatFailsItAndPutsItBack() throws Exception {
        ScriptedBackend b1 = newBackend();
        ScriptedBackend b2 = newBackend();
        try (LogCapture log = new LogCapture("dev.wsbridge.backend")) {
            start(Map.of("proxyTo", list(b1.uri(), b2.uri()), "healthCheckPath", "/health", "healthCheckType", "websocket",
                    "healthCheckInterval", "100ms", "healthCheckTimeout", "2s", "healthCheckRise", "2", "healthCheckFall", "2"));
            Peer kept = client.connect(container.wss("/wsapp/kept"));
            b1.session("/kept");

            b1.refuse(503, Map.of());
            Await.until("the failing backend taken out", 10, () -> state(b1).equals("check failed"));
            for (int i = 0; i < 3; i++) {
                assertEquals(101, handshake("/wsapp/while-out" + i).status());
            }
            assertEquals(0, sessionsOn(b1, "/while-out"));
            assertEquals(3, sessionsOn(b2, "/while-out"));
            kept.send("untouched");
            assertEquals("untouched", kept.nextText());

            b1.refuse(0, Map.of());
            Await.until("the backend put back", 10, () -> state(b1).equals("up"));
            // The state changes before the line is logged, on the checker's thread.
            Await.until("the transitions logged", 10,
                    () -> log.has(Level.INFO, "backend [" + b1.uri() + "] is down: its health check failed")
                            && log.has(Level.INFO, "backend [" + b1.uri() + "] is up: its health check passed"),
                    () -> log.lines().toString());
            assertTrue(sessionsOn(b1, "/health") > 0);
        }
    }

    @Test
    void activeHttpCheckPassesOn2xxAndFailsOtherwise() throws Exception {
        HttpServer ok = HttpServer.create(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        AtomicInteger gets = new AtomicInteger();
        ok.createContext("/health", exchange -> {
            gets.incrementAndGet();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        ok.start();
        closing.add(() -> ok.stop(0));
        ScriptedBackend notFound = newBackend();
        URI okUri = URI.create("ws://127.0.0.1:" + ok.getAddress().getPort() + "/");
        start(Map.of("proxyTo", list(okUri, notFound.uri()), "healthCheckPath", "/health", "healthCheckInterval", "100ms",
                "healthCheckFall", "1"));

        Await.until("the backend answering 404 taken out", 10, () -> state(notFound).equals("check failed"));
        Await.until("checks on the healthy backend", 10, () -> gets.get() >= 3);

        assertEquals("up", jmx(okUri).getState());
    }

    private static String state(ScriptedBackend b) {
        try {
            return jmx(b.uri()).getState();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static long sessionsOn(ScriptedBackend b, String pathPrefix) {
        return b.handshakes().stream().filter(h -> h.pathAndQuery().startsWith(pathPrefix)).count();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "proxyTo  | ws://127.0.0.1:1/,, ws://127.0.0.1:2/",
        "proxyTo  | ws://127.0.0.1:1/ weight=0, ws://127.0.0.1:2/",
        "proxyTo  | ws://127.0.0.1:1/ weight=-1",
        "balancer | fastest",
    })
    void badBackendParamStopsTheDeploymentNamingIt(String name, String value) throws Exception {
        try (LogCapture log = new LogCapture("dev.wsbridge.server.RouteCheck")) {
            start(Map.of(name, value));

            assertFalse(container.deployed());
            assertTrue(log.has(Level.SEVERE, "init-param [" + name + "] has value [" + value + "]; expected"),
                    log.lines().toString());
        }
    }

    /**
     * A listening port whose accept queue is full, so a new connection's SYN is dropped and its connect hangs:
     * the backend host that stopped answering.
     */
    static final class ConnectHangs implements AutoCloseable {
        private final ServerSocket server;
        private final List<Socket> fillers = new ArrayList<>();

        ConnectHangs() throws IOException {
            server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            for (int i = 0; i < 16; i++) {
                Socket s = new Socket();
                try {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 200);
                    fillers.add(s);
                } catch (SocketTimeoutException e) {
                    s.close();
                    return;
                }
            }
            throw new IllegalStateException("the accept queue never filled");
        }

        URI uri() {
            return URI.create("ws://127.0.0.1:" + server.getLocalPort() + "/");
        }

        @Override
        public void close() throws IOException {
            for (Socket s : fillers) {
                s.close();
            }
            server.close();
        }
    }
}
