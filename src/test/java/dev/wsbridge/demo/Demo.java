package dev.wsbridge.demo;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The product demo, started by {@code mvn -Pdemo}: an echo backend on {@code ws://127.0.0.1:<ephemeral>/},
 * and an embedded Tomcat with a TLS connector that deploys the built {@code wsbridge.war} as the ROOT
 * context, its {@code proxyTo} overridden by a context parameter pointing at the echo backend, exactly as an
 * admin would with Tomcat's {@code <Parameter>}. Runs until the JVM is asked to stop (Ctrl-C).
 *
 * <p>Lives in the test sources because the echo backend uses Jetty's WebSocket server, which must never be
 * inside the WAR.
 *
 * <p>Argument: the build directory (default {@code target}); the WAR is read from
 * {@code <build>/wsbridge.war} and the demo's state (keystore, Tomcat base) lives under {@code <build>/demo}.
 * System property {@value #PORT_PROPERTY} chooses the HTTPS port.
 */
public final class Demo {

    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);

    /** System property: HTTPS port of the demo; default {@value #DEFAULT_PORT}, or a free port if that is taken. */
    static final String PORT_PROPERTY = "demo.port";

    /** The HTTPS port tried when {@value #PORT_PROPERTY} is not set. */
    static final int DEFAULT_PORT = 8443;

    /** Password of the demo keystore and its key; the keystore only ever holds the demo's self-signed key. */
    private static final String KEYSTORE_PASSWORD = "wsbridge-demo";

    /** Alias of the self-signed key in the demo keystore. */
    private static final String KEY_ALIAS = "wsbridge-demo";

    /** Bound on every wait for a child process or a shutdown. */
    private static final Duration WAIT_LIMIT = Duration.ofSeconds(30);

    /**
     * Idle timeout of the echo backend's sessions: the same as the bridge's default {@code idleTimeout}, so a
     * demo page left open is not closed by the backend first.
     */
    private static final Duration BACKEND_IDLE_TIMEOUT = Duration.ofHours(1);

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        Path buildDir = Path.of(args.length > 0 ? args[0] : "target").toAbsolutePath().normalize();
        Path war = buildDir.resolve("wsbridge.war");
        Path demoDir = buildDir.resolve("demo");
        if (!Files.isRegularFile(war)) {
            throw new IllegalStateException("The WAR [" + war + "] does not exist; build it first with"
                    + " [mvn package], or start the demo with [mvn -Pdemo], which does both");
        }
        int port = httpsPort();
        Path keystore = ensureKeystore(demoDir.resolve("keystore.p12"));

        CountDownLatch stopRequested = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopRequested.countDown();
            awaitQuietly(stopped);
        }, "demo-shutdown"));

        Server backend = startEchoBackend();
        Tomcat tomcat = null;
        try {
            int backendPort = ((ServerConnector) backend.getConnectors()[0]).getLocalPort();
            String proxyTo = "ws://127.0.0.1:" + backendPort + "/";
            tomcat = startTomcat(demoDir.resolve("tomcat"), port, keystore, war, proxyTo);
            int httpsPort = tomcat.getConnector().getLocalPort();

            System.out.println();
            System.out.println("wsbridge demo is running");
            System.out.println("  page      https://localhost:" + httpsPort + "/");
            System.out.println("  endpoint  wss://localhost:" + httpsPort + "/wsapp/echo");
            System.out.println("  backend   " + proxyTo + " (echoes text and binary)");
            System.out.println("The certificate is self-signed (" + keystore + "): accept it once in the browser.");
            System.out.println("Press Ctrl-C to stop.");
            System.out.println();

            stopRequested.await();
            // Printed, not logged: java.util.logging closes its handlers as soon as the JVM begins to exit.
            System.out.println("Stopping the demo");
        } finally {
            // Reverse order of start: the bridge closes its sessions with 1001 while the backend still runs.
            try {
                stopTomcat(tomcat);
            } finally {
                try {
                    backend.stop();
                    System.out.println("Demo stopped");
                } finally {
                    stopped.countDown();
                }
            }
        }
    }

    /** The HTTPS port: {@value #PORT_PROPERTY} if set, else {@value #DEFAULT_PORT} if free, else 0 (any). */
    private static int httpsPort() {
        String value = System.getProperty(PORT_PROPERTY);
        if (value != null) {
            try {
                int port = Integer.parseInt(value.trim());
                if (port >= 0 && port <= 65535) {
                    return port;
                }
            } catch (NumberFormatException e) {
                // Reported below with the value.
            }
            throw new IllegalArgumentException("system property [" + PORT_PROPERTY + "] has value [" + value
                    + "]; expected a port number from 0 to 65535");
        }
        try (ServerSocket probe = new ServerSocket(DEFAULT_PORT)) {
            return DEFAULT_PORT;
        } catch (IOException e) {
            LOG.info("Port [{}] is taken; the demo uses a free port instead", DEFAULT_PORT);
            return 0;
        }
    }

    /**
     * Returns the demo keystore, making it at first start with the JDK's own {@code keytool}: a self-signed
     * key for CN=localhost with subject alternative names {@code localhost} and {@code 127.0.0.1}. Written to a
     * temporary file and moved into place, so an interrupted first start never leaves a broken keystore.
     */
    private static Path ensureKeystore(Path keystore) throws IOException, InterruptedException {
        if (Files.isRegularFile(keystore)) {
            LOG.info("Reusing the demo keystore [{}]", keystore);
            return keystore;
        }
        Files.createDirectories(keystore.getParent());
        Path partial = keystore.resolveSibling(keystore.getFileName() + ".partial");
        Files.deleteIfExists(partial);
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> command = List.of(keytool.toString(), "-genkeypair", "-noprompt",
                "-alias", KEY_ALIAS, "-keyalg", "RSA", "-keysize", "2048", "-validity", "825",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                "-storetype", "PKCS12", "-keystore", partial.toString(),
                "-storepass", KEYSTORE_PASSWORD, "-keypass", KEYSTORE_PASSWORD);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(WAIT_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("[" + keytool + "] did not finish within " + WAIT_LIMIT.toSeconds() + "s");
        }
        if (process.exitValue() != 0) {
            Files.deleteIfExists(partial);
            throw new IOException("[" + keytool + "] failed with exit code [" + process.exitValue() + "]: "
                    + new String(output, StandardCharsets.UTF_8).strip());
        }
        Files.move(partial, keystore, StandardCopyOption.ATOMIC_MOVE);
        LOG.info("Made the demo keystore [{}] with a self-signed certificate for localhost", keystore);
        return keystore;
    }

    /** Starts the echo backend on {@code 127.0.0.1} and an ephemeral port; every path echoes. */
    private static Server startEchoBackend() throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("demo-backend");
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(WebSocketUpgradeHandler.from(server, container -> {
            container.setIdleTimeout(BACKEND_IDLE_TIMEOUT);
            container.addMapping("/*", (request, response, callback) -> new EchoEndpoint());
        }));
        server.start();
        return server;
    }

    /**
     * Starts Tomcat with only an HTTPS connector and the WAR as the ROOT context. Tomcat scans the WAR (and
     * this classpath) for servlet container initializers, which is how its Jakarta WebSocket server starts.
     */
    private static Tomcat startTomcat(Path baseDir, int port, Path keystore, Path war, String proxyTo)
            throws IOException, LifecycleException {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        // Under mvn exec:java the system class loader is Maven's, which holds no Tomcat class.
        tomcat.getServer().setParentClassLoader(Demo.class.getClassLoader());
        Files.createDirectories(baseDir.resolve("webapps"));

        SSLHostConfig tls = new SSLHostConfig();
        SSLHostConfigCertificate certificate =
                new SSLHostConfigCertificate(tls, SSLHostConfigCertificate.Type.UNDEFINED);
        certificate.setCertificateKeystoreFile(keystore.toString());
        certificate.setCertificateKeystorePassword(KEYSTORE_PASSWORD);
        certificate.setCertificateKeyAlias(KEY_ALIAS);
        certificate.setCertificateKeystoreType("PKCS12");
        tls.addCertificate(certificate);

        Connector https = new Connector();
        https.setPort(port);
        https.setSecure(true);
        https.setScheme("https");
        https.setProperty("SSLEnabled", "true");
        https.addSslHostConfig(tls);
        tomcat.setConnector(https);

        Context context = tomcat.addWebapp("", war.toString());
        // The test classpath also holds Jetty's Jakarta WebSocket server (for the tests); its initializer
        // belongs to Jetty and must not run inside Tomcat.
        context.setContainerSciFilter("org\\.eclipse\\.jetty\\..*");
        context.addParameter("proxyTo", proxyTo);
        // Tomcat's defaults declare a JSP servlet, but Jasper is not on this classpath and the WAR has no JSP.
        context.addLifecycleListener(event -> {
            if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
                removeJspServlet(context);
            }
        });

        tomcat.start();
        if (!context.getState().isAvailable()) {
            stopTomcat(tomcat);
            throw new IllegalStateException("The WAR [" + war + "] did not deploy; see the log above");
        }
        return tomcat;
    }

    private static void removeJspServlet(Context context) {
        Container jsp = context.findChild("jsp");
        if (jsp != null) {
            context.removeChild(jsp);
        }
        context.removeServletMapping("*.jsp");
        context.removeServletMapping("*.jspx");
    }

    private static void stopTomcat(Tomcat tomcat) throws LifecycleException {
        if (tomcat != null) {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(WAIT_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
                System.err.println("The demo did not stop within " + WAIT_LIMIT.toSeconds() + "s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Echoes every text and binary frame as it arrives, streamed: the next frame is demanded only when the
     * echo of the previous one is written, so a client that does not read is never buffered for.
     */
    public static final class EchoEndpoint implements Session.Listener {

        private volatile Session session;

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
            session.demand();
        }

        @Override
        public void onWebSocketPartialText(String payload, boolean last) {
            Session current = session;
            current.sendPartialText(payload, last, Callback.from(current::demand, this::onEchoFailed));
        }

        @Override
        public void onWebSocketPartialBinary(ByteBuffer payload, boolean last, Callback callback) {
            Session current = session;
            current.sendPartialBinary(payload, last, Callback.from(() -> {
                callback.succeed();
                current.demand();
            }, failure -> {
                callback.fail(failure);
                onEchoFailed(failure);
            }));
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            LOG.debug("Echo session failed", cause);
        }

        private void onEchoFailed(Throwable cause) {
            LOG.debug("Echo write failed", cause);
            session.close();
        }
    }
}
