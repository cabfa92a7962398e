package dev.wsbridge.support;

import dev.wsbridge.observability.AdminServlet;
import dev.wsbridge.server.BridgeServlet;
import dev.wsbridge.server.RouteCheck;
import jakarta.servlet.ServletException;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerContainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleListener;
import org.apache.catalina.Wrapper;
import org.apache.catalina.authenticator.BasicAuthenticator;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.servlets.DefaultServlet;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.LoginConfig;
import org.apache.tomcat.util.descriptor.web.SecurityCollection;
import org.apache.tomcat.util.descriptor.web.SecurityConstraint;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.apache.tomcat.websocket.server.WsSci;

/** The servlet in embedded Tomcat, with Tomcat's own Jakarta WebSocket implementation. */
final class EmbeddedTomcat implements BridgeContainer {

    private java.time.Duration connectorIdleTimeout;

    private Tomcat tomcat;
    private Connector tls;
    private Connector plain;
    private Context context;
    private String mapping = "/wsapp/*";
    private String[] basicAuth;
    private Path clientTrust;

    @Override
    public void basicAuth(String user, String password) {
        basicAuth = new String[] {user, password};
    }

    @Override
    public void wantClientCertificates(Path clients) {
        clientTrust = clients;
    }

    @Override
    public void map(String urlPattern) {
        mapping = urlPattern;
    }

    @Override
    public void start(Map<String, String> initParams, Map<String, String> contextParams) throws Exception {
        Path base = connectors();
        context = tomcat.addContext("", Files.createDirectories(base.resolve("docs")).toString());
        context.addServletContainerInitializer(new WsSci(), null);
        context.addApplicationListener(RouteCheck.class.getName());
        contextParams.forEach(context::addParameter);
        Wrapper wrapper = Tomcat.addServlet(context, "wsapp", new BridgeServlet());
        initParams.forEach(wrapper::addInitParameter);
        wrapper.setLoadOnStartup(1);
        wrapper.setAsyncSupported(true);
        context.addServletMappingDecoded(mapping, "wsapp");
        if (basicAuth != null) {
            protect();
        }
        Wrapper admin = Tomcat.addServlet(context, "wsbridge-admin", new AdminServlet());
        admin.setLoadOnStartup(2);
        context.addServletMappingDecoded("/wsbridge/*", "wsbridge-admin");
        tomcat.start();
    }

    /** The route behind BASIC authentication against the engine's in-memory realm. */
    private void protect() {
        tomcat.addUser(basicAuth[0], basicAuth[1]);
        tomcat.addRole(basicAuth[0], ROLE);
        LoginConfig login = new LoginConfig();
        login.setAuthMethod("BASIC");
        login.setRealmName("wsbridge");
        context.setLoginConfig(login);
        context.addSecurityRole(ROLE);
        SecurityCollection paths = new SecurityCollection();
        paths.addPattern(mapping);
        SecurityConstraint constraint = new SecurityConstraint();
        constraint.addAuthRole(ROLE);
        constraint.addCollection(paths);
        context.addConstraint(constraint);
        context.getPipeline().addValve(new BasicAuthenticator());
    }

    @Override
    public void startEndpoints(Endpoints endpoints) throws Exception {
        Path base = connectors();
        context = tomcat.addContext("", Files.createDirectories(base.resolve("docs")).toString());
        context.addServletContainerInitializer(new WsSci(), null);
        // Tomcat runs initializers in the order added: WsSci has published the container by now.
        context.addServletContainerInitializer((classes, servletContext) -> {
            try {
                endpoints.deploy((ServerContainer) servletContext.getAttribute(ServerContainer.class.getName()));
            } catch (DeploymentException e) {
                throw new ServletException(e);
            }
        }, null);
        // Tomcat's WebSocket filter runs only for a request some servlet maps: the default servlet, as in conf/web.xml.
        Tomcat.addServlet(context, "default", new DefaultServlet());
        context.addServletMappingDecoded("/", "default");
        tomcat.start();
    }

    @Override
    public void connectorIdleTimeout(java.time.Duration timeout) {
        connectorIdleTimeout = timeout;
    }

    /** A fresh Tomcat with its plain and TLS connectors; returns its base directory. */
    private Path connectors() throws Exception {
        Path base = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "tomcat");
        tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        plain = new Connector();
        plain.setPort(0);
        plain.setProperty("address", "127.0.0.1");
        tomcat.setConnector(plain);

        tls = new Connector();
        tls.setPort(0);
        tls.setProperty("address", "127.0.0.1");
        tls.setSecure(true);
        tls.setScheme("https");
        tls.setProperty("SSLEnabled", "true");
        SSLHostConfig ssl = new SSLHostConfig();
        SSLHostConfigCertificate cert = new SSLHostConfigCertificate(ssl, SSLHostConfigCertificate.Type.UNDEFINED);
        cert.setCertificateKeystoreFile(TestTls.keystore().toString());
        cert.setCertificateKeystorePassword(TestTls.PASSWORD);
        cert.setCertificateKeystoreType("PKCS12");
        ssl.addCertificate(cert);
        if (clientTrust != null) {
            ssl.setCertificateVerification("optional");
            ssl.setTruststoreFile(TestCerts.trustOnly(clientTrust).toString());
            ssl.setTruststorePassword(TestTls.PASSWORD);
            ssl.setTruststoreType("PKCS12");
        }
        tls.addSslHostConfig(ssl);
        // More <Connector> attributes for the TLS connector, as an admin would set them in server.xml: the
        // benchmark measures with them (-Dbench.serverJvmArgs=-Dbench.tomcatConnector=socket.directSslBuffer=true).
        for (String pair : System.getProperty("bench.tomcatConnector", "").split(",")) {
            if (pair.contains("=")) {
                tls.setProperty(pair.substring(0, pair.indexOf('=')).trim(), pair.substring(pair.indexOf('=') + 1).trim());
            }
        }
        // A listener on the server, as in server.xml (-Dbench.tomcatListener=org.apache.catalina.core.OpenSSLLifecycleListener).
        String listener = System.getProperty("bench.tomcatListener", "").strip();
        if (!listener.isEmpty()) {
            tomcat.getServer().addLifecycleListener(
                    (LifecycleListener) Class.forName(listener).getDeclaredConstructor().newInstance());
        }
        tomcat.getService().addConnector(tls);
        if (connectorIdleTimeout != null) {
            for (Connector c : new Connector[] {plain, tls}) {
                c.setProperty("connectionTimeout", Long.toString(connectorIdleTimeout.toMillis()));
                c.setProperty("keepAliveTimeout", Long.toString(connectorIdleTimeout.toMillis()));
            }
        }
        return base;
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
        return context.getState().isAvailable();
    }

    @Override
    public void undeploy() throws Exception {
        context.stop();
    }

    @Override
    public void close() throws Exception {
        if (tomcat != null) {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    @Override
    public String toString() {
        return "Tomcat";
    }
}
