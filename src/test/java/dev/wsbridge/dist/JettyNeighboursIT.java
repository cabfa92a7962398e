package dev.wsbridge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.ScriptedBackend;
import dev.wsbridge.support.TestClient;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Jetty bases an admin may already have: a 12.1 (ee10) one that also enables {@code ee10-websocket-jakarta}
 * and {@code ee10-websocket-jetty} server-wide (the WAR's {@code jetty-web.xml} keeps its own Jetty WebSocket
 * client API; the client leg still takes the Servlet upgrade, with Jakarta WebSocket only as its fallback), and
 * a 12.0 one without {@code ee10-websocket-jakarta} (the deployment fails with the one line naming the module
 * to add; 12.1 does not need it, see DistributionIT).
 */
class JettyNeighboursIT {

    static final String MISSING_MODULE_LINE = "wsbridge needs Jakarta WebSocket, which this Jetty base does not enable:"
            + " add the module with [java -jar $JETTY_HOME/start.jar --add-modules=ee10-websocket-jakarta]";

    private static Path base(String name) {
        return Path.of("target", "it", "JettyNeighboursIT", name);
    }

    @Test
    void serverWideJettyWebSocketDoesNotBreakTheBridge() throws Exception {
        try (ScriptedBackend backend = new ScriptedBackend();
                ContainerProcess jetty = new JettyProcess(Distribution.JETTY_12_1_EE10, base("with-websocket-jetty"), "ee10",
                        "https,graceful,ee10-deploy,ee10-websocket-jakarta,ee10-websocket-jetty")) {
            jetty.deploy("ROOT", ContainerProcess.builtWar());
            jetty.contextParams("ROOT", Map.of("proxyTo", backend.uri().toString()));
            jetty.start();
            jetty.awaitStatus("/wsapp/", 426);
            try (TestClient client = new TestClient()) {
                Peer c = client.connect(jetty.wss("/wsapp/echo"));
                Peer b = backend.session();
                c.send("neighbour");
                assertEquals("neighbour", b.nextText());
                assertEquals("neighbour", c.nextText());
                c.close(4001, "bye");
                assertEquals(new Peer.Closed(4001, "bye"), b.closed());
            }
            assertFalse(jetty.log().contains("LinkageError"), jetty.tail());
            assertTrue(jetty.log().contains("by Servlet upgrade (Jakarta WebSocket where that cannot be used)"), jetty.tail());
        }
    }

    @Test
    void jetty120BaseWithoutJakartaWebSocketNamesTheModule() throws Exception {
        try (ContainerProcess jetty = new JettyProcess(Distribution.JETTY_12_0_EE10, base("120-without-websocket-jakarta"), "ee10",
                "https,ee10-deploy")) {
            jetty.deploy("ROOT", ContainerProcess.builtWar());
            jetty.contextParams("ROOT", Map.of("proxyTo", "ws://127.0.0.1:1/"));
            jetty.start();
            Await.until("the deployment to fail", 60, () -> jetty.log().contains(MISSING_MODULE_LINE)
                    || jetty.log().contains("NoClassDefFoundError") || jetty.log().contains("Failed startup"));
            String log = jetty.log();
            assertTrue(log.contains(MISSING_MODULE_LINE), "no [" + MISSING_MODULE_LINE + "] in\n" + jetty.tail());
            assertFalse(log.contains("NoClassDefFoundError"), jetty.tail());
            assertTrue(log.contains("Failed startup of context"), "the deployment failed\n" + jetty.tail());
        }
    }
}
