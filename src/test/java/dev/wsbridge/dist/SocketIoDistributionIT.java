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
 * The real Socket.IO server and client (Node.js, default settings) through the built WAR in each real
 * distribution, over the container's own TLS connector: the WAR as ROOT with one route on Socket.IO's default
 * path, {@code /socket.io/*}, so the client needs no setting at all.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.wsbridge.dist.Distribution#selected")
class SocketIoDistributionIT {

    @Parameter
    Distribution distribution;

    private static NodeProcess server;
    private static ContainerProcess container;

    @BeforeParameterizedClassInvocation
    static void startContainer(Distribution distribution) throws Exception {
        server = NodeProcess.server("socketio-server.js");
        container = distribution.newProcess(Path.of("target", "it", "SocketIoDistributionIT", distribution.name()));
        Path war = ContainerProcess.builtWar();
        container.deploy("ROOT", Wars.withWebXml(war, container.base.resolve("wars/ROOT.war"),
                Wars.routes(Map.of("socket.io", "ws://127.0.0.1:" + server.port() + "/socket.io/"))));
        container.start();
        container.awaitStatus("/socket.io/", 426);
    }

    @AfterParameterizedClassInvocation
    static void stopContainer() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {container, server}) {
            if (c != null) {
                c.close();
            }
        }
        container = null;
        server = null;
    }

    @Test
    void defaultClientConnectsUpgradesExchangesEventsAndDisconnects() throws Exception {
        NodeProcess.Result client = NodeProcess.client("socketio-client.js", "https://localhost:" + container.port());

        assertEquals(List.of("OPENED polling", "WELCOME", "UPGRADED websocket",
                "ECHOED {\"text\":\"héllo\",\"n\":42} over websocket ack acked", "OK"), client.lines(), container.log());
        assertEquals(0, client.exit());
        assertEquals("DISCONNECT client namespace disconnect", server.awaitLine("DISCONNECT"));
    }
}
