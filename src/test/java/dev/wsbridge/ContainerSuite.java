package dev.wsbridge;

import dev.wsbridge.support.BridgeContainer;
import dev.wsbridge.support.ScriptedBackend;
import dev.wsbridge.support.TestClient;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A suite run once in embedded Tomcat and once in embedded Jetty: a real backend, the servlet in a
 * real container over TLS, a real client; stopped in reverse order after each test.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(BridgeContainer.Kind.class)
abstract class ContainerSuite {

    @Parameter
    BridgeContainer.Kind kind;

    ScriptedBackend backend;
    BridgeContainer container;
    TestClient client;

    /** Starts backend, container (init-params as web.xml gives them; proxyTo defaults to the backend) and client. */
    void start(Map<String, String> params) throws Exception {
        start(params, null);
    }

    /** As {@link #start(Map)}, with the container's connectors timing idle connections out after {@code connectorIdle}. */
    void start(Map<String, String> params, java.time.Duration connectorIdle) throws Exception {
        startWith(params, c -> {
            if (connectorIdle != null) {
                c.connectorIdleTimeout(connectorIdle);
            }
        });
    }

    /** As {@link #start(Map)}, with {@code setup} called on the container before it starts. */
    void startWith(Map<String, String> params, java.util.function.Consumer<BridgeContainer> setup) throws Exception {
        backend = new ScriptedBackend();
        Map<String, String> init = new HashMap<>(params);
        init.putIfAbsent("proxyTo", backend.uri().toString());
        container = kind.create();
        setup.accept(container);
        container.start(init, Map.of());
        client = new TestClient();
    }

    void start() throws Exception {
        start(Map.of());
    }

    /** Stops client, container and backend, in that order; a test may call it to start again. */
    @AfterEach
    void stopAll() throws Exception {
        if (client != null) {
            client.close();
            client = null;
        }
        if (container != null) {
            container.close();
            container = null;
        }
        if (backend != null) {
            backend.close();
            backend = null;
        }
    }
}
