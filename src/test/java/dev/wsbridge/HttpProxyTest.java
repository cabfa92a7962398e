package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.HttpBackend;
import dev.wsbridge.support.RawBackend;
import dev.wsbridge.support.RawHttp;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Requests on a route that are not WebSocket upgrades, proxied over HTTP to a real Jetty backend, in both
 * containers over TLS, read by a raw client that sees every header and the framing.
 */
class HttpProxyTest extends ContainerSuite {

    /** Bytes streamed each way by {@link #largeBodiesStreamBothWays()}: {@code -Dwsbridge.test.httpBytes=1073741824} for 1 GiB. */
    private static final long LARGE = Long.getLong("wsbridge.test.httpBytes", 16L << 20);

    private HttpBackend http;

    /** Starts the HTTP backend and the container, {@code proxyTo} the backend with base path {@code /base/}. */
    private void startHttp(Map<String, String> params) throws Exception {
        http = new HttpBackend();
        Map<String, String> p = new HashMap<>(params);
        p.putIfAbsent("proxyTo", http.wsUri("/base/").toString());
        start(p);
    }

    @AfterEach
    void stopHttp() throws Exception {
        if (container != null) {
            container.close();
            container = null;
        }
        if (http != null) {
            http.close();
        }
    }

    private String host() {
        return "localhost:" + container.tlsPort();
    }

    private RawHttp.Response get(String path, String... headers) throws Exception {
        return RawHttp.exchange(container.tlsPort(), "GET " + path + " HTTP/1.1\nHost: " + host() + "\nConnection: close"
                + (headers.length == 0 ? "" : "\n" + String.join("\n", headers)), null);
    }

    @Test
    void getIsMappedLikeTheWebSocketLegAndTheAnswerPassesBack() throws Exception {
        startHttp(Map.of());

        RawHttp.Response ok = get("/wsapp/echo/a%20b?x=1&y=%2F");
        HttpBackend.Exchange seen = http.exchange();
        RawHttp.Response missing = get("/wsapp/status/404");
        RawHttp.Response created = get("/wsapp/status/201");

        assertEquals(200, ok.status());
        assertEquals("0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n", ok.text());
        assertEquals("GET", seen.method());
        assertEquals("/base/echo/a%20b?x=1&y=%2F", seen.pathAndQuery());
        assertEquals(404, missing.status());
        assertEquals("status\n", missing.text());
        assertEquals(201, created.status());
        assertEquals("/base/status/404", http.exchange().pathAndQuery());
        assertEquals("/base/status/201", http.exchange().pathAndQuery());
        assertEquals(0, http.pending());
    }

    /**
     * With several backends, HTTP requests are balanced like upgrades: the hash keeps one client's requests (a
     * Socket.IO client's polls) on one backend, round robin spreads them.
     */
    @Test
    void requestsAreBalancedLikeUpgrades() throws Exception {
        try (HttpBackend second = new HttpBackend()) {
            http = new HttpBackend();
            start(Map.of("proxyTo", http.wsUri("/base/") + ", " + second.wsUri("/base/"), "balancer", "hash",
                    "hashKey", "header:X-User"));
            for (int i = 0; i < 6; i++) {
                assertEquals(200, get("/wsapp/echo/" + i, "X-User: ann").status());
            }
            int first = http.pending();
            int other = second.pending();

            assertTrue(first == 6 && other == 0 || first == 0 && other == 6, "ann's requests went " + first + " and " + other);
        }
    }

    @Test
    void roundRobinSpreadsRequests() throws Exception {
        try (HttpBackend second = new HttpBackend()) {
            http = new HttpBackend();
            start(Map.of("proxyTo", http.wsUri("/base/") + ", " + second.wsUri("/base/")));
            for (int i = 0; i < 6; i++) {
                assertEquals(200, get("/wsapp/echo/" + i).status());
            }

            assertEquals(3, http.pending());
            assertEquals(3, second.pending());
        }
    }

