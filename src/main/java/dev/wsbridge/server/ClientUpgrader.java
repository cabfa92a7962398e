package dev.wsbridge.server;

import dev.wsbridge.bridge.Bridge;
import jakarta.servlet.ServletContext;
import jakarta.servlet.UnavailableException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.Endpoint;
import jakarta.websocket.Extension;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpointConfig;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Upgrades the client through the container's standard Jakarta WebSocket {@link ServerContainer}: the
 * only class that touches {@code jakarta.websocket.server}, so the servlet can report a container
 * without it instead of failing to load.
 */
final class ClientUpgrader {

    /**
     * Text chunk size, in chars, for Tomcat: it gives every session a text buffer of this size up front
     * (8192 chars, 16 KiB, by default) and hands a partial handler text in chunks of at most this much.
     * 4096 saves 8 KiB per idle session; each chunk still goes to the backend as one frame of up to 12 KiB.
     * Tomcat's container is per web application, so this touches no other application. Jetty allocates
     * nothing per session for it, and takes the same setting as a whole-message limit, so it is left alone.
     */
    static final int TOMCAT_TEXT_BUFFER_CHARS = 4096;

    private final ServerContainer container;

    ClientUpgrader(ServletContext context) throws UnavailableException {
        Object c = context.getAttribute(ServerContainer.class.getName());
        if (!(c instanceof ServerContainer sc)) {
            throw new UnavailableException(JakartaSupport.missingMessage(context));
        }
        this.container = sc;
        if (sc.getClass().getName().startsWith("org.apache.tomcat.")) {
            sc.setDefaultMaxTextMessageBufferSize(TOMCAT_TEXT_BUFFER_CHARS);
        }
    }

    /**
     * Answers the client with 101, the subprotocol the backend chose (or none) and no extensions: the
     * bridge forwards frames as they are, so it negotiates nothing the backend did not.
     */
    void upgrade(HttpServletRequest req, HttpServletResponse resp, Bridge bridge, String subprotocol)
            throws IOException, DeploymentException {
        Endpoint endpoint = bridge.clientEndpoint();
        ServerEndpointConfig config = ServerEndpointConfig.Builder.create(endpoint.getClass(), "/")
                .subprotocols(subprotocol == null ? List.of() : List.of(subprotocol))
                .extensions(List.of())
                .configurator(new ServerEndpointConfig.Configurator() {
                    @Override
                    public <T> T getEndpointInstance(Class<T> endpointClass) {
                        return endpointClass.cast(endpoint);
                    }

                    @Override
                    public String getNegotiatedSubprotocol(List<String> supported, List<String> requested) {
                        return subprotocol == null ? "" : subprotocol;
                    }

                    @Override
                    public List<Extension> getNegotiatedExtensions(List<Extension> installed, List<Extension> requested) {
                        return List.of();
                    }

                    @Override
                    public boolean checkOrigin(String originHeaderValue) {
                        return true;
                    }
                })
                .build();
        container.upgradeHttpToWebSocket(req, resp, config, Map.of());
    }
}
