package dev.wsbridge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wsbridge.support.NodeProcess;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The real Socket.IO and SockJS servers and clients (Node.js, default settings) through the built WAR in each
 * real distribution, over the container's own TLS connector. One container per distribution serves both: the
 * WAR as ROOT with a route on Socket.IO's default path, {@code /socket.io/*}, so its client needs no setting at
 * all, and a route on {@code /echo/*}, the SockJS server's prefix.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.wsbridge.dist.Distribution#selected")
class RealtimeLibrariesIT {

    @Parameter
    Distribution distribution;

    private static NodeProcess socketIoServer;
    private static NodeProcess sockJsServer;
    private static ContainerProcess container;

    @BeforeParameterizedClassInvocation
    static void startContainer(Distribution distribution) throws Exception {
        socketIoServer = NodeProcess.server("socketio-server.js");
        sockJsServer = NodeProcess.server("sockjs-server.js");
        container = distribution.newProcess(Path.of("target", "it", "RealtimeLibrariesIT", distribution.name()));
        Path war = ContainerProcess.builtWar();
        container.deploy("ROOT", Wars.withWebXml(war, container.base.resolve("wars/ROOT.war"), Wars.routes(Map.of(
                "socket.io", "ws://127.0.0.1:" + socketIoServer.port() + "/socket.io/",
                "echo", "ws://127.0.0.1:" + sockJsServer.port() + "/echo"))));
        container.start();
        container.awaitStatus("/socket.io/", 426);
    }

    @AfterParameterizedClassInvocation
    static void stopContainer() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {container, sockJsServer, socketIoServer}) {
            if (c != null) {
                c.close();
            }
        }
        container = null;
        sockJsServer = null;
        socketIoServer = null;
    }

    @Test
    void socketIoDefaultClientConnectsUpgradesExchangesEventsAndDisconnects() throws Exception {
        NodeProcess.Result client = NodeProcess.client("socketio-client.js", "https://localhost:" + container.port());

        int backend = socketIoServer.port();
        assertEquals(List.of("OPENED polling", "WELCOME from " + backend, "UPGRADED websocket",
                "ECHOED {\"text\":\"héllo\",\"n\":42} over websocket from " + backend + " ack acked", "OK"),
                client.lines(), container.log());
        assertEquals(0, client.exit());
        assertEquals("DISCONNECT client namespace disconnect", socketIoServer.awaitLine("DISCONNECT"));
    }

    @Test
    void sockJsDefaultClientReadsInfoOpensAWebSocketEchoesAndCloses() throws Exception {
        NodeProcess.Result client = NodeProcess.client("sockjs-client.js", "https://localhost:" + container.port() + "/echo");

        assertEquals(List.of("OPENED websocket", "ECHOED héllo sockjs", "CLOSED 1000", "OK"), client.lines(),
                container.log());
        assertEquals(0, client.exit());
        assertEquals("OPEN websocket", sockJsServer.awaitLine("OPEN"));
        assertEquals("CLOSE", sockJsServer.awaitLine("CLOSE"));
    }
}