    @Test
    void bodiesPassWithFixedLengthAndChunked() throws Exception {
        startHttp(Map.of());

        RawHttp.Response fixed = RawHttp.exchange(container.tlsPort(), "POST /wsapp/echo HTTP/1.1\nHost: " + host()
                + "\nConnection: close\nContent-Type: text/plain\nContent-Length: 5", bytes("hello"));
        HttpBackend.Exchange fixedSeen = http.exchange();
        RawHttp.Response chunked = RawHttp.exchange(container.tlsPort(), "PUT /wsapp/echo HTTP/1.1\nHost: " + host()
                + "\nConnection: close\nContent-Type: text/plain\nTransfer-Encoding: chunked",
                bytes("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
        HttpBackend.Exchange chunkedSeen = http.exchange();

        assertEquals(200, fixed.status());
        assertEquals("POST", fixedSeen.method());
        assertEquals(5, fixedSeen.bodyLength());
        assertEquals("5", fixedSeen.header("Content-Length"));
        assertNull(fixedSeen.header("Transfer-Encoding"));
        assertEquals("5 " + sha256(bytes("hello")) + "\n", fixed.text());
        assertEquals(200, chunked.status());
        assertEquals("PUT", chunkedSeen.method());
        assertEquals(11, chunkedSeen.bodyLength());
        assertEquals("11 " + sha256(bytes("hello world")) + "\n", chunked.text());
    }

    @Test
    void expectContinueWaitsForTheBackend() throws Exception {
        startHttp(Map.of());

        try (RawHttp c = RawHttp.tls(container.tlsPort())) {
            c.send("POST /wsapp/echo HTTP/1.1\nHost: " + host() + "\nConnection: close\nContent-Type: text/plain"
                    + "\nContent-Length: 5\nExpect: 100-continue", null);
            RawHttp.Head interim = c.head();
            c.out().write(bytes("hello"));
            c.out().flush();
            RawHttp.Response answer = c.response();

            assertEquals(100, interim.status());
            assertEquals(200, answer.status());
            assertEquals("5 " + sha256(bytes("hello")) + "\n", answer.text());
        }
        assertEquals("100-continue", http.exchange().header("Expect"));
    }

    @Test
    void forwardedHeadersAreTheWebSocketLegsAndHostIsTheBackends() throws Exception {
        startHttp(Map.of());

        get("/wsapp/echo", "X-Forwarded-For: 10.0.0.1", "Cookie: s=1", "User-Agent: test-agent");
        HttpBackend.Exchange seen = http.exchange();

        assertEquals("10.0.0.1, 127.0.0.1", seen.header("X-Forwarded-For"));
        assertEquals("https", seen.header("X-Forwarded-Proto"));
        assertEquals(host(), seen.header("X-Forwarded-Host"));
        assertEquals(Integer.toString(container.tlsPort()), seen.header("X-Forwarded-Port"));
        assertEquals("127.0.0.1:" + http.port(), seen.header("Host"));
        assertEquals("s=1", seen.header("Cookie"));
        assertEquals("test-agent", seen.header("User-Agent"));
        assertNull(seen.header("Via"));
    }

    @Test
    void preserveHostSendsTheClientsHost() throws Exception {
        startHttp(Map.of("preserveHost", "true"));

        get("/wsapp/echo");

        assertEquals(host(), http.exchange().header("Host"));
    }

    @Test
    void hopByHopHeadersStayOnTheirHop() throws Exception {
        startHttp(Map.of());

        RawHttp.Response answer = get("/wsapp/headers?" + headers("Connection: X-Gone", "X-Gone: 1",
                "Keep-Alive: timeout=5", "Proxy-Authenticate: Basic", "X-Stays: 1"),
                "Connection: close, X-Hop", "X-Hop: 1", "Keep-Alive: timeout=5", "TE: trailers",
                "Proxy-Authorization: Basic eDp5", "X-Kept: 1");
        HttpBackend.Exchange seen = http.exchange();

        assertNull(seen.header("X-Hop"));
        assertNull(seen.header("Keep-Alive"));
        assertNull(seen.header("TE"));
        assertNull(seen.header("Proxy-Authorization"));
        assertEquals("1", seen.header("X-Kept"));
        assertEquals(200, answer.status());
        assertNull(answer.header("X-Gone"));
        assertNull(answer.header("Keep-Alive"));
        assertNull(answer.header("Proxy-Authenticate"));
        assertEquals("1", answer.header("X-Stays"));
    }

    @Test
    void locationsIntoTheBackendBasePointAtTheRoute() throws Exception {
        startHttp(Map.of());
        String backend = "http://127.0.0.1:" + http.port();
        String client = "https://" + host();
        Map<String, String> rows = new LinkedHashMap<>();
        rows.put("Location: " + backend + "/base/login?x=1", "Location: " + client + "/wsapp/login?x=1");
        rows.put("Location: " + backend + "/base", "Location: " + client + "/wsapp");
        rows.put("Location: " + backend + "/base/", "Location: " + client + "/wsapp/");
        rows.put("Location: /base/next#top", "Location: /wsapp/next#top");
        rows.put("Location: /elsewhere", "Location: /elsewhere");
        rows.put("Location: next", "Location: next");
        rows.put("Location: http://other.example/base/x", "Location: http://other.example/base/x");
        rows.put("Location: https://127.0.0.1:" + http.port() + "/base/x", "Location: https://127.0.0.1:" + http.port() + "/base/x");
        rows.put("Location: " + backend + "/basement", "Location: " + backend + "/basement");
        rows.put("Content-Location: " + backend + "/base/doc", "Content-Location: " + client + "/wsapp/doc");
        rows.put("URI: /base/u", "URI: /wsapp/u");

        for (Map.Entry<String, String> row : rows.entrySet()) {
            RawHttp.Response answer = get("/wsapp/headers?status=302&" + headers(row.getKey()));
            String name = row.getValue().substring(0, row.getValue().indexOf(':'));

            assertEquals(302, answer.status(), row.getKey());
            assertEquals(row.getValue(), name + ": " + answer.header(name), row.getKey());
        }
    }

    @Test
    void cookiesComeBackForTheRoutesPath() throws Exception {
        startHttp(Map.of());

        RawHttp.Response answer = get("/wsapp/headers?" + headers("Set-Cookie: a=1; Path=/; Domain=127.0.0.1; HttpOnly",
                "Set-Cookie: b=2; Path=/base/api; Secure", "Set-Cookie: c=3; Path=/other; Domain=example.com"));
        List<String> cookies = answer.head().all("Set-Cookie");

        assertEquals(3, cookies.size(), cookies.toString());
        assertEquals(Map.of("a", "1", "path", "/wsapp", "httponly", ""), attributes(cookies.get(0)));
        assertEquals(Map.of("b", "2", "path", "/wsapp/api", "secure", ""), attributes(cookies.get(1)));
        assertEquals(Map.of("c", "3", "path", "/other", "domain", "example.com"), attributes(cookies.get(2)));
    }

    @Test
    void pathEscapesAndBadRequestsAreRefusedAndNothingIsForwarded() throws Exception {
        startHttp(Map.of());

        for (String path : List.of("/wsapp/%2e%2e/x", "/wsapp/a/%2E%2e/%2e%2e/x", "/wsapp/a%2fb", "/wsapp/a//b",
                "/wsapp/..;x/y", "/wsapp/a%252e%252e/b", "/wsapp/a%5cb")) {
            RawHttp.Response answer = get(path);

            assertTrue(answer.status() >= 400 && answer.status() < 500, path + " answered " + answer.status());
        }
        // Only the head, and a refusal may come (and the connection close) before the request is written whole.
        dev.wsbridge.support.RawClient.Head oversized = dev.wsbridge.support.RawClient.tls(container.tlsPort(),
                "GET /wsapp/echo HTTP/1.1\r\nHost: " + host() + "\r\nX-Big: " + "x".repeat(64 * 1024) + "\r\n\r\n");
        RawHttp.Response badQuery;
        try {
            badQuery = get("/wsapp/echo?a=%zz");
        } catch (java.io.EOFException closedUnanswered) {
            // Seen once in Jetty, in a full build on 2 loaded cores: this new connection, opened right after
            // Jetty refused the oversized head above, was closed with no byte of an answer. The refusal asked
            // of the bad query is then checked on another connection.
            badQuery = get("/wsapp/echo?a=%zz");
        }

        assertTrue(oversized.status() >= 400 && oversized.status() < 500, "oversized header answered " + oversized.status());
        assertTrue(badQuery.status() >= 400 && badQuery.status() < 500, "bad query answered " + badQuery.status());
        assertEquals(0, http.pending());
    }

    @Test
    void unreachableBackendIs502() throws Exception {
        startHttp(Map.of("proxyTo", RawBackend.refusedUri().toString()));

        RawHttp.Response answer = get("/wsapp/x");

        assertEquals(502, answer.status());
        assertEquals("text/plain;charset=utf-8", answer.header("Content-Type").replace(" ", "").toLowerCase());
    }

    @Test
    void backendThatDoesNotAnswerIs504() throws Exception {
        startHttp(Map.of("httpIdleTimeout", "300ms"));

        RawHttp.Response answer = get("/wsapp/stall");

        assertEquals(504, answer.status());
        assertEquals("Backend did not answer in time\n", answer.text());
    }

    @Test
    void eventStreamReachesTheClientEventByEvent() throws Exception {
        startHttp(Map.of());

        try (RawHttp c = RawHttp.tls(container.tlsPort())) {
            c.send("GET /wsapp/events HTTP/1.1\nHost: " + host() + "\nAccept: text/event-stream\nConnection: close", null);
            RawHttp.Head head = c.head();
            InputStream body = c.body(head);

            assertEquals(200, head.status());
            assertEquals("text/event-stream", head.header("Content-Type"));
            // The backend sends the second event only once the first has reached the client.
            assertEquals("data: one\n\n", new String(body.readNBytes(11), StandardCharsets.UTF_8));
            http.releaseEvents();
            assertEquals("data: two\n\n", new String(body.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void backendDyingMidBodyNeverLooksComplete() throws Exception {
        try (TruncatingBackend chunked = new TruncatingBackend("Transfer-Encoding: chunked", "5\r\nhello\r\n");
                TruncatingBackend counted = new TruncatingBackend("Content-Length: 100", "hello")) {
            start(Map.of("proxyTo", chunked.uri()));
            assertCut(chunked);
            container.close();
            container = null;
            start(Map.of("proxyTo", counted.uri()));
            assertCut(counted);
        }
    }

    /** The client has the head and the start of the body when the backend drops: the body must not end cleanly. */
    private void assertCut(TruncatingBackend backend) throws Exception {
        try (RawHttp c = RawHttp.tls(container.tlsPort())) {
            c.send("GET /wsapp/x HTTP/1.1\nHost: " + host(), null);
            RawHttp.Head head = c.head();
            InputStream body = c.body(head);
            String start = new String(body.readNBytes(5), StandardCharsets.UTF_8);
            backend.cut.countDown();

            assertEquals(200, head.status());
            assertEquals("hello", start);
            assertThrows(EOFException.class, body::readAllBytes);
        }
    }

    @Test
    void largeBodiesStreamBothWays() throws Exception {
        startHttp(Map.of());
        byte[] buf = new byte[64 * 1024];

        try (RawHttp c = RawHttp.tls(container.tlsPort())) {
            c.send("POST /wsapp/echo HTTP/1.1\nHost: " + host() + "\nConnection: close\nContent-Type: application/octet-stream"
                    + "\nContent-Length: " + LARGE, null);
            OutputStream out = c.out();
            for (long i = 0; i < LARGE; ) {
                int len = (int) Math.min(buf.length, LARGE - i);
                for (int j = 0; j < len; j++) {
                    buf[j] = HttpBackend.pattern(i + j);
                }
                out.write(buf, 0, len);
                i += len;
            }
            out.flush();
            assertEquals(LARGE + " " + HttpBackend.patternSha256(LARGE) + "\n", c.response().text());
        }
        for (String chunked : List.of("false", "true")) {
            try (RawHttp c = RawHttp.tls(container.tlsPort())) {
                c.send("GET /wsapp/bytes?n=" + LARGE + "&chunked=" + chunked + " HTTP/1.1\nHost: " + host()
                        + "\nConnection: close", null);
                RawHttp.Head head = c.head();
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                long n = 0;
                try (InputStream body = c.body(head)) {
                    for (int r; (r = body.read(buf)) >= 0; ) {
                        sha.update(buf, 0, r);
                        n += r;
                    }
                }

                assertEquals(200, head.status());
                assertEquals(chunked.equals("true") ? null : Long.toString(LARGE), head.header("Content-Length"));
                assertEquals(LARGE, n);
                assertEquals(HttpBackend.patternSha256(LARGE), HexFormat.of().formatHex(sha.digest()));
            }
        }
    }

    @Test
    void clientThatDoesNotReadHoldsTheBackendBack() throws Exception {
        startHttp(Map.of());
        long total = 64L << 20;

        try (RawHttp c = RawHttp.tls(container.tlsPort())) {
            c.send("GET /wsapp/bytes?n=" + total + "&chunked=true HTTP/1.1\nHost: " + host() + "\nConnection: close", null);
            RawHttp.Head head = c.head();
            // The client reads nothing more: what the backend manages to write is what the buffers on the way hold.
            Await.until("the backend writing", 10, () -> http.bodyBytesWritten() > 0);
            // Held back: no progress across a few polls in a row (a bounded wait; the assertion is on bytes).
            long[] last = {-1, 0};
            Await.until("the backend held back", 30, () -> {
                long now = http.bodyBytesWritten();
                last[1] = now == last[0] ? last[1] + 1 : 0;
                last[0] = now;
                return last[1] >= 50;
            });
            long heldAt = http.bodyBytesWritten();
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            long n = 0;
            byte[] buf = new byte[64 * 1024];
            try (InputStream body = c.body(head)) {
                for (int r; (r = body.read(buf)) >= 0; ) {
                    sha.update(buf, 0, r);
                    n += r;
                }
            }

            assertTrue(heldAt < 16L << 20, "the backend wrote " + heldAt + " bytes to a client that read none");
            assertEquals(total, n);
            assertEquals(HttpBackend.patternSha256(total), HexFormat.of().formatHex(sha.digest()));
        }
    }

    @Test
    void badHttpParamStopsTheDeployment() throws Exception {
        http = new HttpBackend();
        container = kind.create();
        container.start(Map.of("proxyTo", http.wsUri("/").toString(), "reverseCookiePath", "/only-one"), Map.of());

        assertFalse(container.deployed());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** The query that has {@code /headers} answer with these header lines. */
    private static String headers(String... lines) {
        StringBuilder q = new StringBuilder();
        for (String line : lines) {
            int colon = line.indexOf(':');
            q.append(q.length() == 0 ? "" : "&").append("h=")
                    .append(URLEncoder.encode(line.substring(0, colon) + ":" + line.substring(colon + 1).trim(), StandardCharsets.UTF_8));
        }
        return q.toString();
    }

    /** A cookie's name and value, then its attributes with lower-case names, whatever their order and spacing. */
    private static Map<String, String> attributes(String setCookie) {
        Map<String, String> out = new HashMap<>();
        for (String part : setCookie.split(";")) {
            String p = part.trim();
            int eq = p.indexOf('=');
            String name = eq < 0 ? p : p.substring(0, eq);
            out.put(out.isEmpty() ? name : name.toLowerCase(), eq < 0 ? "" : p.substring(eq + 1));
        }
        return out;
    }

    /** A backend that answers every request with a head and the start of a body, then drops the connection when told. */
    private static final class TruncatingBackend implements AutoCloseable {
        /** Counted down by the test once the client has the start of the body; then the connection drops. */
        final CountDownLatch cut = new CountDownLatch(1);
        private final ServerSocket server;
        private final Thread acceptor;

        TruncatingBackend(String framing, String start) throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try (Socket s = server.accept()) {
                        InputStream in = s.getInputStream();
                        int matched = 0;
                        for (int c; matched < 4 && (c = in.read()) >= 0; ) {
                            matched = c == "\r\n\r\n".charAt(matched) ? matched + 1 : c == '\r' ? 1 : 0;
                        }
                        s.getOutputStream().write(bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + framing
                                + "\r\n\r\n" + start));
                        s.getOutputStream().flush();
                        cut.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        return;
                    } catch (IOException e) {
                        // closed
                    }
                }
            }, "test-truncating-backend");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        String uri() {
            return "ws://127.0.0.1:" + server.getLocalPort() + "/";
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
