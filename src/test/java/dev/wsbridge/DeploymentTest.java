package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.BridgeContainer;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What an admin sees when deploying: bad values stop the deployment, context-params override init-params. */
class DeploymentTest extends ContainerSuite {

    private final List<String> logged = new CopyOnWriteArrayList<>();
    private final Logger routeCheck = Logger.getLogger("dev.wsbridge.server.RouteCheck");
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logged.add(r.getMessage() == null ? "" : r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureLog() {
        routeCheck.addHandler(capture);
    }

    @AfterEach
    void releaseLog() {
        routeCheck.removeHandler(capture);
    }

    @Test
    void badInitParamStopsTheDeploymentNamingIt() throws Exception {
        start(Map.of("maxSessions", "lots"));
        assertFalse(container.deployed());
        assertTrue(logged.stream().anyMatch(m -> m.contains("init-param [maxSessions] has value [lots]")), logged.toString());
    }

    @Test
    void missingProxyToStopsTheDeploymentNamingIt() throws Exception {
        backend = new dev.wsbridge.support.ScriptedBackend();
        container = kind.create();
        container.start(Map.of(), Map.of());
        assertFalse(container.deployed());
        assertTrue(logged.stream().anyMatch(m -> m.contains("init-param [proxyTo] is required")), logged.toString());
    }

    @Test
    void contextParamOverridesTheInitParam() throws Exception {
        backend = new dev.wsbridge.support.ScriptedBackend();
        container = kind.create();
        container.start(Map.of("proxyTo", "ws://127.0.0.1:1/"), Map.of("proxyTo", backend.uri().toString()));
        client = new dev.wsbridge.support.TestClient();
        assertTrue(container.deployed());
        Peer c = client.connect(container.wss("/wsapp/over"));
        c.send("through the override");
        assertEquals("through the override", c.nextText());
    }

    @Test
    void systemPropertyPlaceholderIsResolved() throws Exception {
        backend = new dev.wsbridge.support.ScriptedBackend();
        System.setProperty("wsbridge.test.backend", backend.uri().toString());
        try {
            start(Map.of("proxyTo", "${sys:wsbridge.test.backend}"));
            assertEquals(101, RawClient.tls(container.tlsPort(), RawClient.upgrade("/wsapp/p", "localhost")).status());
        } finally {
            System.clearProperty("wsbridge.test.backend");
        }
    }
}
