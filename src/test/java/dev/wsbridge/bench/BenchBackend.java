package dev.wsbridge.bench;

import dev.wsbridge.support.EchoEndpoint;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * The benchmark's backend: Jetty's core WebSocket server on {@code ws://127.0.0.1:<ephemeral>/}, with three
 * WebSocket paths and one HTTP path. Unlike the test fixtures it records nothing, so its heap stays flat however
 * long it runs.
 * <ul>
 * <li>{@value #ECHO}: echoes every message; reads the next one only when the echo is written.</li>
 * <li>{@value #FLOOD}: sends 64 KiB binary messages back to back (one write in flight) until the session ends.</li>
 * <li>{@value #SINK}: never reads; whatever is sent to it stays in TCP buffers.</li>
 * <li>{@value #HELLO}: answers a plain HTTP {@code GET} with {@value #HELLO_SIZE} bytes; any other request that is
 * not an upgrade gets {@code 404}.</li>
 * </ul>
 */
final class BenchBackend implements AutoCloseable {

    static final String ECHO = "echo";
    static final String FLOOD = "flood";
    static final String SINK = "sink";
    static final String HELLO = "hello";

    /** Size of the body {@value #HELLO} answers with. */
    static final int HELLO_SIZE = 64;

    /** Size of each message {@value #FLOOD} sends. */
    static final int FLOOD_MESSAGE = 64 * 1024;

    /** Idle timeout of flood and sink sessions, so those the bridge dropped are released here too. */
    private static final Duration ABUSE_IDLE_TIMEOUT = Duration.ofSeconds(20);

    private static final byte[] FLOOD_BYTES = new byte[FLOOD_MESSAGE];
    private static final byte[] HELLO_BYTES = new byte[HELLO_SIZE];

    private final Server server;
    private final ServerConnector connector;
    private final ExecutorService flooders = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "bench-flood");
        t.setDaemon(true);
        return t;
    });

    BenchBackend() throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("bench-backend");
        server = new Server(threads);
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        WebSocketUpgradeHandler upgrades = WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxTextMessageSize(128L << 20);
            container.setMaxBinaryMessageSize(128L << 20);
            container.setIdleTimeout(Duration.ofMinutes(5));
            container.addMapping("/" + ECHO, (request, response, callback) -> new EchoEndpoint());
            container.addMapping("/" + FLOOD, (request, response, callback) -> new Flood(flooders));
            container.addMapping("/" + SINK, (request, response, callback) -> new Sink());
        });
        upgrades.setHandler(new Hello());   // requests that are not upgrades
        server.setHandler(upgrades);
        server.start();
    }

    int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
        flooders.shutdownNow();
    }

    public static final class Flood implements Session.Listener {
        private final ExecutorService executor;
        private Session session;

        Flood(ExecutorService executor) {
            this.executor = executor;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
            session.setIdleTimeout(ABUSE_IDLE_TIMEOUT);
            session.demand();
            executor.execute(this::sendNext);
        }

        private void sendNext() {
            if (session.isOpen()) {
                session.sendBinary(ByteBuffer.wrap(FLOOD_BYTES),
                        Callback.from(() -> executor.execute(this::sendNext), failure -> { }));
            }
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            callback.succeed();
            session.demand();
        }

        @Override
        public void onWebSocketText(String message) {
            session.demand();
        }
    }

    /** {@value #HELLO}: a {@code GET} of it gets {@value #HELLO_SIZE} bytes with their length. */
    static final class Hello extends Handler.Abstract.NonBlocking {
        @Override
        public boolean handle(Request request, Response response, org.eclipse.jetty.util.Callback callback) {
            if (!HttpMethod.GET.is(request.getMethod()) || !("/" + HELLO).equals(Request.getPathInContext(request))) {
                return false;
            }
            response.setStatus(HttpStatus.OK_200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, HELLO_SIZE);
            response.write(true, ByteBuffer.wrap(HELLO_BYTES), callback);
            return true;
        }
    }

    /** Never demands a frame, so it never reads. */
    public static final class Sink implements Session.Listener {
        @Override
        public void onWebSocketOpen(Session session) {
            session.setIdleTimeout(ABUSE_IDLE_TIMEOUT);
        }
    }
}
