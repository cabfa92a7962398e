package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wsbridge.support.NodeProcess;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The real Socket.IO server and client (Node.js, their default settings) through the WAR in both containers
 * over TLS: the client long-polls on the route first, then upgrades to WebSocket on the same path.
 */
class SocketIoTest extends ContainerSuite {

    @Test
    void defaultClientConnectsUpgradesExchangesEventsAndDisconnects() throws Exception {
        try (NodeProcess server = NodeProcess.server("socketio-server.js")) {
            container = kind.create();
            // Socket.IO's default path, on the route; proxyTo the server's.
            container.map("/socket.io/*");
            container.start(Map.of("proxyTo", "ws://127.0.0.1:" + server.port() + "/socket.io/"), Map.of());

            NodeProcess.Result client = NodeProcess.client("socketio-client.js", "https://localhost:" + container.tlsPort());

            assertEquals(List.of("OPENED polling", "WELCOME", "UPGRADED websocket",
                    "ECHOED {\"text\":\"héllo\",\"n\":42} over websocket ack acked", "OK"), client.lines());
            assertEquals(0, client.exit());
            assertEquals("CONNECT polling", server.awaitLine("CONNECT"));
            assertEquals("DISCONNECT client namespace disconnect", server.awaitLine("DISCONNECT"));
        }
    }
}
