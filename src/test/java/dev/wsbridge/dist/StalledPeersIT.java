package dev.wsbridge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.TestTls;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hundreds of sessions (a thousand on request) whose backend, or whose clients, stopped reading, in the real Tomcat 10.1 and Jetty 12.1
 * with their stock thread pools and {@code -Xmx512m}: while they are stalled a plain request and a new session
 * are still answered and no container thread waits inside the WAR; once the stalled peers vanish (their TCP
 * connections dropped without a close frame) every session is released within {@code closeTimeout}, with
 * {@code 1014} toward the clients or {@code 1001} toward the backend. The heap before, stalled and after is
 * printed, not asserted (the benchmark's abuse check is where memory is judged).
 */
@ParameterizedClass(name = "{0}")
@MethodSource("relayDistributions")
class StalledPeersIT {

    /** 200 in the build, to keep it short; {@code -Dit.stalledSessions=1000} for the figure the README gives. */
    private static final int SESSIONS = Integer.getInteger("it.stalledSessions", 200);
    private static final int MESSAGE = 64 * 1024;
    private static final byte[] BYTES = new byte[MESSAGE];
    /** The WAR's default closeTimeout: the bound on releasing sessions once their peers vanished. */
    private static final int CLOSE_TIMEOUT_SECONDS = 5;
    /**
     * Beyond closeTimeout, for a 2-core machine running the sessions' TLS in the container and in their peers: the
     * bound that tells "released" from "left to the connector's idle timeout" (the time taken is printed).
     */
    private static final int RELEASE_SLACK_SECONDS = 20;
    /** Socket buffers of the test's peers: what fills before a peer is stalled, kept small to keep the test short. */
    private static final int PEER_SOCKET_BUFFER = 64 * 1024;

    @Parameter
    Distribution distribution;

    private static Backend backend;
    private static ContainerProcess container;
    private static WebSocketClient client;
    private static WebSocketCoreClient core;

    /** The distributions whose client leg is the relay (Jetty 12.0 keeps the Jakarta route). */
    static Stream<Distribution> relayDistributions() {
        return Distribution.selected().stream()
                .filter(d -> d == Distribution.TOMCAT_10_1 || d == Distribution.JETTY_12_1_EE10);
    }

    @BeforeParameterizedClassInvocation
    static void startContainer(Distribution distribution) throws Exception {
        backend = new Backend();
        container = distribution.newProcess(Path.of("target", "it", "StalledPeersIT", distribution.name()));
        container.jvmOption("-Xmx512m");
        String logging = System.getProperty("it.logging");
        if (logging != null) {
            container.jvmOption("-Djava.util.logging.config.file=" + logging);
        }
        container.deploy("ROOT", ContainerProcess.builtWar());
        container.contextParams("ROOT", Map.of("proxyTo", backend.uri()));
        container.start();
        container.awaitStatus("/wsapp/", 426);

        HttpClient http = clients("stalled-client", SESSIONS + 100);
        client = new WebSocketClient(http);
        client.setMaxBinaryMessageSize(128L << 20);
        client.setIdleTimeout(Duration.ofMinutes(5));
        client.start();
        core = new WebSocketCoreClient(http, null);
        core.start();
    }

    /**
     * The HTTP client under the test's WebSocket clients: TLS trusting the test certificate, {@code connections}
     * at once, a minute to connect (a container busy with thousands of sessions accepts slowly), small socket
     * buffers (what fills before a peer is stalled).
     */
    static HttpClient clients(String name, int connections) {
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(TestTls.clientTls());
        connector.setSendBufferSize(PEER_SOCKET_BUFFER);
        connector.setReceiveBufferSize(PEER_SOCKET_BUFFER);
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName(name);
        HttpClient http = new HttpClient(new HttpClientTransportOverHTTP(connector));
        http.setExecutor(threads);
        http.setMaxConnectionsPerDestination(connections);
        http.setConnectTimeout(60_000);
        return http;
    }

    @AfterParameterizedClassInvocation
    static void stopContainer() throws Exception {
        if (core != null) {
            core.stop();
            core = null;
        }
        if (client != null) {
            client.stop();
            client = null;
        }
        for (AutoCloseable c : new AutoCloseable[] {container, backend}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void backendStopsReading() throws Exception {
        List<Flooder> clients = open("/wsapp/sink", Flooder::new);
        clients.forEach(Flooder::start);
        LongSupplier written = () -> clients.stream().mapToLong(f -> f.written.sum()).sum();
        long stalledAfter = awaitStill("client writes", written);
        Footprint stalled = stillServing("backend stopped reading, clients wrote " + stalledAfter / (1 << 20) + " MiB");

        backend.vanish();
        long t0 = System.nanoTime();
        Await.until("every client closed", CLOSE_TIMEOUT_SECONDS + RELEASE_SLACK_SECONDS,
                () -> clients.stream().allMatch(f -> f.closed.isDone()), () -> "closes so far " + codes(clients.stream().map(f -> f.closed)));

        // What each client was sent. Its library may still report 1006: the 1014 arrived, but its own close reply
        // was queued behind megabytes of its flood that the bridge could not read and discard within closeTimeout.
        long releasedMillis = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(Map.of(1014, SESSIONS), codes(clients.stream().map(f -> f.closeReceived)));
        report("backend stopped reading", stalled, releasedMillis);
        System.out.printf("%s: the clients' libraries reported %s%n", distribution, codes(clients.stream().map(f -> f.closed)));
    }

    @Test
    void clientsStopReading() throws Exception {
        List<Reader> clients = open("/wsapp/flood", Reader::new);
        backend.flood();
        long stalledAfter = awaitStill("backend writes", backend.flooded::sum);
        Footprint stalled = stillServing("clients stopped reading, backend wrote " + stalledAfter / (1 << 20) + " MiB");

        clients.forEach(r -> r.session.disconnect());
        long t0 = System.nanoTime();
        Await.until("every backend session closed", CLOSE_TIMEOUT_SECONDS + RELEASE_SLACK_SECONDS,
                () -> backend.closes.size() == SESSIONS, () -> "closes so far " + codes(backend.closes));

        long releasedMillis = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(Map.of(1001, SESSIONS), codes(backend.closes));
        report("clients stopped reading", stalled, releasedMillis);
    }

    /**
     * Opens {@link #SESSIONS} sessions, 32 handshakes at a time; fails unless all open. No peer floods before every
     * session is open: the handshakes are not what is tested, and on a 2-core machine the TLS of hundreds of
     * flooding sessions can hold one past the route's {@code upgradeTimeout}.
     */
    private <L> List<L> open(String path, java.util.function.Supplier<L> listener) throws Exception {
        backend.reset();
        Semaphore permits = new Semaphore(32);
        List<L> listeners = new ArrayList<>();
        List<java.util.concurrent.CompletableFuture<?>> opened = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
            assertTrue(permits.tryAcquire(60, TimeUnit.SECONDS), "handshakes stalled after " + i);
            L l = listener.get();
            listeners.add(l);
            java.util.concurrent.CompletableFuture<?> f = l instanceof FrameHandler h
                    ? core.connect(CoreClientUpgradeRequest.from(core, container.wss(path), h))
                    : client.connect(l, container.wss(path));
            opened.add(f.whenComplete((s, x) -> permits.release()));
        }
        for (var f : opened) {
            Await.get(f, 60);
        }
        return listeners;
    }

    /** Waits until {@code counter} has not moved for a second (at most a minute); returns its value. */
    private static long awaitStill(String what, LongSupplier counter) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        long last = -1;
        while (System.nanoTime() < deadline) {
            long now = counter.getAsLong();
            if (now == last && now > 0) {
                return now;
            }
            last = now;
            Thread.sleep(1000);
        }
        throw new AssertionError(what + " still moving after a minute: the peer is not stalled");
    }

    /**
     * With every session stalled: a plain request and a new session are answered, and no container thread is
     * parked in the WAR's code.
     */
    private Footprint stillServing(String state) throws Exception {
        long t0 = System.nanoTime();
        int page = container.get("/index.html", Map.of()).statusCode();
        long pageMicros = (System.nanoTime() - t0) / 1000;
        assertEquals(200, page, state);

        t0 = System.nanoTime();
        Peer echo = new Peer();
        Await.get(client.connect(echo, container.wss("/wsapp/echo")), 30);
        echo.send("still here");
        assertEquals("still here", echo.nextText());
        long echoMicros = (System.nanoTime() - t0) / 1000;
        echo.close(1000, "done");

        String threads = Jcmd.run(container.pid(), "Thread.print");
        List<String> parked = parkedInWar(threads);
        assertEquals(List.of(), parked, state + ": container threads waiting inside the WAR");
        Jcmd.Footprint heap = Jcmd.footprint(container.pid());
        return new Footprint(state, pageMicros, echoMicros, heap);
    }

    /** Threads of a {@code jcmd Thread.print} that wait or block with a frame of the WAR's code on their stack. */
    static List<String> parkedInWar(String threadPrint) {
        List<String> parked = new ArrayList<>();
        for (String block : threadPrint.split("\n\\s*\n")) {
            boolean waiting = block.contains("java.lang.Thread.State: WAITING")
                    || block.contains("java.lang.Thread.State: TIMED_WAITING")
                    || block.contains("java.lang.Thread.State: BLOCKED");
            if (waiting && block.contains("at dev.wsbridge.")) {
                parked.add(block.lines().findFirst().orElse(block));
            }
        }
        return parked;
    }

    private record Footprint(String state, long pageMicros, long echoMicros, Jcmd.Footprint heap) {
    }

    private void report(String what, Footprint stalled, long releasedMillis) throws Exception {
        Jcmd.Footprint after = Jcmd.footprint(container.pid());
        System.out.printf("%s, %s, %,d sessions: %s; plain GET answered in %,d µs, new session echoed in %,d µs;"
                + " container threads %d, heap %,d KiB stalled; all released %,d ms after the peers vanished;"
                + " then threads %d, heap %,d KiB%n",
                distribution, what, SESSIONS, stalled.state(), stalled.pageMicros(), stalled.echoMicros(),
                stalled.heap().threads(), stalled.heap().heapKiB(), releasedMillis, after.threads(), after.heapKiB());
    }

    private static Map<Integer, Integer> codes(Stream<java.util.concurrent.CompletableFuture<Integer>> closes) {
        Map<Integer, Integer> codes = new TreeMap<>();
        closes.filter(java.util.concurrent.CompletableFuture::isDone).forEach(c -> codes.merge(c.join(), 1, Integer::sum));
        return codes;
    }

    private static Map<Integer, Integer> codes(Queue<Integer> closes) {
        Map<Integer, Integer> codes = new TreeMap<>();
        closes.forEach(c -> codes.merge(c, 1, Integer::sum));
        return codes;
    }

    /**
     * A client on Jetty's core WebSocket client, so that the close frame it is sent is seen as such: once started,
     * it sends 64 KiB messages back to back, one in flight, until the session ends.
     */
    static final class Flooder implements FrameHandler {
        final LongAdder written = new LongAdder();
        /** The code of the close frame received; -1 when the connection ended without one. */
        final java.util.concurrent.CompletableFuture<Integer> closeReceived = new java.util.concurrent.CompletableFuture<>();
        /** The code the client library reports at the end (1006 when its own close reply could not be sent). */
        final java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();
        private volatile CoreSession session;

        @Override
        public void onOpen(CoreSession session, org.eclipse.jetty.util.Callback callback) {
            this.session = session;
            callback.succeeded();
            session.demand();
        }

        void start() {
            client.getExecutor().execute(this::send);
        }

        private void send() {
            if (!session.isOutputOpen()) {
                return;
            }
            session.sendFrame(new org.eclipse.jetty.websocket.core.Frame(OpCode.BINARY, ByteBuffer.wrap(BYTES)),
                    org.eclipse.jetty.util.Callback.from(() -> {
                        written.add(MESSAGE);
                        client.getExecutor().execute(this::send);
                    }, x -> { }), false);
        }

        @Override
        public void onFrame(org.eclipse.jetty.websocket.core.Frame frame, org.eclipse.jetty.util.Callback callback) {
            if (frame.getOpCode() == OpCode.CLOSE) {
                closeReceived.complete(CloseStatus.getCloseStatus(frame).getCode());
            }
            callback.succeeded();
            session.demand();
        }

        @Override
        public void onError(Throwable cause, org.eclipse.jetty.util.Callback callback) {
            callback.succeeded();
        }

        @Override
        public void onClosed(CloseStatus status, org.eclipse.jetty.util.Callback callback) {
            closeReceived.complete(-1);
            closed.complete(status.getCode());
            callback.succeeded();
        }
    }

    /** A client that never demands a frame, so it never reads past the handshake. */
    public static final class Reader implements Session.Listener {
        Session session;

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            // The connection this test dropped.
        }
    }

    /**
     * The backend: {@code /sink} never reads, {@code /flood} reads what comes and, once {@link #flood()} is called,
     * sends 64 KiB messages back to back (one in flight, no thread held while a send waits), {@code /echo} echoes
     * text.
     */
    public static final class Backend implements AutoCloseable {
        final LongAdder flooded = new LongAdder();
        final Queue<Integer> closes = new ConcurrentLinkedQueue<>();
        private final Map<Session, Boolean> open = new ConcurrentHashMap<>();
        private final Queue<Flood> floods = new ConcurrentLinkedQueue<>();
        private final Server server;
        private final ServerConnector connector;

        Backend() throws Exception {
            QueuedThreadPool threads = new QueuedThreadPool();
            threads.setName("stalled-backend");
            server = new Server(threads);
            connector = new ServerConnector(server);
            connector.setHost("127.0.0.1");
            connector.setPort(0);
            connector.setAcceptedSendBufferSize(PEER_SOCKET_BUFFER);
            connector.setAcceptedReceiveBufferSize(PEER_SOCKET_BUFFER);
            server.addConnector(connector);
            server.setHandler(WebSocketUpgradeHandler.from(server, container -> {
                container.setMaxBinaryMessageSize(128L << 20);
                container.setIdleTimeout(Duration.ofMinutes(5));
                container.addMapping("/sink", (rq, rs, cb) -> new Sink());
                container.addMapping("/flood", (rq, rs, cb) -> new Flood());
                container.addMapping("/echo", (rq, rs, cb) -> new Echo());
            }));
            server.start();
        }

        String uri() {
            return "ws://127.0.0.1:" + connector.getLocalPort() + "/";
        }

        void reset() {
            flooded.reset();
            closes.clear();
            open.clear();
            floods.clear();
        }

        /** Starts every open {@code /flood} session sending. */
        void flood() {
            floods.forEach(Flood::send);
        }

        /** Drops every backend connection without a close frame. */
        void vanish() {
            open.keySet().forEach(Session::disconnect);
        }

        @Override
        public void close() throws Exception {
            server.stop();
        }

        /** Never demands a frame, so it never reads. */
        public final class Sink implements Session.Listener {
            @Override
            public void onWebSocketOpen(Session session) {
                open.put(session, true);
            }
        }

        public final class Flood implements Session.Listener {
            private Session session;

            @Override
            public void onWebSocketOpen(Session session) {
                this.session = session;
                open.put(session, true);
                floods.add(this);
                session.demand();
            }

            private void send() {
                if (session.isOpen()) {
                    session.sendBinary(ByteBuffer.wrap(BYTES), Callback.from(() -> {
                        flooded.add(MESSAGE);
                        server.getThreadPool().execute(this::send);
                    }, x -> { }));
                }
            }

            @Override
            public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
                callback.succeed();
                session.demand();
            }

            @Override
            public void onWebSocketClose(int statusCode, String reason, Callback callback) {
                closes.add(statusCode);
                callback.succeed();
            }
        }

        public final class Echo implements Session.Listener.AutoDemanding {
            private Session session;

            @Override
            public void onWebSocketOpen(Session session) {
                this.session = session;
            }

            @Override
            public void onWebSocketText(String message) {
                session.sendText(message, Callback.NOOP);
            }
        }
    }
}
