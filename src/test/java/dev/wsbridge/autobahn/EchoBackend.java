package dev.wsbridge.autobahn;

import dev.wsbridge.support.EchoEndpoint;
import java.net.URI;
import java.time.Duration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * The echo backend the Autobahn runs use: Jetty's core WebSocket server, echoing on every path. Its
 * limits are set for the suite's biggest cases: 9.1.6/9.2.6 send 16 MiB in one frame, 9.3.x/9.4.x send
 * 4 MiB in fragments as small as 64 bytes (65,536 frames per message).
 */
final class EchoBackend implements AutoCloseable {

    /** Comfortably above the suite's largest message and frame (16 MiB). */
    static final long MAX_SIZE = 32L << 20;

    private final Server server;
    private final ServerConnector connector;

    private EchoBackend(String host, int port) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("autobahn-echo");
        server = new Server(threads);
        connector = new ServerConnector(server);
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxTextMessageSize(MAX_SIZE);
            container.setMaxBinaryMessageSize(MAX_SIZE);
            container.setMaxFrameSize(MAX_SIZE);
            container.setIdleTimeout(Duration.ofMinutes(5));
            container.addMapping("/*", (request, response, callback) -> new EchoEndpoint());
        }));
        server.start();
    }

    /** Starts the backend on {@code host}:{@code port} (0: any free port). */
    static EchoBackend start(String host, int port) throws Exception {
        return new EchoBackend(host, port);
    }

    /** {@code ws://<host>:<port>/}. */
    URI uri() {
        return URI.create("ws://" + connector.getHost() + ":" + connector.getLocalPort() + "/");
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    @Override
    public String toString() {
        return "EchoBackend[" + uri() + "]";
    }
}
