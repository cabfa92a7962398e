package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawBackend;
import dev.wsbridge.support.RawClient;
import dev.wsbridge.support.RawFrames;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hostile input from the client side: bad frames, bad headers, and a flood of stalled handshakes. */
class ClientProtocolTest extends ContainerSuite {

    private RawClient.Upgraded upgrade() throws Exception {
        RawClient.Upgraded u = RawClient.upgradeTls(container.tlsPort(), RawClient.upgrade("/wsapp/raw", "localhost:" + container.tlsPort()));
        assertEquals(101, u.head().status());
        return u;
    }

    @Test
    void invalidUtf8FromTheClientIs1007() throws Exception {
        start();
        try (RawClient.Upgraded c = upgrade()) {
            Peer b = backend.session();
            c.send(RawFrames.TEXT, true, 0, new byte[] {'a', (byte) 0xC3, 0x28}, true);
            RawFrames.Frame close = c.readData();
            assertEquals(RawFrames.CLOSE, close.opcode());
            assertEquals(1007, close.closeCode());
            int toBackend = b.closed().code();
            assertTrue(toBackend == 1007 || toBackend == 1001, "backend got " + toBackend);
            assertTrue(b.pending().isEmpty(), "the invalid message must not reach the backend");
        }
    }

    /**
     * A client that sends many messages, each in its own TLS record, and drops the connection right after the
     * last: every one reaches the backend, in order, before the backend is told the client went away. Jetty's
     * upgraded input hands over one record per read, so the end of the connection is met in the middle of the
     * burst of records the bridge reads on through.
     */
    @Test
    void messagesSentRightBeforeTheClientVanishesAllReachTheBackendFirst() throws Exception {
        start();
        backend.echo(false);
        RawClient.Upgraded c = upgrade();
        Peer b = backend.session();
        int count = 300;
        for (int i = 0; i < count; i++) {
            c.send(RawFrames.TEXT, true, 0, ("message " + i).getBytes(StandardCharsets.UTF_8), true);
        }
        c.close();
        for (int i = 0; i < count; i++) {
            assertEquals("message " + i, b.nextText());
        }
        assertEquals(1001, b.closed().code());
        assertTrue(b.pending().isEmpty(), b.pending().toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"reserved-bit", "unmasked", "reserved-opcode", "orphan-continuation"})
    void protocolViolationsFromTheClientAre1002(String violation) throws Exception {
        start();
        try (RawClient.Upgraded c = upgrade()) {
            Peer b = backend.session();
            byte[] x = "x".getBytes(StandardCharsets.UTF_8);
            switch (violation) {
                case "reserved-bit" -> c.send(RawFrames.TEXT, true, 4, x, true);
                case "unmasked" -> c.send(RawFrames.TEXT, true, 0, x, false);
                case "reserved-opcode" -> c.send(3, true, 0, x, true);
                default -> c.send(RawFrames.CONTINUATION, true, 0, x, true);
            }
            RawFrames.Frame close = c.readData();
            assertEquals(RawFrames.CLOSE, close.opcode());
            assertEquals(1002, close.closeCode());
            assertTrue(b.closed().code() >= 1000);
            assertTrue(b.pending().isEmpty());
        }
    }

    @Test
    void crlfAndOversizedHeadersNeverReachTheBackendAsHeaders() throws Exception {
        start();
        String injected = RawClient.upgrade("/wsapp/h", "localhost:" + container.tlsPort(), "X-Test: a\r\n\tfolded: b",
                "X-Big: " + "v".repeat(16 * 1024));
        RawClient.Head head = RawClient.tls(container.tlsPort(), injected);
        assertTrue(head.status() == 400 || head.status() == 431 || head.status() == 413, "status " + head.status());
        assertEquals(0, backend.handshakeCount());
    }

    @Test
    void forwardedForIsAppendedToNotReplaced() throws Exception {
        start();
        Peer c = client.connect(container.wss("/wsapp/xff"), Map.of("X-Forwarded-For", "203.0.113.7", "Cookie", "a=b",
                "Authorization", "Bearer t"));
        var h = backend.handshake();
        assertEquals("203.0.113.7, 127.0.0.1", h.header("X-Forwarded-For"));
        assertEquals("a=b", h.header("Cookie"));
        assertEquals("Bearer t", h.header("Authorization"));
        assertEquals("localhost:" + container.tlsPort(), h.header("X-Forwarded-Host"));
        c.close(1000, "");
    }

    @Test
    void hopByHopHeadersAndThoseNamedInConnectionAreDropped() throws Exception {
        start();
        String request = RawClient.upgrade("/wsapp/hop", "localhost:" + container.tlsPort(), "X-Secret: s",
                "Keep-Alive: timeout=5", "X-Kept: k").replace("Connection: Upgrade", "Connection: Upgrade, X-Secret");
        assertEquals(101, RawClient.tls(container.tlsPort(), request).status());
        var h = backend.handshake();
        assertEquals(null, h.header("X-Secret"));
        assertEquals(null, h.header("Keep-Alive"));
        assertEquals("k", h.header("X-Kept"));
    }

    /** How many handshakes ended with each status so far (-1: the connection failed). */
    private static Map<Integer, Long> results(List<CompletableFuture<Integer>> handshakes) {
        return handshakes.stream().filter(CompletableFuture::isDone)
                .collect(java.util.stream.Collectors.groupingBy(CompletableFuture::join, java.util.TreeMap::new,
                        java.util.stream.Collectors.counting()));
    }

    @Test
    void floodOfStalledHandshakesLeavesOrdinaryRequestsServed() throws Exception {
        try (RawBackend silent = RawBackend.neverAnswers()) {
            start(Map.of("proxyTo", silent.uri().toString(), "upgradeTimeout", "2m", "maxPendingHandshakes", "32",
                    "httpProxy", "false"));
            ExecutorService pool = Executors.newFixedThreadPool(100);
            try {
                List<CompletableFuture<Integer>> flood = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    flood.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            return RawClient.tls(container.tlsPort(), RawClient.upgrade("/wsapp/f", "localhost")).status();
                        } catch (Exception e) {
                            return -1;
                        }
                    }, pool));
                }
                // At least 32 connections: the HTTP client may open one more than it has requests for.
                Await.until("32 handshakes at the stalled backend", 60, () -> silent.acceptedCount() >= 32,
                        () -> silent.acceptedCount() + " there; client results " + results(flood));
                Await.until("the other 68 refused with 503", 60,
                        () -> flood.stream().filter(f -> f.isDone() && f.join() == 503).count() == 68);
                // An ordinary request still gets a thread while 32 handshakes wait for the backend.
                RawClient.Head plain = RawClient.tls(container.tlsPort(), "GET /wsapp/x HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals(426, plain.status());
                assertEquals(0, flood.stream().filter(f -> f.isDone() && f.join() != 503).count(),
                        "the 32 handshakes at the backend are still waiting: " + results(flood));
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
