package dev.wsbridge.autobahn;

import dev.wsbridge.server.BridgeServlet;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Autobahn run {@value AutobahnRun#BRIDGE_JETTY}: fuzzing client → the bridge servlet in embedded Jetty
 * 12 (ee10, Jetty's Jakarta WebSocket) mapped to {@code /*} over plain ws → the echo backend.
 */
public final class BridgeInJetty implements AutoCloseable {

    private final Server server;

    private BridgeInJetty(String host, int port, Map<String, String> initParams) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("autobahn-jetty");
        server = new Server(threads);
        ServerConnector plain = new ServerConnector(server);
        plain.setHost(host);
        plain.setPort(port);
        server.addConnector(plain);
        ServletContextHandler context = new ServletContextHandler("/");
        JakartaWebSocketServletContainerInitializer.configure(context, null);
        ServletHolder holder = new ServletHolder("autobahn", BridgeServlet.class);
        holder.setInitParameters(initParams);
        holder.setInitOrder(1);
        context.addServlet(holder, "/*");
        server.setHandler(context);
        server.start();
    }

    /** Called by the autobahntestsuite-maven-plugin with the port to serve on. */
    public static void main(String[] args) throws Exception {
        AutobahnRun.serve(AutobahnRun.BRIDGE_JETTY, args, (host, port) -> {
            EchoBackend backend = EchoBackend.start("127.0.0.1", 0);
            try {
                return List.of(backend, new BridgeInJetty(host, port, BridgeRoute.initParams(backend)));
            } catch (Exception e) {
                backend.close();
                throw e;
            }
        });
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    @Override
    public String toString() {
        return "bridge in Jetty";
    }
}
