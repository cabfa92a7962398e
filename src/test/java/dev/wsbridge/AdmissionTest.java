package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawBackend;
import dev.wsbridge.support.RawClient;
import dev.wsbridge.support.RawClient.Head;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Admission control (DESIGN §3 "Limits and memory"): a reconnect storm against a healthy backend gets
 * in, a stalled backend gets 503 quickly without taking every request thread, and the heap guard
 * refuses before the heap runs out.
 */
class AdmissionTest extends ContainerSuite {

    /** Simultaneous handshakes of the reconnect storm: modest, for 2 shared cores. */
    private static final int STORM = 300;

    private final ExecutorService handshakes = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "test-handshake");
        t.setDaemon(true);
        return t;
    });

    @Test
    void reconnectStormAgainstAFastBackendAllGetIn() throws Exception {
        start();
        // The test client's own pool would otherwise open only 64 connections at a time.
        client.jetty().getHttpClient().setMaxConnectionsPerDestination(STORM);
        // Connecting is the container's accept queue, not admission: give it the patience of a real client.
        client.jetty().getHttpClient().setConnectTimeout(60_000);
        URI uri = container.wss("/wsapp/storm");
        List<CompletableFuture<Session>> connects = new ArrayList<>();
        for (int i = 0; i < STORM; i++) {
            connects.add(client.jetty().connect(new Peer(), new ClientUpgradeRequest(uri)));
        }
        Map<Integer, Integer> statuses = new TreeMap<>();
        List<Session> sessions = new ArrayList<>();
        for (CompletableFuture<Session> f : connects) {
            int status = status(f, sessions);
            statuses.merge(status, 1, Integer::sum);
        }
        for (Session s : sessions) {
            s.close();
        }

        assertEquals(Map.of(101, STORM), statuses);
    }

    @Test
    void handshakesQueueBehindOnePermitWhileTheBackendAnswers() throws Exception {
        start(Map.of("maxPendingHandshakes", "1"));
        List<CompletableFuture<Head>> handshakes = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            handshakes.add(async("/wsapp/queued"));
        }
        Map<Integer, Integer> statuses = new TreeMap<>();
        for (CompletableFuture<Head> h : handshakes) {
            statuses.merge(Await.get(h, 60).status(), 1, Integer::sum);
        }

        assertEquals(Map.of(101, 20), statuses);
        assertEquals(20, backend.handshakeCount());
    }

    @Test
    void stalledBackendGets503AndTheContainerStillAnswers() throws Exception {
        try (RawBackend silent = RawBackend.neverAnswers()) {
            start(Map.of("proxyTo", silent.uri().toString(), "maxPendingHandshakes", "2", "maxQueuedHandshakes", "2",
                    "handshakeQueueTimeout", "500ms", "upgradeTimeout", "60s", "httpProxy", "false"));
            List<CompletableFuture<Head>> pending = List.of(async("/wsapp/a"), async("/wsapp/b"));
            Await.until("two handshakes at the backend", 10, () -> silent.acceptedCount() == 2);

            List<CompletableFuture<Head>> beyond = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                beyond.add(async("/wsapp/more"));
            }
            for (CompletableFuture<Head> h : beyond) {
                Head head = Await.get(h, 30);
                assertEquals(503, head.status(), head.body());
                assertNotNull(head.header("Retry-After"));
            }
            Head late = tls("/wsapp/late");
            Head plain = RawClient.tls(container.tlsPort(), "GET /wsapp/x HTTP/1.1\r\nHost: " + host() + "\r\n\r\n");

            assertEquals(503, late.status());
            assertEquals("The backend is slow to answer handshakes\n", late.body());
            assertEquals(426, plain.status());
            assertEquals(2, silent.acceptedCount());
            assertTrue(pending.stream().noneMatch(CompletableFuture::isDone));
            silent.close();
            for (CompletableFuture<Head> h : pending) {
                assertEquals(502, Await.get(h, 30).status());
            }
        }
    }

    @Test
    void fullQueueIs503() throws Exception {
        try (RawBackend silent = RawBackend.neverAnswers()) {
            start(Map.of("proxyTo", silent.uri().toString(), "maxPendingHandshakes", "1", "maxQueuedHandshakes", "1",
                    "handshakeQueueTimeout", "60s", "upgradeTimeout", "60s"));
            CompletableFuture<Head> pending = async("/wsapp/a");
            Await.until("a handshake at the backend", 10, () -> silent.acceptedCount() == 1);
            CompletableFuture<Head> second = async("/wsapp/b");
            CompletableFuture<Head> third = async("/wsapp/c");

            Head refused = (Head) Await.get(CompletableFuture.anyOf(second, third), 60);

            assertEquals(503, refused.status());
            assertEquals("Too many handshakes waiting for the backend\n", refused.body());
            assertEquals(1, silent.acceptedCount());
            silent.close();
            assertEquals(502, Await.get(pending, 30).status());
            CompletableFuture<Head> queued = second.getNow(null) == refused ? third : second;
            assertEquals(502, Await.get(queued, 30).status());
        }
    }

    @Test
    void heapGuardRefusesWhenTooLittleHeapIsLeft() throws Exception {
        start(Map.of("minFreeHeap", "1024GiB", "httpProxy", "false"));
        Head head = tls("/wsapp/x");
        Head plain = RawClient.tls(container.tlsPort(), "GET /wsapp/x HTTP/1.1\r\nHost: " + host() + "\r\n\r\n");

        assertEquals(503, head.status());
        assertNotNull(head.header("Retry-After"));
        assertEquals("Not enough memory for another session\n", head.body());
        assertEquals(426, plain.status());
        assertEquals(0, backend.handshakeCount());
    }

    @Test
    void heapGuardAdmitsWhenTheHeapHasRoom() throws Exception {
        start(Map.of("minFreeHeap", "1MiB"));
        assertEquals(101, tls("/wsapp/x").status());
    }

    /**
     * Where a container keeps a session's buffers off the heap (Tomcat with {@code socket.directSslBuffer}), the
     * direct buffer memory runs out first: short of {@code minFreeDirectMemory} of the JVM's limit (256 MiB in
     * this test run, {@code -XX:MaxDirectMemorySize}), a handshake gets 503 and no backend is asked; once the
     * memory is freed, sessions are taken again.
     */
    @Test
    void directMemoryGuardRefusesWhenTooLittleIsLeftAndAdmitsOnceItIsFreed() throws Exception {
        start(Map.of("minFreeDirectMemory", "50%", "minFreeHeap", "0"));
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(p -> p.getName().equals("direct")).findFirst().orElseThrow();
        long limit = Long.parseLong(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                .getVMOption("MaxDirectMemorySize").getValue());
        assertTrue(limit > 0 && limit <= 256L << 20, "the admission run sets -XX:MaxDirectMemorySize=256m: " + limit);
        List<ByteBuffer> held = new ArrayList<>();
        while (limit - direct.getMemoryUsed() >= limit / 2) {
            held.add(ByteBuffer.allocateDirect(4 << 20));
        }
        Head refused = tls("/wsapp/x");
        assertEquals(503, refused.status());
        assertNotNull(refused.header("Retry-After"));
        assertEquals("Not enough memory for another session\n", refused.body());
        assertEquals(0, backend.handshakeCount());

        held.clear();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (limit - direct.getMemoryUsed() < limit / 2 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        assertEquals(101, tls("/wsapp/x").status());
        assertEquals(1, backend.handshakeCount());
    }

    private String host() {
        return "localhost:" + container.tlsPort();
    }

    private Head tls(String path) throws Exception {
        return RawClient.tls(container.tlsPort(), RawClient.upgrade(path, host()));
    }

    private CompletableFuture<Head> async(String path) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return tls(path);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, handshakes);
    }

    @AfterEach
    void stopHandshakes() {
        handshakes.shutdownNow();
    }

    /** 101 for an open session (kept in {@code open}), else the refusal's status; -1 for any other failure. */
    private static int status(CompletableFuture<Session> f, List<Session> open) throws Exception {
        try {
            open.add(f.get(120, TimeUnit.SECONDS));
            return 101;
        } catch (ExecutionException e) {
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                if (c instanceof UpgradeException u && u.getResponseStatusCode() > 0) {
                    return u.getResponseStatusCode();
                }
            }
            return -1;
        } catch (TimeoutException e) {
            throw new AssertionError("no answer to a handshake within 120 s");
        }
    }
}
