package dev.wsbridge.dist;

import dev.wsbridge.support.RawClient;
import dev.wsbridge.support.TestTls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * One real container distribution run as a separate {@code java} process, in a fresh base directory under
 * {@code target/}, with a TLS connector on a free port configured as README tells an admin to, and WARs
 * copied into its {@code webapps/}. Stopped with SIGTERM (the containers' shutdown hooks undeploy), then
 * forcibly if that takes too long.
 */
abstract class ContainerProcess implements AutoCloseable {

    /** The WAR {@code mvn package} built. */
    static Path builtWar() {
        Path war = Path.of(System.getProperty("wsbridge.war", "target/wsbridge.war"));
        if (!Files.isRegularFile(war)) {
            throw new IllegalStateException("[" + war + "] is missing; run mvn verify (package comes first)");
        }
        return war;
    }

    protected final Distribution distribution;
    protected final Path home;
    protected final Path base;
    protected final int port;
    protected final Path keystore = TestTls.keystore();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final List<String> systemProperties = new ArrayList<>();
    private Process process;
    private HttpClient https;

    protected ContainerProcess(Distribution distribution, Path base) throws IOException {
        this.distribution = distribution;
        this.home = distribution.home().toAbsolutePath();
        this.base = base.toAbsolutePath();
        deleteTree(this.base);
        Files.createDirectories(this.base);
        this.port = freePort();
    }

    /** A port nothing listens on right now (bound, read, released). */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /** Sets an environment variable of the container process. */
    ContainerProcess env(String name, String value) {
        environment.put(name, value);
        return this;
    }

    /** Adds a {@code -Dname=value} to the container JVM. */
    ContainerProcess sys(String name, String value) {
        systemProperties.add("-D" + name + "=" + value);
        return this;
    }

    /** Adds a JVM option to the container JVM, after its defaults (so {@code -Xmx512m} replaces theirs). */
    ContainerProcess jvmOption(String option) {
        systemProperties.add(option);
        return this;
    }

    /** Copies {@code war} into {@code webapps/} as {@code name.war} ({@code ROOT} is the root context). */
    void deploy(String name, Path war) throws IOException {
        Files.createDirectories(webapps());
        Files.copy(war, webapps().resolve(name + ".war"), StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Replaces {@code webapps/name.war} with {@code war} in one step, as an admin redeploying safely does: a copy
     * next to {@code webapps/}, then an atomic rename over the old WAR, so the container's scanner never sees a
     * missing or half-written WAR.
     */
    void redeploy(String name, Path war) throws IOException {
        Path staging = base.resolve("staging").resolve(name + ".war");
        Files.createDirectories(staging.getParent());
        Files.copy(war, staging, StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(staging, FileTime.fromMillis(System.currentTimeMillis()));
        Files.move(staging, webapps().resolve(name + ".war"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Gives web application {@code name} context-params without touching its WAR: Tomcat's
     * {@code conf/Catalina/localhost/NAME.xml} with {@code <Parameter>}, Jetty's {@code webapps/NAME.xml}
     * calling {@code setInitParameter}. Call before {@link #start()}.
     */
    abstract void contextParams(String name, Map<String, String> params) throws IOException;

    /**
     * Makes the container notice a changed WAR in {@code webapps/} within a second or two and redeploy it
     * (Tomcat: {@code autoDeploy} checked every second; Jetty: the deployment scanner, off by default in 12.1).
     * Call before {@link #start()}.
     */
    abstract void enableHotRedeploy() throws IOException;

    /**
     * Gives the container's default realm one user, {@code user} with {@code password} in role {@code role}, as
     * README tells an admin to: Tomcat's {@code conf/tomcat-users.xml}, Jetty's {@code HashLoginService} named
     * {@code realm} over a properties file, with the base's {@code eeNN-security} module. Call before
     * {@link #start()}.
     */
    abstract void addUser(String realm, String user, String password, String role) throws Exception;

    /** The command line that runs the container, working directory {@link #base}. */
    protected abstract List<String> command();

    Path webapps() {
        return base.resolve("webapps");
    }

    /** Where the process's stdout and stderr go (all container and web application logging included). */
    Path consoleLog() {
        return base.resolve("logs").resolve("console.log");
    }

    /** Everything the container logged so far. */
    String log() {
        try {
            return Files.exists(consoleLog()) ? Files.readString(consoleLog(), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    protected List<String> systemProperties() {
        return systemProperties;
    }

    /** Starts the process and waits (bounded) until its TLS connector completes a handshake. */
    void start() throws Exception {
        Files.createDirectories(consoleLog().getParent());
        List<String> command = command();
        ProcessBuilder pb = new ProcessBuilder(command).directory(base.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(consoleLog().toFile()));
        pb.environment().putAll(environment);
        process = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!tlsHandshakeSucceeds()) {
            if (!process.isAlive()) {
                throw new AssertionError(distribution + " exited with " + process.exitValue() + " before its TLS port "
                        + port + " answered; command " + command + "\n" + tail());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(distribution + ": TLS port " + port + " not ready within 90 s\n" + tail());
            }
            Thread.sleep(100);
        }
    }

    private boolean tlsHandshakeSucceeds() throws Exception {
        SslContextFactory.Client f = TestTls.clientTls();
        f.start();
        try (SSLSocket s = (SSLSocket) f.getSslContext().getSocketFactory().createSocket("localhost", port)) {
            s.setSoTimeout(5000);
            s.startHandshake();
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            f.stop();
        }
    }

    /**
     * Waits (bounded) until an HTTPS GET of {@code path} that asks for a WebSocket upgrade without a
     * {@code Sec-WebSocket-Version} answers {@code status}: for a bridge route, 426 means the web application is
     * deployed and its servlet initialised (the servlet answers it itself, without the backend).
     */
    RawClient.Head awaitStatus(String path, int status) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        RawClient.Head last = null;
        while (true) {
            try {
                last = RawClient.tls(port, "GET " + path + " HTTP/1.1\r\nHost: localhost:" + port
                        + "\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n\r\n");
                if (last.status() == status) {
                    return last;
                }
            } catch (IOException e) {
                // not answering yet
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError(distribution + ": GET " + path + " did not answer " + status + " within 60 s; last "
                        + (last == null ? "none" : last.status() + " " + last.body()) + "\n" + tail());
            }
            Thread.sleep(100);
        }
    }

    /**
     * {@code GET https://localhost:<port>} + path over the test TLS with {@code headers}, on one kept-alive HTTP/1.1
     * client per container; bounded.
     */
    HttpResponse<String> get(String path, Map<String, String> headers) throws Exception {
        synchronized (this) {
            if (https == null) {
                SslContextFactory.Client tls = TestTls.clientTls();
                tls.start();
                https = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(tls.getSslContext())
                        .connectTimeout(Duration.ofSeconds(10)).build();
            }
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://localhost:" + port + path))
                .timeout(Duration.ofSeconds(60)).GET();
        headers.forEach(request::header);
        return https.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** {@code wss://localhost:<port>} + path. */
    URI wss(String path) {
        return URI.create("wss://localhost:" + port + path);
    }

    int port() {
        return port;
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** The last 200 lines of the console log, for failure messages. */
    String tail() {
        return tail(200);
    }

    /** The last {@code count} lines of the console log, for failure messages. */
    String tail(int count) {
        String[] lines = log().split("\n");
        StringBuilder b = new StringBuilder("--- last lines of ").append(consoleLog()).append(" ---\n");
        for (int i = Math.max(0, lines.length - count); i < lines.length; i++) {
            b.append(lines[i]).append('\n');
        }
        return b.toString();
    }

    /**
     * The pid of the JVM that runs the server: the process started, or the JVM it forked (Jetty's
     * {@code start.jar} forks one when a module needs JVM options).
     */
    long pid() {
        if (process == null) {
            throw new IllegalStateException(distribution + " is not started");
        }
        return process.descendants().filter(h -> h.info().command().map(c -> c.endsWith("java")).orElse(false))
                .reduce((first, second) -> second).orElse(process.toHandle()).pid();
    }

    /**
     * Stops the container as an admin stopping the service does: SIGTERM, and the containers' shutdown hooks
     * undeploy. Forcibly killed (with any child) if it does not exit within {@code seconds}.
     *
     * @return whether it exited by itself within {@code seconds}
     */
    boolean terminate(int seconds) throws InterruptedException {
        if (process == null) {
            return true;
        }
        List<ProcessHandle> children = process.descendants().toList();
        children.forEach(ProcessHandle::destroy);
        process.destroy();
        boolean exited = process.waitFor(seconds, TimeUnit.SECONDS);
        if (!exited) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        for (ProcessHandle child : children) {
            if (child.isAlive()) {
                child.destroyForcibly();
            }
        }
        return exited;
    }

    /** SIGTERM, then bounded waits; forcibly killed (with any child) if it does not stop in time. */
    @Override
    public void close() throws Exception {
        terminate(30);
    }

    /** Runs {@code command} to completion (bounded) with its output in the console log; fails on a non-zero exit. */
    protected void run(List<String> command) throws Exception {
        Files.createDirectories(consoleLog().getParent());
        Process p = new ProcessBuilder(command).directory(base.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(consoleLog().toFile())).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("not done within 120 s: " + command + "\n" + tail());
        }
        if (p.exitValue() != 0) {
            throw new AssertionError("exit " + p.exitValue() + ": " + command + "\n" + tail());
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Escapes {@code value} for an XML attribute or text. */
    static String xml(String value) {
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    @Override
    public String toString() {
        return distribution + " in " + base + " on port " + port;
    }
}
