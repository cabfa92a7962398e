package dev.wsbridge;

import static dev.wsbridge.BackendsTest.jmx;
import static dev.wsbridge.BackendsTest.list;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.BridgeContainer;
import dev.wsbridge.support.NodeProcess;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.ScriptedBackend;
import dev.wsbridge.support.TestClient;
import dev.wsbridge.support.TestTls;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The balancers behind a real route, counted where the sessions land: three real backends, real WebSocket
 * sessions over TLS through the servlet in a real container, {@value #AT_ONCE} handshakes in flight at a time,
 * every session kept open to the end of its test. {@link #FULL} opens 600 sessions per balancer in the build
 * ({@code -Dwsbridge.spread.sessions=3000} for the README's figures; a multiple of 6 keeps every share whole), the other container
 * {@value #FEW}: the balancers are the same code in both, the second run shows the route uses them alike there.
 * Each batch of handshakes prints how long it took.
 *
 * <p>The client speaks TLS 1.2 and resumes its TLS session, as a browser reconnecting to a site does: the TLS
 * handshakes are most of the cost, and with TLS 1.3 (where a resumed handshake still does its key exchange, and
 * with 8 in flight about a third were full handshakes) the same sessions took 1.5 to 1.8 times the CPU here.
 * The other suites use TLS 1.3.
 */
class SpreadTest extends ContainerSuite {

    /** The container that opens {@link #MANY} sessions per balancer: the cheaper (measured: 1.5 to 2 times the rate). */
    private static final BridgeContainer.Kind FULL = BridgeContainer.Kind.JETTY;
    private static final int MANY = Integer.getInteger("wsbridge.spread.sessions", 600);
    private static final int FEW = 240;
    /** Handshakes in flight at once. */
    private static final int AT_ONCE = 8;
    /** Keys opened again to check that each stays on its backend (every key when fewer). */
    private static final int RECHECKED = 150;

    private final List<ScriptedBackend> backends = new ArrayList<>();

    /** Stops client, container and backends, in reverse order of start, printing how long that took. */
    @AfterEach
    void stopInReverseOrder() throws Exception {
        long start = System.nanoTime();
        long open = backends.stream().flatMap(b -> b.sessions().stream()).filter(p -> !p.isClosed()).count();
        stopAll();
        client = null;
        container = null;
        backend = null;
        for (ScriptedBackend b : backends) {
            b.close();
        }
        System.out.printf("%s: stopped with %d sessions open in %d ms%n", kind, open,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    private int sessions() {
        return kind == FULL ? MANY : FEW;
    }

    /** Three backends on port 0 behind the route, with {@code weights}, and the route's other init-params. */
    private ScriptedBackend[] start(int[] weights, String... params) throws Exception {
        ScriptedBackend[] bs = new ScriptedBackend[weights.length];
        List<String> members = new ArrayList<>();
        for (int i = 0; i < bs.length; i++) {
            bs[i] = new ScriptedBackend();
            backends.add(bs[i]);
            members.add(bs[i].uri() + (weights[i] == 1 ? "" : " weight=" + weights[i]));
        }
        Map<String, String> init = new HashMap<>();
        init.put("proxyTo", list(members.toArray()));
        for (int i = 0; i < params.length; i += 2) {
            init.put(params[i], params[i + 1]);
        }
        start(init);
        return bs;
    }

    /** As {@link ContainerSuite#start(Map)}, with a client that speaks TLS 1.2 and resumes its TLS session. */
    @Override
    void start(Map<String, String> params) throws Exception {
        super.start(params);
        client.close();
        SslContextFactory.Client tls = TestTls.clientTls();
        tls.setIncludeProtocols("TLSv1.2");
        client = new TestClient(tls);
    }

    @Test
    void roundRobinGivesEachBackendExactlyItsWeightsShare() throws Exception {
        ScriptedBackend[] bs = start(new int[] {1, 2, 3});
        int n = sessions();

        open("round robin", n, i -> "/rr/" + i, i -> Map.of());

        print("round robin, weights 1, 2, 3", counts(bs));
        // Exact although handshakes overlap: the picks follow one cycle of six (1, 2 and 3 of each backend)
        // whichever request takes which pick, n is whole cycles, and no pick failed over.
        assertEquals(List.of(n / 6, 2 * n / 6, 3 * n / 6), counts(bs));
        assertEquals(List.of(n / 6, 2 * n / 6, 3 * n / 6), openSessions(bs), "open sessions as JMX counts them");
    }

    @Test
    void leastSessionsSpreadsOpenSessionsByWeightAndFillsABackendPutBack() throws Exception {
        ScriptedBackend[] bs = start(new int[] {1, 2, 3}, "balancer", "leastSessions");
        int half = sessions() / 2;
        jmx(bs[2].uri()).drain();

        open("least sessions, third backend drained", half, i -> "/before/" + i, i -> Map.of());
        List<Integer> before = counts(bs);
        jmx(bs[2].uri()).enable();
        open("least sessions, third backend put back", half, i -> "/after/" + i, i -> Map.of());
        List<Integer> after = counts(bs);

        print("least sessions, weights 1, 2, 3, third drained", before);
        print("least sessions, weights 1, 2, 3, third put back", after);
        // A new session goes where open/weight is lowest, handshakes in progress counted; with AT_ONCE handshakes
        // choosing at the same time, each may read counts that the others are about to raise, so a backend may
        // be up to AT_ONCE sessions off its share.
        assertNear(List.of(half / 3, 2 * half / 3, 0), before, AT_ONCE, "with the third backend drained");
        assertNear(List.of(0, 0, half), List.of(after.get(0) - before.get(0), after.get(1) - before.get(1),
                after.get(2)), AT_ONCE, "new sessions once the empty backend was put back");
        assertNear(List.of(half / 3, 2 * half / 3, half), after, AT_ONCE, "all sessions");
        assertEquals(after, openSessions(bs), "open sessions as JMX counts them");
    }

    @Test
    void hashSpreadsKeysByWeightKeepsEachOnOneBackendAndMovesOnlyALeavingBackendsKeys() throws Exception {
        ScriptedBackend[] bs = start(new int[] {1, 2, 3}, "balancer", "hash", "hashKey", "header:X-User",
                "passiveHealthCooldown", "1s");
        int n = sessions();
        IntFunction<Map<String, String>> user = i -> Map.of("X-User", "user" + i);

        open("hash, " + n + " keys", n, i -> "/all/" + i, user);
        Map<String, Integer> placed = placement(bs, "/all/", -1);
        assertEquals(n, placed.size());
        // The backends' ports are new each run, and so is the hash of key and backend: each key lands as if at
        // random with the odds of its backend's weight. Five standard deviations of that binomial count are
        // wrong once in millions of runs, and at 3,000 keys catch a share off by a fifth (weight 1) or a tenth
        // (weight 3).
        List<Integer> counts = counts(bs);
        print("hash on X-User, weights 1, 2, 3, " + n + " keys", counts);
        int[] weights = {1, 2, 3};
        for (int b = 0; b < bs.length; b++) {
            double p = weights[b] / 6.0;
            double sigma = Math.sqrt(n * p * (1 - p));
            assertTrue(Math.abs(counts.get(b) - n * p) <= 5 * sigma,
                    "backend " + b + " (weight " + weights[b] + ") got " + counts.get(b) + " of " + n + " keys: " + counts);
        }

        int m = Math.min(n, RECHECKED);
        Map<String, Integer> sample = new TreeMap<>();
        for (int i = 0; i < m; i++) {
            sample.put("user" + i, placed.get("user" + i));
        }
        open("hash, " + m + " keys again", m, i -> "/again/" + i, user);
        assertEquals(sample, placement(bs, "/again/", -1), "a key changed backend while all were up");

        int leaving = 2;
        URI leavingUri = bs[leaving].uri();
        bs[leaving].stopListening();
        open("hash, " + m + " keys, one backend refusing", m, i -> "/without/" + i, user);
        Map<String, Integer> without = placement(bs, "/without/", -1);
        assertEquals("down", jmx(leavingUri).getState());
        Map<Integer, Integer> movedTo = new TreeMap<>();
        for (Map.Entry<String, Integer> e : sample.entrySet()) {
            int now = without.get(e.getKey());
            if (e.getValue() == leaving) {
                movedTo.merge(now, 1, Integer::sum);
            } else {
                assertEquals(e.getValue(), now, e.getKey() + " moved though its backend stayed");
            }
        }
        System.out.printf("%s, hash: of %d keys, %d were on the backend that left; they went to %s (backend: keys),"
                + " the others stayed%n", kind, m, movedTo.values().stream().mapToInt(Integer::intValue).sum(), movedTo);
        assertEquals(List.of(0, 1), List.copyOf(movedTo.keySet()),
                "the leaving backend's keys went to " + movedTo + " (backend: keys), not to both others");

        bs[leaving].startListening();
        String itsKey = sample.entrySet().stream().filter(e -> e.getValue() == leaving).findFirst().orElseThrow().getKey();
        // After passiveHealthCooldown, one handshake for a key of its tries it again.
        Await.until("the backend that came back trusted again", 10, () -> {
            try {
                client.status(container.wss("/wsapp/trial"), Map.of("X-User", itsKey));
            } catch (Exception e) {
                return false;
            }
            return stateOf(leavingUri).equals("up");
        });
        open("hash, " + m + " keys, all back", m, i -> "/back/" + i, user);
        assertEquals(sample, placement(bs, "/back/", -1), "keys did not go back to their backend");
    }

    /**
     * The backend that dies is a process of its own, killed with SIGKILL mid-load, so that it dies as a host does:
     * its port refuses connections and the kernel closes every connection it had, those of open sessions and of
     * handshakes in flight alike. (A backend in this JVM cannot die so: stopping a Jetty server can leave a
     * connection it had just accepted open and unread, and that handshake is then rightly a 504 after
     * upgradeTimeout, as with any backend that takes a request and never answers.)
     */
    @Test
    void killingABackendUnderLoadFailsNoHandshakeAndLeavesTheOtherBackendsSessionsAlone() throws Exception {
        ScriptedBackend first = new ScriptedBackend();
        ScriptedBackend third = new ScriptedBackend();
        backends.add(first);
        backends.add(third);
        try (NodeProcess killed = NodeProcess.server("ws-echo-server.js")) {
            start(Map.of("proxyTo", list(first.uri(), "ws://127.0.0.1:" + killed.port() + "/", third.uri())));
            ScriptedBackend[] survivors = {first, third};
            int kept = 30;
            int load = FEW;
            List<Peer> before = open("sessions kept through the kill", kept, i -> "/kept/" + i, i -> Map.of());
            assertEquals(List.of(kept / 3, kept / 3), counts(survivors));
            for (Peer p : before) {
                p.send("before");
                assertEquals("before", p.nextText());
            }

            AtomicInteger done = new AtomicInteger();
            AtomicInteger atKill = new AtomicInteger();
            Thread killer = new Thread(() -> {
                Await.until("a third of the load", 60, () -> done.get() >= load / 3);
                try {
                    atKill.set(done.get());
                    killed.kill();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "test-kill");
            killer.start();
            List<Peer> during = open("sessions opened while a backend is killed", load, i -> "/load/" + i, i -> Map.of(),
                    done);
            killer.join(TimeUnit.SECONDS.toMillis(60));
            assertTrue(atKill.get() > 0 && atKill.get() < load, "the kill came after " + atKill.get() + " of " + load);

            // Where each session is: on a survivor if it saw the handshake (a handshake that reached the killed
            // backend as it died failed over to one), else on the killed backend.
            Map<String, Integer> onSurvivors = new HashMap<>(placement(survivors, "/kept/", -1));
            onSurvivors.putAll(placement(survivors, "/load/", -1));
            List<Peer> onOthers = new ArrayList<>();
            List<Peer> onKilled = new ArrayList<>();
            for (int i = 0; i < kept + load; i++) {
                String path = i < kept ? "/kept/" + i : "/load/" + (i - kept);
                Peer p = i < kept ? before.get(i) : during.get(i - kept);
                (onSurvivors.containsKey(path) ? onOthers : onKilled).add(p);
            }
            assertTrue(onKilled.size() >= kept / 3, onKilled.size() + " sessions on the killed backend");
            Map<Integer, Long> codes = new TreeMap<>();
            for (Peer p : onKilled) {
                Peer.Closed closed = p.closed();
                codes.merge(closed.code(), 1L, Long::sum);
            }
            assertEquals(Map.of(1014, (long) onKilled.size()), codes, "closes of the sessions on the killed backend");
            for (Peer p : onOthers) {
                assertTrue(!p.isClosed(), "a session on a backend that stayed was closed: " + p.closedWithin(0));
                p.send("untouched");
                assertEquals("untouched", p.nextText());
            }
            for (ScriptedBackend b : survivors) {
                assertEquals(List.of(), b.sessions().stream().filter(Peer::isClosed).toList(), "sessions a survivor lost");
            }
            System.out.printf("%s: killed a backend after %d of %d handshakes; %d sessions were on it (closed %s),"
                    + " %d on the others%n", kind, atKill.get(), load, onKilled.size(), codes, onOthers.size());
        }
    }

    private List<Peer> open(String what, int count, IntFunction<String> path, IntFunction<Map<String, String>> headers)
            throws InterruptedException {
        return open(what, count, path, headers, new AtomicInteger());
    }

    /**
     * Opens {@code count} sessions on {@code /wsapp + path(i)} with {@code headers(i)}, at most {@value #AT_ONCE}
     * handshakes in flight, counting each ended handshake in {@code done}; fails unless every one got 101.
     * Prints how long they took.
     */
    private List<Peer> open(String what, int count, IntFunction<String> path, IntFunction<Map<String, String>> headers,
            AtomicInteger done) throws InterruptedException {
        long start = System.nanoTime();
        Semaphore inFlight = new Semaphore(AT_ONCE);
        List<CompletableFuture<Peer>> all = new ArrayList<>(count);
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        for (int i = 0; i < count; i++) {
            if (!inFlight.tryAcquire(30, TimeUnit.SECONDS)) {
                throw new AssertionError("no handshake ended within 30 s, " + i + " of " + count + " started");
            }
            String p = path.apply(i);
            CompletableFuture<Peer> f = client.open(container.wss("/wsapp" + p), headers.apply(i));
            f.whenComplete((peer, failure) -> {
                if (failure != null) {
                    int status = TestClient.status(failure);
                    failures.add(p + ": " + (status > 0 ? status : failure.toString()));
                }
                done.incrementAndGet();
                inFlight.release();
            });
            all.add(f);
        }
        Await.get(CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).exceptionally(e -> null), 60);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.printf("%s, %s: %d handshakes, %d at a time, in %d ms (%.0f/s)%n", kind, what, count, AT_ONCE,
                millis, count * 1000.0 / Math.max(1, millis));
        assertEquals(List.of(), List.copyOf(failures), "handshakes that failed (" + failures.size() + " of " + count + ")");
        return all.stream().map(CompletableFuture::join).toList();
    }

    private void print(String what, List<Integer> counts) {
        System.out.printf("%s, %s: sessions per backend %s%n", kind, what, counts);
    }

    /** Handshakes each backend saw. */
    private static List<Integer> counts(ScriptedBackend[] bs) {
        List<Integer> out = new ArrayList<>();
        for (ScriptedBackend b : bs) {
            out.add(b.handshakeCount());
        }
        return out;
    }

    /** Each backend's open sessions, as its MBean counts them. */
    private static List<Integer> openSessions(ScriptedBackend[] bs) throws Exception {
        List<Integer> out = new ArrayList<>();
        for (ScriptedBackend b : bs) {
            out.add(jmx(b.uri()).getOpenSessions());
        }
        return out;
    }

    private static String stateOf(URI backend) {
        try {
            return jmx(backend).getState();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Which backend (index) saw each handshake whose path starts with {@code prefix}: keyed by its {@code X-User}
     * header when it has one, else by its path. A handshake may have reached backend {@code lost} (-1: none) and
     * then, after failing over, another: it counts for the other.
     */
    private static Map<String, Integer> placement(ScriptedBackend[] bs, String prefix, int lost) {
        Map<String, Integer> out = new HashMap<>();
        for (int b = 0; b < bs.length; b++) {
            for (ScriptedBackend.Handshake h : bs[b].handshakes()) {
                if (h.pathAndQuery().startsWith(prefix)) {
                    String user = h.header("X-User");
                    String key = user != null ? user : h.pathAndQuery();
                    Integer was = out.get(key);
                    if (was == null || was == lost) {
                        out.put(key, b);
                    } else if (b != lost) {
                        throw new AssertionError(h.pathAndQuery() + " reached backends " + was + " and " + b);
                    }
                }
            }
        }
        return out;
    }

    private static void assertNear(List<Integer> expected, List<Integer> actual, int tolerance, String what) {
        for (int i = 0; i < expected.size(); i++) {
            assertTrue(Math.abs(expected.get(i) - actual.get(i)) <= tolerance,
                    what + ": expected " + expected + " within " + tolerance + " each, got " + actual);
        }
    }
}
