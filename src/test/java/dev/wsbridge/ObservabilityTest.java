package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.LogCapture;
import dev.wsbridge.support.Peer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.TabularData;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.util.ajax.JSON;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What an operator sees of each session: the access-log line after every kind of ending and every refusal,
 * key by key; the metrics scraped after known traffic, checked exactly; the status page's JSON with a live
 * session; the admin pages closed to addresses not allowed.
 */
class ObservabilityTest extends ContainerSuite {

    /** The keys every access-log line has, in this order. */
    private static final List<String> KEYS = List.of("session", "route", "client", "user", "path", "subprotocol",
            "status", "backend", "handshake_ms", "duration_ms", "c2b_msgs", "c2b_bytes", "b2c_msgs", "b2c_bytes",
            "client_close", "backend_close", "ended_by");
    private static final Pattern PAIR = Pattern.compile("([a-z_0-9]+)=(\"(?:[^\"\\\\]|\\\\.)*\"|\\S+)");

    private LogCapture access;

    @BeforeEach
    void captureAccessLog() {
        access = new LogCapture("dev.wsbridge.access");
    }

    @AfterEach
    void stopCapture() {
        access.close();
    }

    @Test
    void clientCloseAfterKnownTrafficIsLoggedAndCountedExactly() throws Exception {
        start(Map.of());
        backend.subprotocol(offered -> offered.contains("chat.v2") ? "chat.v2" : null);
        Peer c = client.connect(container.wss("/wsapp/room/7?token=secret"), Map.of("X-Forwarded-For", "203.0.113.9"),
                "chat.v1", "chat.v2");
        backend.session();
        c.send("a");
        c.send("bb".repeat(100));
        c.send(new byte[5000]);
        assertEquals("a", c.nextText());
        assertEquals("bb".repeat(100), c.nextText());
        assertEquals(5000, c.nextBinary().length);
        assertEquals(List.of(), List.copyOf(c.pending()));
        c.close(1000, "bye");
        assertEquals(1000, c.closed().code());

        Map<String, String> line = awaitLine();
        assertEquals("wsapp", line.get("route"));
        assertEquals("127.0.0.1", line.get("client"));
        assertEquals("-", line.get("user"));
        assertEquals("/wsapp/room/7", line.get("path"), "no query string: tokens stay out of the log");
        assertEquals("chat.v2", line.get("subprotocol"));
        assertEquals("101", line.get("status"));
        assertEquals("ws://127.0.0.1:" + backend.port(), line.get("backend"));
        assertTrue(Long.parseLong(line.get("handshake_ms")) >= 0);
        assertTrue(Long.parseLong(line.get("duration_ms")) >= 0);
        assertEquals("3", line.get("c2b_msgs"));
        assertEquals(Long.toString(1 + 200 + 5000), line.get("c2b_bytes"));
        assertEquals("3", line.get("b2c_msgs"));
        assertEquals(Long.toString(1 + 200 + 5000), line.get("b2c_bytes"));
        assertEquals("1000", line.get("client_close"));
        assertEquals("1000", line.get("backend_close"));
        assertEquals("client", line.get("ended_by"));
        assertEquals("203.0.113.9", line.get("forwarded_for"));

        String m = scrape("/wsbridge/metrics");
        assertEquals(1, value(m, "wsbridge_handshakes_total", "route", "wsapp", "status", "101"));
        assertEquals(2, value(m, "wsbridge_messages_total", "direction", "client_to_backend", "type", "text"));
        assertEquals(1, value(m, "wsbridge_messages_total", "direction", "client_to_backend", "type", "binary"));
        assertEquals(2, value(m, "wsbridge_messages_total", "direction", "backend_to_client", "type", "text"));
        assertEquals(1, value(m, "wsbridge_messages_total", "direction", "backend_to_client", "type", "binary"));
        assertEquals(201, value(m, "wsbridge_message_bytes_total", "direction", "client_to_backend", "type", "text"));
        assertEquals(5000, value(m, "wsbridge_message_bytes_total", "direction", "backend_to_client", "type", "binary"));
        assertEquals(3, value(m, "wsbridge_message_size_bytes_count", "direction", "client_to_backend"));
        assertEquals(5201, value(m, "wsbridge_message_size_bytes_sum", "direction", "backend_to_client"));
        assertEquals(1, value(m, "wsbridge_message_size_bytes_bucket", "direction", "client_to_backend", "le", "64.0"));
        assertEquals(2, value(m, "wsbridge_message_size_bytes_bucket", "direction", "client_to_backend", "le", "256.0"));
        assertEquals(3, value(m, "wsbridge_message_size_bytes_bucket", "direction", "client_to_backend", "le", "16384.0"));
        assertEquals(1, value(m, "wsbridge_sessions_ended_total", "ended_by", "client"));
        assertEquals(1, value(m, "wsbridge_close_codes_total", "leg", "client", "code", "1000"));
        assertEquals(1, value(m, "wsbridge_close_codes_total", "leg", "backend", "code", "1000"));
        assertEquals(1, value(m, "wsbridge_session_duration_seconds_count", "route", "wsapp"));
        assertEquals(1, value(m, "wsbridge_backend_handshake_seconds_count", "route", "wsapp"));
        assertEquals(0, value(m, "wsbridge_sessions_open", "route", "wsapp"));
        assertEquals(1, value(m, "wsbridge_sessions_peak", "route", "wsapp"));
        assertEquals(1, value(m, "wsbridge_backend_up", "backend", backend.uri().toString()));
    }

