package dev.wsbridge.support;

import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerContainer;
import java.net.URI;
import java.util.Map;

/**
 * The bridge servlet in a real embedded container, with a TLS connector and a plain one, configured
 * with init-params exactly as web.xml would give them.
 */
public interface BridgeContainer extends AutoCloseable {

    /** The containers the end-to-end suite runs in. */
    enum Kind {
        TOMCAT, JETTY;

        public BridgeContainer create() {
            return this == TOMCAT ? new EmbeddedTomcat() : new EmbeddedJetty();
        }
    }

    /**
     * Starts the container with the servlet mapped to {@code /wsapp/*} (or what {@link #map} set) in the root context.
     *
     * @param initParams    the servlet's init-params
     * @param contextParams context-params (they override init-params of the same name)
     */
    void start(Map<String, String> initParams, Map<String, String> contextParams) throws Exception;

    /**
     * Starts the container without the bridge: the root context holds only what {@code endpoints} registers
     * with the container's own Jakarta WebSocket server, on the same connectors. The benchmark's ceiling of
     * the container's TLS and WebSocket.
     */
    void startEndpoints(Endpoints endpoints) throws Exception;

    /** Registers endpoints with a container's Jakarta WebSocket server while the root context starts. */
    @FunctionalInterface
    interface Endpoints {
        void deploy(ServerContainer container) throws DeploymentException;
    }

    /**
     * The idle timeout of the container's connectors, to be set before starting (a container's default when never
     * set): Jetty's {@code idleTimeout}, Tomcat's {@code connectionTimeout} and {@code keepAliveTimeout}.
     */
    void connectorIdleTimeout(java.time.Duration timeout);

    int tlsPort();

    int plainPort();

    /** {@code wss://localhost:<tls>} + path. */
    default URI wss(String path) {
        return URI.create("wss://localhost:" + tlsPort() + path);
    }

    /** {@code ws://localhost:<plain>} + path. */
    default URI ws(String path) {
        return URI.create("ws://localhost:" + plainPort() + path);
    }

    /** Maps the servlet to {@code urlPattern} (such as {@code /socket.io/*}) instead of {@code /wsapp/*}; call before start. */
    void map(String urlPattern);

    /**
     * Puts the route behind the container's BASIC authentication, as a {@code security-constraint} and a
     * {@code login-config} in web.xml would: one user, {@code user} with {@code password}, in the role
     * {@link #ROLE}, and only that role admitted. Call before start.
     */
    void basicAuth(String user, String password);

    /** The role {@link #basicAuth} admits. */
    String ROLE = "wsbridge-user";

    /**
     * Makes the TLS connector ask every client for a certificate (optional: a client without one is served),
     * trusting those in the PKCS12 store {@code clients}. Call before start.
     */
    void wantClientCertificates(java.nio.file.Path clients);

    /** Whether the web application started (a bad init-param must stop it). */
    boolean deployed();

    /** Undeploys the web application (servlet destroy) while the server keeps running. */
    void undeploy() throws Exception;

    @Override
    void close() throws Exception;
}
