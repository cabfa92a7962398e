package dev.wsbridge.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.ScriptedBackend;
import dev.wsbridge.support.TestClient;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The built WAR in each real distribution, over wss through the container's own TLS connector, configured
 * without repacking exactly as README shows: one container process per distribution, four web applications
 * in it.
 * <ul>
 * <li>{@code /} (ROOT.war): the shipped WAR with a context-param {@code proxyTo} from the container's context
 * descriptor ({@code conf/Catalina/localhost/ROOT.xml} or Jetty's {@code webapps/ROOT.xml});</li>
 * <li>{@code /env}: the shipped WAR as is, its {@code ${env:WSBRIDGE_PROXY_TO}} from the process environment;</li>
 * <li>{@code /sys}: the shipped WAR with a context-param {@code ${sys:backend.url}}, given as {@code -D};</li>
 * <li>{@code /routes}: a web.xml with four routes, {@code /wsapp/*}, {@code /other/*}, {@code /dead/*} (a
 * refused port) and {@code /envonly/*} ({@code ${env:WSBRIDGE_PROXY_TO}} without a default);</li>
 * <li>{@code /secure}: a web.xml whose route is behind the container's BASIC authentication, one user in the
 * container's realm.</li>
 * </ul>
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.wsbridge.dist.Distribution#selected")
class DistributionIT {

    @Parameter
    Distribution distribution;

    private static ScriptedBackend main;
    private static ScriptedBackend viaEnv;
    private static ScriptedBackend viaSys;
    private static ScriptedBackend routeWsapp;
    private static ScriptedBackend routeOther;
    private static ScriptedBackend secured;
    private static ContainerProcess container;
    private static TestClient client;

    @BeforeParameterizedClassInvocation
    static void startContainer(Distribution distribution) throws Exception {
        main = new ScriptedBackend();
        viaEnv = new ScriptedBackend();
        viaSys = new ScriptedBackend();
        routeWsapp = new ScriptedBackend();
        routeOther = new ScriptedBackend();
        secured = new ScriptedBackend();
        container = distribution.newProcess(Path.of("target", "it", "DistributionIT", distribution.name()));
        Path war = ContainerProcess.builtWar();

        container.deploy("ROOT", war);
        container.contextParams("ROOT", Map.of("proxyTo", main.uri().toString()));

        container.env("WSBRIDGE_PROXY_TO", viaEnv.uri().toString());
        container.deploy("env", war);

        container.sys("backend.url", viaSys.uri().toString());
        container.deploy("sys", war);
        container.contextParams("sys", Map.of("proxyTo", "${sys:backend.url}"));

        Map<String, String> routes = new LinkedHashMap<>();
        routes.put("wsapp", routeWsapp.uri().toString());
        routes.put("other", routeOther.uri().toString());
        routes.put("dead", "ws://127.0.0.1:" + ContainerProcess.freePort() + "/");
        routes.put("envonly", "${env:WSBRIDGE_PROXY_TO}");
        container.deploy("routes", Wars.withWebXml(war, container.base.resolve("wars/routes.war"), Wars.routes(routes)));

        container.addUser("wsbridge", "alice", "wonder land", "wsbridge-user");
        container.deploy("secure", Wars.withWebXml(war, container.base.resolve("wars/secure.war"),
                Wars.basicAuthRoute(secured.uri().toString(), "wsbridge", "wsbridge-user")));

        container.start();
        container.awaitStatus("/secure/wsapp/", 401);
        for (String route : List.of("/wsapp/", "/env/wsapp/", "/sys/wsapp/", "/routes/wsapp/", "/routes/other/", "/routes/dead/",
                "/routes/envonly/")) {
            container.awaitStatus(route, 426);
        }
        client = new TestClient();
    }

    @AfterParameterizedClassInvocation
    static void stopContainer() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {client, container, secured, routeOther, routeWsapp, viaSys, viaEnv, main}) {
            if (c != null) {
                c.close();
            }
        }
        client = null;
        container = null;
    }

    /** Forgets the handshakes earlier tests left on {@code backend}. */
    private static void drain(ScriptedBackend backend) {
        for (int i = backend.handshakeCount(); i > 0; i--) {
            backend.handshake();
        }
    }

    @Test
    void textAndBinaryEcho() {
        Peer c = client.connect(container.wss("/wsapp/echo"));
        Peer b = main.session();
        byte[] bin = new byte[1000];
        new Random(1).nextBytes(bin);

        c.send("héllo ✓ 😀");
        c.send(bin);

        assertEquals("héllo ✓ 😀", b.nextText());
        assertArrayEquals(bin, b.nextBinary());
        assertEquals("héllo ✓ 😀", c.nextText());
        assertArrayEquals(bin, c.nextBinary());
        assertTrue(c.pending().isEmpty(), "nothing else reached the client");
        c.close(1000, "done");
        assertEquals(new Peer.Closed(1000, "done"), b.closed());
    }

    @Test
    void largeFragmentedMessageIsByteExact() {
        Peer c = client.connect(container.wss("/wsapp/large"));
        Peer b = main.session();
        byte[] whole = new byte[8 << 20];
        new Random(2).nextBytes(whole);
        Session s = c.session();
        int fragment = 64 << 10;
        for (int off = 0; off < whole.length; off += fragment) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            s.sendPartialBinary(ByteBuffer.wrap(whole, off, fragment), off + fragment == whole.length,
                    Callback.from(() -> done.complete(null), done::completeExceptionally));
            Await.get(done);
        }

        assertArrayEquals(whole, b.nextBinary());
        assertArrayEquals(whole, c.nextBinary());
        c.close(1000, "done");
        b.closed();
    }

    @Test
    void backendChoosesTheSubprotocol() {
        drain(main);
        main.subprotocol(offered -> offered.contains("v2.chat") ? "v2.chat" : null);
        try {
            Peer c = client.connect(container.wss("/wsapp/sub"), "v1.chat", "v2.chat");
            Peer b = main.session();

            assertEquals(List.of("v1.chat", "v2.chat"), main.handshake().subprotocols());
            assertEquals("v2.chat", c.session().getUpgradeResponse().getAcceptedSubProtocol());
            c.close(1000, "done");
            b.closed();
        } finally {
            main.subprotocol(offered -> null);
        }
    }

    /** The relay on the Servlet upgrade wherever the container has one; Jakarta WebSocket on Jetty 12.0. */
    @Test
    void clientLegTakesTheContainersRoute() {
        String route = distribution == Distribution.JETTY_12_0_EE10 ? "by Jakarta WebSocket" : "by Servlet upgrade";
        assertTrue(container.log().contains(route), "no [" + route + "] in\n" + container.tail());
    }

    /**
     * What an operator of the real container sees of one session: its line in the container's own log, its
     * counts in the metrics (as the difference over the session, as other tests share the application), and
     * the session in the status page's JSON while it lives.
     */
    @Test
    void accessLogMetricsAndStatusPageInTheRealContainer() throws Exception {
        String before = container.get("/env/wsbridge/metrics", Map.of()).body();
        Peer c = client.connect(container.wss("/env/wsapp/seen?token=t0k3n"));
        Peer b = viaEnv.session();
        c.send("one");
        c.send(new byte[300]);
        assertEquals("one", c.nextText());
        assertEquals(300, c.nextBinary().length);
        String status = container.get("/env/wsbridge/status?format=json", Map.of()).body();
        assertTrue(status.contains("\"path\":\"/env/wsapp/seen\""), status);
        c.close(1000, "done");
        b.closed();
        c.closed();
        Await.until("the session's access-log line", 10, () -> container.log().contains("path=/env/wsapp/seen "),
                () -> container.tail(30));
        String line = container.log().lines().filter(l -> l.contains("path=/env/wsapp/seen ")).findFirst().orElseThrow();
        for (String pair : List.of("route=wsapp", "status=101", "c2b_msgs=2", "c2b_bytes=303", "b2c_msgs=2",
                "b2c_bytes=303", "client_close=1000", "backend_close=1000", "ended_by=client")) {
            assertTrue(line.contains(" " + pair + " "), pair + " not in " + line);
        }
        assertTrue(!container.log().contains("t0k3n"), "the query's token reached the log");
        String after = container.get("/env/wsbridge/metrics", Map.of()).body();
        assertEquals(1, delta(before, after, "wsbridge_messages_total", "client_to_backend", "text"));
        assertEquals(1, delta(before, after, "wsbridge_messages_total", "backend_to_client", "binary"));
        assertEquals(303, delta(before, after, "wsbridge_message_bytes_total", "client_to_backend", ""));
        assertEquals(303, delta(before, after, "wsbridge_message_bytes_total", "backend_to_client", ""));
    }

    /** The change of the sample of {@code name} for {@code direction} and {@code type} (all types when empty). */
    private static double delta(String before, String after, String name, String direction, String type) {
        return sum(after, name, direction, type) - sum(before, name, direction, type);
    }

    private static double sum(String exposition, String name, String direction, String type) {
        return exposition.lines().filter(l -> l.startsWith(name + "{") && l.contains("direction=\"" + direction + "\"")
                && (type.isEmpty() || l.contains("type=\"" + type + "\"")) && l.contains("route=\"wsapp\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void deadBackendIs502() throws Exception {
        assertEquals(502, client.status(container.wss("/routes/dead/x"), Map.of()));
    }

    @Test
    void clientCloseCodeAndReasonReachTheBackend() {
        Peer c = client.connect(container.wss("/wsapp/close-client"));
        Peer b = main.session();

        c.close(4001, "client says bye");

        assertEquals(new Peer.Closed(4001, "client says bye"), b.closed());
        c.closed();
    }

    @Test
    void backendCloseCodeAndReasonReachTheClient() {
        Peer c = client.connect(container.wss("/wsapp/close-backend"));
        Peer b = main.session();

        b.close(4002, "backend says bye");

        assertEquals(new Peer.Closed(4002, "backend says bye"), c.closed());
        b.closed();
    }

    @Test
    void backendVanishingIs1014() {
        Peer c = client.connect(container.wss("/wsapp/vanish"));
        Peer b = main.session();
        c.send("before");
        assertEquals("before", c.nextText());

        b.session().disconnect();

        Peer.Closed closed = c.closed();
        assertEquals(1014, closed.code(), closed.toString());
    }

    @Test
    void contextParamFromTheContainerConfigChoosesTheBackend() {
        drain(main);
        drain(viaEnv);
        Peer c = client.connect(container.wss("/wsapp/ctx?q=1"));
        Peer b = main.session();

        assertEquals("/ctx?q=1", main.handshake().pathAndQuery());
        assertEquals(0, viaEnv.handshakeCount(), "the context-param wins over the env placeholder");
        c.close(1000, "done");
        b.closed();
    }

    @Test
    void envPlaceholderOfTheShippedWebXml() throws Exception {
        drain(viaEnv);
        Peer c = client.connect(container.wss("/env/wsapp/e"));
        Peer b = viaEnv.session();

        assertEquals("/e", viaEnv.handshake().pathAndQuery());
        c.send("via env");
        assertEquals("via env", c.nextText());
        c.close(1000, "done");
        b.closed();
    }

    @Test
    void envPlaceholderWithoutDefault() {
        drain(viaEnv);
        Peer c = client.connect(container.wss("/routes/envonly/e2"));
        Peer b = viaEnv.session();

        assertEquals("/e2", viaEnv.handshake().pathAndQuery());
        c.close(1000, "done");
        b.closed();
    }

    @Test
    void sysPlaceholderInAContextParam() {
        drain(viaSys);
        Peer c = client.connect(container.wss("/sys/wsapp/s"));
        Peer b = viaSys.session();

        assertEquals("/s", viaSys.handshake().pathAndQuery());
        c.send("via sys");
        assertEquals("via sys", c.nextText());
        c.close(1000, "done");
        b.closed();
    }

    @Test
    void secondRouteReachesItsOwnBackend() {
        drain(routeWsapp);
        drain(routeOther);
        Peer c1 = client.connect(container.wss("/routes/wsapp/a"));
        Peer b1 = routeWsapp.session();
        Peer c2 = client.connect(container.wss("/routes/other/b"));
        Peer b2 = routeOther.session();

        assertEquals("/a", routeWsapp.handshake().pathAndQuery());
        assertEquals("/b", routeOther.handshake().pathAndQuery());
        c1.send("one");
        c2.send("two");
        assertEquals("one", b1.nextText());
        assertEquals("two", b2.nextText());
        assertEquals("one", c1.nextText());
        assertEquals("two", c2.nextText());
        assertEquals(0, routeWsapp.handshakeCount());
        assertEquals(0, routeOther.handshakeCount());
        c1.close(1000, "done");
        c2.close(1000, "done");
        b1.closed();
        b2.closed();
    }

    @Test
    void theUserTheContainerAuthenticatedReachesTheBackendAndNoOneElseCanClaimIt() throws Exception {
        String alice = "Basic " + java.util.Base64.getEncoder().encodeToString("alice:wonder land".getBytes(
                java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(401, client.status(container.wss("/secure/wsapp/me"), Map.of("X-Forwarded-User", "alice")));
        assertEquals(0, secured.handshakeCount(), "nothing reaches the backend without credentials");

        Peer c = client.connect(container.wss("/secure/wsapp/me"), Map.of("Authorization", alice,
                "X-Forwarded-User", "mallory"));
        Peer b = secured.session();
        ScriptedBackend.Handshake seen = secured.handshake();
        assertEquals(List.of("alice"), seen.headers().get("X-Forwarded-User"), seen.headers().toString());
        c.send("who am I");
        assertEquals("who am I", b.nextText());
        c.close(1000, "done");
        b.closed();
    }
}
