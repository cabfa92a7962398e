package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wsbridge.support.NodeProcess;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The real SockJS server and client (Node.js) through the WAR in both containers over TLS: the client's default
 * settings ({@code GET /info} over HTTP, then WebSocket), and each streaming HTTP transport on its own.
 */
class SockJsTest extends ContainerSuite {

    @Test
    void defaultClientAndTheHttpTransportsEchoThroughTheRoute() throws Exception {
        try (NodeProcess server = NodeProcess.server("sockjs-server.js")) {
            container = kind.create();
            container.start(Map.of("proxyTo", "ws://127.0.0.1:" + server.port() + "/echo"), Map.of());
            String url = "https://localhost:" + container.tlsPort() + "/wsapp";

            for (String transport : List.of("websocket", "xhr-streaming", "xhr-polling")) {
                NodeProcess.Result client = transport.equals("websocket")
                        ? NodeProcess.client("sockjs-client.js", url)
                        : NodeProcess.client("sockjs-client.js", url, transport);

                assertEquals(List.of("OPENED " + transport, "ECHOED héllo sockjs", "CLOSED 1000", "OK"), client.lines(), transport);
                assertEquals(0, client.exit());
                assertEquals("OPEN " + transport, server.awaitLine("OPEN"));
                if (transport.equals("websocket")) {
                    // Over HTTP the server learns of a client gone only at its next write (a heartbeat, 25 s).
                    assertEquals("CLOSE", server.awaitLine("CLOSE"));
                }
            }
        }
    }
}