    @Test
    void longSessionsGetInterimLines() throws Exception {
        start(Map.of("accessLogInterval", "300ms"));
        Peer c = client.connect(container.wss("/wsapp/long"));
        backend.session();
        c.send("x");
        assertEquals("x", c.nextText());
        Map<String, String> line = awaitLine();
        assertEquals("true", line.get("interim"));
        assertEquals("101", line.get("status"));
        assertEquals("1", line.get("c2b_msgs"));
        assertEquals("-", line.get("ended_by"));
        assertEquals("-", line.get("client_close"));
        c.close(1000, "");
        c.closed();
        Await.until("the final line", 10, () -> access.lines().stream().anyMatch(l -> l.contains("ended_by=client")),
                () -> access.lines().toString());
        long interims = access.lines().stream().filter(l -> l.contains("interim=true")).count();
        Thread.sleep(700);
        assertEquals(interims, access.lines().stream().filter(l -> l.contains("interim=true")).count(),
                "interim lines after the session ended");
    }

    @Test
    void plainHttpRequestsAreCountedByStatusAndNotAccessLogged() throws Exception {
        start(Map.of());
        int status = dev.wsbridge.support.RawHttp.exchange(container.tlsPort(),
                "GET /wsapp/no-such-page HTTP/1.1\nHost: localhost\nConnection: close", null).status();
        Await.until("the request counted", 10, () -> {
            try {
                return value(scrape("/wsbridge/metrics"), "wsbridge_http_requests_total", "status",
                        Integer.toString(status)) == 1;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, () -> "not counted");
        awaitNoLine();
    }

    @Test
    void backendCloseIsLoggedWithItsCode() throws Exception {
        start(Map.of());
        Peer c = client.connect(container.wss("/wsapp/b"));
        Peer b = backend.session();
        b.close(4001, "done here");
        assertEquals(4001, c.closed().code());
        Map<String, String> line = awaitLine();
        assertEquals("4001", line.get("backend_close"));
        assertEquals("4001", line.get("client_close"));
        assertEquals("backend", line.get("ended_by"));
    }

    @Test
    void backendDropIsLogged1006Then1014() throws Exception {
        start(Map.of());
        Peer c = client.connect(container.wss("/wsapp/drop"));
        backend.session().abort();
        assertEquals(1014, c.closed().code());
        Map<String, String> line = awaitLine();
        assertEquals("1006", line.get("backend_close"));
        assertEquals("1014", line.get("client_close"));
        assertEquals("backend", line.get("ended_by"));
    }

    @Test
    void clientDropIsLogged1006Then1001() throws Exception {
        start(Map.of());
        Peer c = client.connect(container.wss("/wsapp/gone"));
        Peer b = backend.session();
        c.abort();
        assertEquals(1001, b.closed().code());
        Map<String, String> line = awaitLine();
        assertEquals("1006", line.get("client_close"));
        assertEquals("1001", line.get("backend_close"));
        assertEquals("client", line.get("ended_by"));
    }

    @Test
    void idleSessionIsLoggedAsIdle() throws Exception {
        start(Map.of("idleTimeout", "1s"));
        Peer c = client.connect(container.wss("/wsapp/quiet"));
        Peer b = backend.session();
        assertEquals(1001, c.closed().code());
        assertEquals(1001, b.closed().code());
        Map<String, String> line = awaitLine();
        assertEquals("idle", line.get("ended_by"));
        assertEquals("1001", line.get("client_close"));
        assertEquals("1001", line.get("backend_close"));
    }

    @Test
    void oversizedMessageIsLoggedAsLimit() throws Exception {
        start(Map.of("maxMessageSize", "1KiB"));
        Peer c = client.connect(container.wss("/wsapp/big"));
        Peer b = backend.session();
        c.send(new byte[2048]);
        assertEquals(1009, c.closed().code());
        assertEquals(1001, b.closed().code());
        Map<String, String> line = awaitLine();
        assertEquals("limit", line.get("ended_by"));
        assertEquals("1009", line.get("client_close"));
        assertEquals("0", line.get("c2b_msgs"));
    }

    @Test
    void undeployIsLoggedAsShutdown() throws Exception {
        start(Map.of());
        Peer c = client.connect(container.wss("/wsapp/bye"));
        backend.session();
        container.undeploy();
        assertEquals(1001, c.closed().code());
        Map<String, String> line = awaitLine();
        assertEquals("shutdown", line.get("ended_by"));
        assertEquals("1001", line.get("client_close"));
        assertEquals("1001", line.get("backend_close"));
    }

    @Test
    void everyRefusalIsLoggedWithItsStatusAndReason() throws Exception {
        start(Map.of("maxSessions", "1"));
        // 403: an origin not allowed.
        assertEquals(403, client.status(container.wss("/wsapp/o"), Map.of("Origin", "https://evil.example")));
        Map<String, String> line = awaitLine();
        assertEquals("403", line.get("status"));
        assertEquals("-", line.get("backend"));
        assertEquals("-", line.get("duration_ms"));
        assertEquals("-", line.get("ended_by"));
        assertFalse(line.get("reason").equals("-"));

        // 400: a malformed upgrade; 426: a version the bridge does not speak.
        String upgrade = dev.wsbridge.support.RawClient.upgrade("/wsapp/bad", "localhost:" + container.tlsPort());
        assertEquals(400, dev.wsbridge.support.RawClient.tls(container.tlsPort(),
                upgrade.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")).status());
        assertEquals("400", awaitLine().get("status"));
        assertEquals(426, dev.wsbridge.support.RawClient.tls(container.tlsPort(),
                upgrade.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8")).status());
        assertEquals("426", awaitLine().get("status"));

        // 4xx from the backend passes through, with the backend named.
        backend.refuse(401, Map.of("WWW-Authenticate", "Bearer"));
        assertEquals(401, client.status(container.wss("/wsapp/auth"), Map.of()));
        line = awaitLine();
        assertEquals("401", line.get("status"));
        assertEquals("ws://127.0.0.1:" + backend.port(), line.get("backend"));

        // 502: the backend refuses connections.
        int port = backend.port();
        backend.stopListening();
        assertEquals(502, client.status(container.wss("/wsapp/down"), Map.of()));
        line = awaitLine();
        assertEquals("502", line.get("status"));
        assertEquals("ws://127.0.0.1:" + port, line.get("backend"));
        backend.startListening();
        backend.refuse(0, Map.of());

        // 503: the route is full.
        Peer held = client.connect(container.wss("/wsapp/one"));
        awaitNoLine();
        assertEquals(503, client.status(container.wss("/wsapp/two"), Map.of()));
        line = awaitLine();
        assertEquals("503", line.get("status"));
        held.close(1000, "");

        String m = scrape("/wsbridge/metrics");
        for (String status : List.of("400", "426", "403", "401", "502", "503")) {
            assertEquals(1, value(m, "wsbridge_handshakes_total", "status", status), status);
        }
    }

    @Test
    void debugShowsTheHandshakeBothWaysWithoutSecretsAndTraceShowsFramesWithoutPayloads() throws Exception {
        start(Map.of());
        try (LogCapture log = new LogCapture("dev.wsbridge", java.util.logging.Level.FINEST)) {
            Peer c = client.connect(container.wss("/wsapp/t?token=s3cr3t"),
                    Map.of("Cookie", "session=c00k1e", "Authorization", "Bearer t0k3n", "Origin", "https://localhost:"
                            + container.tlsPort()));
            backend.session();
            c.send("payload-text");
            assertEquals("payload-text", c.nextText());
            c.close(1000, "");
            awaitLine();
            List<String> lines = log.lines();
            String all = String.join("\n", lines);
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("FINE ") && l.contains("handshake from 127.0.0.1: GET /wsapp/t")
                    && l.toLowerCase(java.util.Locale.ROOT).contains("origin: https://localhost:")), all);
            assertTrue(lines.stream().anyMatch(l -> l.contains("backend ws://127.0.0.1:" + backend.port() + " answered 101")), all);
            assertTrue(lines.stream().anyMatch(l -> l.contains("answering the client 101")), all);
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("FINEST ")
                    && l.contains("client->backend frame opcode 1 length 12 fin true")), all);
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("FINEST ")
                    && l.contains("backend->client frame opcode 1 length 12 fin true")), all);
            for (String secret : List.of("s3cr3t", "c00k1e", "t0k3n", "payload-text")) {
                assertFalse(all.contains(secret), secret + " in the log:\n" + all);
            }
        }
    }

