package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.NodeProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The real Socket.IO server and client (Node.js, their default settings) through the WAR in both containers
 * over TLS: the client long-polls on the route first, then upgrades to WebSocket on the same path.
 */
class SocketIoTest extends ContainerSuite {

    /** Clients run at once, each a Node.js process of its own. */
    private static final int AT_ONCE = 4;
    /** The most clients the spread test runs before it expects two backends in use (3^-15 that it needs more). */
    private static final int MOST_CLIENTS = 16;

    @Test
    void defaultClientConnectsUpgradesExchangesEventsAndDisconnects() throws Exception {
        try (NodeProcess server = NodeProcess.server("socketio-server.js")) {
            container = kind.create();
            // Socket.IO's default path, on the route; proxyTo the server's.
            container.map("/socket.io/*");
            container.start(Map.of("proxyTo", "ws://127.0.0.1:" + server.port() + "/socket.io/"), Map.of());

            NodeProcess.Result client = NodeProcess.client("socketio-client.js", "https://localhost:" + container.tlsPort());

            assertEquals(expectedLines(server.port()), client.lines());
            assertEquals(0, client.exit());
            assertEquals("CONNECT polling", server.awaitLine("CONNECT"));
            assertEquals("DISCONNECT client namespace disconnect", server.awaitLine("DISCONNECT"));
        }
    }

    /**
     * Three Socket.IO servers behind one route with {@code balancer} {@code hash} on {@code clientAddress} (the
     * README's setting for clients that poll before they upgrade): clients from distinct loopback addresses. Each
     * client's polls and its upgrade must meet on one server, which holds its Engine.IO session (a request for a
     * session a server does not hold is refused, and the server prints it); the clients spread over the servers.
     */
    @Test
    void eachClientsPollsAndUpgradeReachOneOfSeveralBackends() throws Exception {
        List<NodeProcess> servers = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(AT_ONCE, r -> new Thread(r, "test-socketio-client"));
        try {
            for (int i = 0; i < 3; i++) {
                servers.add(NodeProcess.server("socketio-server.js"));
            }
            container = kind.create();
            container.map("/socket.io/*");
            container.start(Map.of("balancer", "hash", "proxyTo", servers.stream()
                    .map(s -> "ws://127.0.0.1:" + s.port() + "/socket.io/").collect(Collectors.joining(", "))), Map.of());

            // The backend's ports, and so the hash of each address, are new each run: clients come in batches from
            // new addresses until two servers have been used.
            Map<String, Integer> backendOf = new TreeMap<>();
            while (backendOf.size() < MOST_CLIENTS && (backendOf.size() < 2 * AT_ONCE
                    || backendOf.values().stream().distinct().count() < 2)) {
                List<String> batch = new ArrayList<>();
                for (int i = 0; i < AT_ONCE; i++) {
                    batch.add("127.0.0." + (10 + backendOf.size() + i));
                }
                backendOf.putAll(run(clients, batch));
            }
            String first = backendOf.keySet().iterator().next();
            Map<String, Integer> again = run(clients, List.of(first));

            assertTrue(backendOf.values().stream().distinct().count() > 1, "every client on one server: " + backendOf);
            assertEquals(backendOf.get(first), again.get(first), "the same address reached another server");
            Map<Integer, Long> perServer = new TreeMap<>(backendOf.values().stream()
                    .collect(Collectors.groupingBy(p -> p, Collectors.counting())));
            perServer.merge(again.get(first), 1L, Long::sum);
            for (NodeProcess s : servers) {
                long expected = perServer.getOrDefault(s.port(), 0L);
                Await.until("server " + s.port() + " to count its sessions", 10,
                        () -> s.lines().stream().filter(l -> l.startsWith("DISCONNECT")).count() == expected,
                        () -> s.lines().toString());
                assertEquals(expected, s.lines().stream().filter(l -> l.equals("CONNECT polling")).count(),
                        s.lines().toString());
                assertEquals(List.of(), s.lines().stream().filter(l -> l.startsWith("CONNECTION_ERROR")).toList(),
                        "requests that reached a server not holding their session");
            }
            System.out.printf("%s: Socket.IO clients by address, on servers %s: %s%n", kind,
                    servers.stream().map(NodeProcess::port).toList(), backendOf);
        } finally {
            clients.shutdownNow();
            for (NodeProcess s : servers) {
                s.close();
            }
        }
    }

    /** Runs one client from each of {@code addresses} at once; the server port each reported, checking its lines. */
    private Map<String, Integer> run(ExecutorService clients, List<String> addresses) throws Exception {
        List<Future<NodeProcess.Result>> results = new ArrayList<>();
        for (String address : addresses) {
            results.add(clients.submit(() -> NodeProcess.client("socketio-client.js",
                    "https://localhost:" + container.tlsPort(), address)));
        }
        Map<String, Integer> out = new TreeMap<>();
        for (int i = 0; i < addresses.size(); i++) {
            NodeProcess.Result r = Await.get(results.get(i), 90);
            List<String> lines = r.lines();
            assertTrue(lines.size() > 1 && lines.get(1).startsWith("WELCOME from "), addresses.get(i) + ": " + lines);
            int backend = Integer.parseInt(lines.get(1).substring("WELCOME from ".length()));
            assertEquals(expectedLines(backend), lines, addresses.get(i));
            assertEquals(0, r.exit());
            out.put(addresses.get(i), backend);
        }
        return out;
    }

    /** What the client prints when the server on {@code port} answered it from its first poll to its last message. */
    private static List<String> expectedLines(int port) {
        return List.of("OPENED polling", "WELCOME from " + port, "UPGRADED websocket",
                "ECHOED {\"text\":\"héllo\",\"n\":42} over websocket from " + port + " ack acked", "OK");
    }
}
