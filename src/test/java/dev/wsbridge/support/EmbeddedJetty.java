package dev.wsbridge.support;

import dev.wsbridge.observability.AdminServlet;
import dev.wsbridge.server.BridgeServlet;
import dev.wsbridge.server.RouteCheck;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.security.ConstraintMapping;
import org.eclipse.jetty.ee10.servlet.security.ConstraintSecurityHandler;
import org.eclipse.jetty.security.Constraint;
import org.eclipse.jetty.security.HashLoginService;
import org.eclipse.jetty.security.UserStore;
import org.eclipse.jetty.security.authentication.BasicAuthenticator;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.security.Credential;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/** The servlet in embedded Jetty 12 (ee10), with Jetty's Jakarta WebSocket implementation. */
final class EmbeddedJetty implements BridgeContainer {

    private java.time.Duration connectorIdleTimeout;

    private Server server;
    private ServerConnector tls;
    private ServerConnector plain;
    private ServletContextHandler context;
    private String mapping = "/wsapp/*";
    private String[] basicAuth;
    private java.nio.file.Path clientTrust;

    @Override
    public void basicAuth(String user, String password) {
        basicAuth = new String[] {user, password};
    }

    @Override
    public void wantClientCertificates(java.nio.file.Path clients) {
        clientTrust = clients;
    }

    @Override
    public void map(String urlPattern) {
        mapping = urlPattern;
    }

    @Override
    public void start(Map<String, String> initParams, Map<String, String> contextParams) throws Exception {
        connectors();
        context = new ServletContextHandler("/", basicAuth != null ? ServletContextHandler.SECURITY : 0);
        contextParams.forEach(context::setInitParameter);
        if (basicAuth != null) {
            protect();
        }
        JakartaWebSocketServletContainerInitializer.configure(context, null);
        context.addEventListener(new RouteCheck());
        ServletHolder holder = new ServletHolder("wsapp", BridgeServlet.class);
        holder.setInitParameters(initParams);
        holder.setInitOrder(1);
        holder.setAsyncSupported(true);
        context.addServlet(holder, mapping);
        ServletHolder admin = new ServletHolder("wsbridge-admin", AdminServlet.class);
        admin.setInitOrder(2);
        context.addServlet(admin, "/wsbridge/*");
        server.setHandler(context);
        try {
            server.start();
        } catch (Exception e) {
            if (server.isStarted() || context.isStarted() || !context.isFailed()) {
                throw e;
            }
            // A failed deployment: the test asks deployed().
        }
    }

    /** The route behind BASIC authentication against an in-memory login service. */
    private void protect() {
        UserStore users = new UserStore();
        users.addUser(basicAuth[0], Credential.getCredential(basicAuth[1]), new String[] {ROLE});
        HashLoginService realm = new HashLoginService("wsbridge");
        realm.setUserStore(users);
        ConstraintSecurityHandler security = (ConstraintSecurityHandler) context.getSecurityHandler();
        security.setLoginService(realm);
        security.setAuthenticator(new BasicAuthenticator());
        security.setRoles(java.util.Set.of(ROLE));
        ConstraintMapping route = new ConstraintMapping();
        route.setPathSpec(mapping);
        route.setConstraint(Constraint.from(ROLE));
        security.addConstraintMapping(route);
    }

    @Override
    public void startEndpoints(Endpoints endpoints) throws Exception {
        connectors();
        context = new ServletContextHandler("/");
        JakartaWebSocketServletContainerInitializer.configure(context,
                (servletContext, container) -> endpoints.deploy(container));
        server.setHandler(context);
        server.start();
    }

    @Override
    public void connectorIdleTimeout(java.time.Duration timeout) {
        connectorIdleTimeout = timeout;
    }

    /** A fresh Jetty server with its plain and TLS connectors. */
    private void connectors() {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("test-jetty");
        server = new Server(threads);
        plain = new ServerConnector(server);
        plain.setHost("127.0.0.1");
        plain.setPort(0);
        HttpConfiguration https = new HttpConfiguration();
        https.addCustomizer(new SecureRequestCustomizer());
        SslContextFactory.Server ssl = TestTls.serverTls();
        if (clientTrust != null) {
            ssl.setTrustStorePath(clientTrust.toString());
            ssl.setTrustStorePassword(TestTls.PASSWORD);
            ssl.setTrustStoreType("PKCS12");
            ssl.setWantClientAuth(true);
        }
        tls = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                new HttpConnectionFactory(https));
        tls.setHost("127.0.0.1");
        tls.setPort(0);
        if (connectorIdleTimeout != null) {
            plain.setIdleTimeout(connectorIdleTimeout.toMillis());
            tls.setIdleTimeout(connectorIdleTimeout.toMillis());
        }
        server.addConnector(plain);
        server.addConnector(tls);
    }

    @Override
    public int tlsPort() {
        return tls.getLocalPort();
    }

    @Override
    public int plainPort() {
        return plain.getLocalPort();
    }

    @Override
    public boolean deployed() {
        return context.isAvailable() && context.isStarted();
    }

    @Override
    public void undeploy() throws Exception {
        context.stop();
    }

    @Override
    public void close() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    @Override
    public String toString() {
        return "Jetty";
    }
}