    @Test
    void debugSaysWhatTheBackendAnsweredAndWhichTimeoutFired() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
                LogCapture log = new LogCapture("dev.wsbridge", java.util.logging.Level.FINE)) {
            start(Map.of("upgradeTimeout", "1s"));
            backend.refuse(401, Map.of("WWW-Authenticate", "Bearer realm=x"));
            assertEquals(401, client.status(container.wss("/wsapp/no"), Map.of()));
            String all = String.join("\n", log.lines());
            assertTrue(all.contains("answered 401 Unauthorized [") && all.contains("WWW-Authenticate: ("), all);
            assertTrue(all.contains("refused 401: Backend refused the upgrade"), all);
            container.close();
            container = kind.create();
            container.start(Map.of("proxyTo", "ws://127.0.0.1:" + silent.getLocalPort() + "/", "upgradeTimeout", "1s"),
                    Map.of());
            assertEquals(504, client.status(container.wss("/wsapp/slow"), Map.of()));
            all = String.join("\n", log.lines());
            assertTrue(all.contains("gave no answer") && all.contains("upgradeTimeout of 1000 ms expired"), all);
        }
    }

    @Test
    void statusJsonListsTheLiveSessionWithItsCounters() throws Exception {
        start(Map.of());
        Peer c = client.connect(container.wss("/wsapp/live?secret=1"));
        backend.session();
        c.send("hello");
        assertEquals("hello", c.nextText());
        c.send("x".repeat(300));
        assertEquals(300, c.nextText().length());
        Object parsed = new JSON().fromJSON(scrape("/wsbridge/status?format=json"));
        Map<?, ?> route = (Map<?, ?>) ((Object[]) ((Map<?, ?>) parsed).get("routes"))[0];
        assertEquals("wsapp", route.get("route"));
        assertEquals(1L, ((Number) route.get("sessionsOpen")).longValue());
        Map<?, ?> session = (Map<?, ?>) ((Object[]) route.get("liveSessions"))[0];
        assertEquals("/wsapp/live", session.get("path"));
        assertEquals(2L, ((Number) session.get("c2bMessages")).longValue());
        assertEquals(305L, ((Number) session.get("b2cBytes")).longValue());
        // Each size bucket counts its own messages: 5 bytes in "64", 300 in "1024", none between.
        Map<?, ?> sizes = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) route.get("messageSizes")).get("client_to_backend")).get("buckets");
        assertEquals(1L, ((Number) sizes.get("64")).longValue(), sizes.toString());
        assertEquals(0L, ((Number) sizes.get("256")).longValue(), sizes.toString());
        assertEquals(1L, ((Number) sizes.get("1024")).longValue(), sizes.toString());
        assertEquals(0L, ((Number) sizes.get("4096")).longValue(), sizes.toString());
        String html = scrape("/wsbridge/status");
        assertTrue(html.contains("/wsapp/live"), html);
        c.close(1000, "");
    }

    @Test
    void jmxShowsTheRouteUntilUndeploy() throws Exception {
        start(Map.of());
        Peer c = client.connect(container.wss("/wsapp/jmx"));
        backend.session();
        c.send("four");
        assertEquals("four", c.nextText());
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName route = new ObjectName("dev.wsbridge:type=Route,context=\"/\",route=\"wsapp\"");
        assertEquals(1, server.getAttribute(route, "SessionsOpen"));
        assertEquals(1L, server.getAttribute(route, "MessagesClientToBackend"));
        assertEquals(4L, server.getAttribute(route, "BytesBackendToClient"));
        TabularData handshakes = (TabularData) server.getAttribute(route, "Handshakes");
        assertEquals(1L, handshakes.get(new Object[] {"101"}).get("value"));
        container.undeploy();
        assertEquals(Set.of(), server.queryNames(new ObjectName("dev.wsbridge:type=Route,*"), null));
    }

    @Test
    void adminPagesRefuseAddressesNotAllowed() throws Exception {
        container = kind.create();
        backend = new dev.wsbridge.support.ScriptedBackend();
        container.start(Map.of("proxyTo", backend.uri().toString()), Map.of("allowFrom", "10.0.0.0/8"));
        client = new dev.wsbridge.support.TestClient();
        assertEquals(403, get("/wsbridge/metrics").statusCode());
        assertEquals(403, get("/wsbridge/status").statusCode());
    }

    @Test
    void badAllowFromStopsTheDeploymentNamingIt() throws Exception {
        try (LogCapture log = new LogCapture("dev.wsbridge")) {
            container = kind.create();
            backend = new dev.wsbridge.support.ScriptedBackend();
            container.start(Map.of("proxyTo", backend.uri().toString()), Map.of("allowFrom", "localhost"));
            assertFalse(container.deployed());
            assertTrue(log.lines().stream().anyMatch(l -> l.contains("init-param [allowFrom] has value [localhost]")),
                    log.lines().toString());
        }
    }

    @Test
    void accessLogCanBeTurnedOff() throws Exception {
        start(Map.of("accessLog", "false"));
        Peer c = client.connect(container.wss("/wsapp/quiet"));
        backend.session();
        c.close(1000, "");
        c.closed();
        assertEquals(403, client.status(container.wss("/wsapp/o"), Map.of("Origin", "https://evil.example")));
        awaitNoLine();
    }

    // ---- helpers ----

    /** The next access-log line, parsed, after checking its keys and their order. */
    private Map<String, String> awaitLine() {
        Await.until("access-log line " + (seen + 1), 10, () -> access.lines().size() > seen, () -> "lines " + access.lines());
        String raw = access.lines().get(seen++);
        Map<String, String> line = parse(raw.substring(raw.indexOf(' ') + 1));
        assertEquals(KEYS, new ArrayList<>(line.keySet()).subList(0, KEYS.size()), raw);
        return line;
    }

    /** Lines of the access log read so far. */
    private int seen;

    /** No line beyond those read comes within 300 ms. */
    private void awaitNoLine() throws InterruptedException {
        Thread.sleep(300);
        assertEquals(List.of(), access.lines().subList(seen, access.lines().size()));
    }

    static Map<String, String> parse(String line) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = PAIR.matcher(line);
        while (m.find()) {
            String v = m.group(2);
            if (v.startsWith("\"")) {
                v = v.substring(1, v.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
            }
            out.put(m.group(1), v);
        }
        return out;
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + container.plainPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String scrape(String path) throws Exception {
        HttpResponse<String> r = get(path);
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    /** The value of the one sample of {@code name} whose labels include {@code labels} (pairs); 0 when none. */
    static double value(String exposition, String name, String... labels) {
        List<Double> found = new ArrayList<>();
        for (String l : exposition.split("\n")) {
            if (!l.startsWith(name + "{") && !l.startsWith(name + " ")) {
                continue;
            }
            boolean all = true;
            for (int i = 0; i < labels.length; i += 2) {
                all &= l.contains(labels[i] + "=\"" + labels[i + 1] + "\"");
            }
            if (all) {
                found.add(Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)));
            }
        }
        assertTrue(found.size() <= 1, name + " " + List.of(labels) + " matches " + found.size() + " samples");
        return found.isEmpty() ? 0 : found.get(0);
    }
}
