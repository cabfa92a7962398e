package dev.wsbridge.bench;

import dev.wsbridge.support.TestTls;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * nginx or HAProxy, the peers to beat, each configured as its stock WebSocket proxying example with TLS on the
 * client leg (the benchmark's test certificate) and {@code ws://} to the benchmark's backend. Its configuration,
 * pid file and logs are written to {@code target/bench/<name>/}; it runs in the foreground as a child process,
 * on a free port of 127.0.0.1, optionally pinned with {@code taskset}. {@link #close} stops it with SIGTERM; a
 * shutdown hook kills it and its workers if the generator ends first. Neither is required: {@link
 * Kind#executable} says whether one is installed.
 */
final class PeerProxy implements ServerProcess {

    private static final int START_SECONDS = 30;
    private static final int STOP_SECONDS = 10;
    private static final int PORT_ATTEMPTS = 3;

    /** The peers. */
    enum Kind {
        NGINX("nginx", "nginx.conf"), HAPROXY("haproxy", "haproxy.cfg");

        final String command;
        final String configFile;

        Kind(String command, String configFile) {
            this.command = command;
            this.configFile = configFile;
        }

        /** The executable on the {@code PATH} or in {@code /usr/sbin} (Debian's place for both), or null. */
        Path executable() {
            List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
            dirs.addAll(List.of("/usr/sbin", "/usr/local/sbin", "/sbin"));
            for (String dir : dirs) {
                if (!dir.isEmpty()) {
                    Path exe = Path.of(dir, command);
                    if (Files.isRegularFile(exe) && Files.isExecutable(exe)) {
                        return exe;
                    }
                }
            }
            return null;
        }

        String config(Layout layout) {
            return this == NGINX ? nginxConfig(layout) : haproxyConfig(layout);
        }

        /** In the foreground, all it writes under the layout's folder (Debian's unit runs HAProxy as {@code -Ws}). */
        List<String> arguments(Path executable, Path dir) {
            String exe = executable.toString();
            String config = dir.resolve(configFile).toString();
            return this == NGINX
                    ? List.of(exe, "-p", dir + "/", "-c", config, "-e", dir.resolve("error.log").toString())
                    : List.of(exe, "-W", "-db", "-f", config, "-p", dir.resolve("haproxy.pid").toString());
        }

        /** Its name and version as it prints them, such as {@code nginx 1.22.1}; {@code "<command> (version unknown)"} on failure. */
        String version(Path executable) {
            try {
                Process p = new ProcessBuilder(executable.toString(), "-v").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor(10, TimeUnit.SECONDS)) {
                    String first = out.lines().findFirst().orElse("");
                    if (this == NGINX && first.contains("nginx/")) {
                        return "nginx " + first.substring(first.indexOf("nginx/") + 6).trim();
                    }
                    String[] words = first.split("\\s+");
                    if (this == HAPROXY && words.length > 2 && words[1].equals("version")) {
                        return "HAProxy " + words[2];
                    }
                }
                p.destroyForcibly();
            } catch (IOException e) {
                // fall through
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return command + " (version unknown)";
        }
    }

    /**
     * What a configuration is rendered from: the folder for its pid file, logs and temporary files (absolute), the
     * port it listens on, the backend's port, the certificate and key (one PEM file), how many worker processes
     * (nginx) or threads (HAProxy), and how many WebSocket sessions it must hold at once.
     */
    record Layout(Path dir, int port, int backendPort, Path pem, int workers, int sessions) {
    }

    /**
     * nginx's WebSocket proxying example ({@code https://nginx.org/en/docs/http/websocket.html}): {@code proxy_pass}
     * over HTTP/1.1 with the {@code Upgrade} and {@code Connection} headers passed on, {@code Connection} from its
     * {@code map}; TLS on the {@code listen}; the read timeout raised as the example suggests, to HAProxy's tunnel
     * timeout. {@code worker_processes} is explicit because nginx 1.22's {@code auto} counts every CPU, not the ones
     * {@code taskset} leaves it; each session is two of its {@code worker_connections}.
     */
    static String nginxConfig(Layout l) {
        String d = l.dir().toString();
        return String.format(Locale.ROOT, """
                # nginx as in its WebSocket proxying example, with TLS on the client leg. Written by the benchmark.
                daemon off;
                worker_processes %d;
                pid %s/nginx.pid;
                error_log %s/error.log;

                events {
                    worker_connections %d;
                }

                http {
                    access_log %s/access.log;
                    client_body_temp_path %s/client_body_temp;
                    proxy_temp_path %s/proxy_temp;
                    fastcgi_temp_path %s/fastcgi_temp;
                    uwsgi_temp_path %s/uwsgi_temp;
                    scgi_temp_path %s/scgi_temp;

                    map $http_upgrade $connection_upgrade {
                        default upgrade;
                        ''      close;
                    }

                    server {
                        listen 127.0.0.1:%d ssl;
                        ssl_certificate %s;
                        ssl_certificate_key %s;

                        location / {
                            proxy_pass http://127.0.0.1:%d;
                            proxy_http_version 1.1;
                            proxy_set_header Upgrade $http_upgrade;
                            proxy_set_header Connection $connection_upgrade;
                            proxy_set_header Host $host;
                            proxy_read_timeout 1h;
                        }
                    }
                }
                """, l.workers(), d, d, 2 * l.sessions(), d, d, d, d, d, d, l.port(), l.pem(), l.pem(), l.backendPort());
    }

    /**
     * HAProxy's WebSocket example: a {@code mode http} frontend that terminates TLS ({@code bind ... ssl crt}) and a
     * backend with the one server; once upgraded, a session is a tunnel under {@code timeout tunnel}. The log goes to
     * standard output, which is {@code haproxy.log}; {@code maxconn} holds every session.
     */
    static String haproxyConfig(Layout l) {
        return String.format(Locale.ROOT, """
                # HAProxy as in its WebSocket example, with TLS on the client leg. Written by the benchmark.
                global
                    nbthread %d
                    maxconn %d
                    log stdout format raw local0

                defaults
                    mode http
                    log global
                    option httplog
                    timeout connect 5s
                    timeout client 30s
                    timeout server 30s
                    timeout tunnel 1h

                frontend websocket
                    bind 127.0.0.1:%d ssl crt %s
                    default_backend echo

                backend echo
                    server backend 127.0.0.1:%d
                """, l.workers(), l.sessions(), l.port(), l.pem(), l.backendPort());
    }

    private final Kind kind;
    private final Process process;
    private final int port;
    private final Path dir;

    private PeerProxy(Kind kind, Process process, int port, Path dir) {
        this.kind = kind;
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    /**
     * Writes the configuration to {@code target/bench/<name>/}, starts the proxy and waits until it accepts TCP
     * connections. A port taken between choosing and binding it costs another attempt, on another port.
     *
     * @param cpu the CPU list to pin it to with {@code taskset}, or {@code null}
     */
    static PeerProxy start(Kind kind, String name, String cpu, int backendPort, int workers, int sessions)
            throws IOException {
        Path executable = kind.executable();
        if (executable == null) {
            throw new IllegalStateException(kind.command + " is not installed");
        }
        Path dir = Path.of("target", "bench", name).toAbsolutePath();
        Files.createDirectories(dir);
        for (String old : List.of(kind.command + ".log", "error.log", "access.log")) {
            Files.deleteIfExists(dir.resolve(old));
        }
        Path log = dir.resolve(kind.command + ".log");
        int port = 0;
        for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
            port = freePort();
            Files.writeString(dir.resolve(kind.configFile),
                    kind.config(new Layout(dir, port, backendPort, TestTls.pem(), workers, sessions)));
            List<String> command = new ArrayList<>();
            if (cpu != null) {
                command.addAll(List.of("taskset", "-c", cpu));
            }
            command.addAll(kind.arguments(executable, dir));
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> kill(process.toHandle())));
            if (listening(process, port)) {
                return new PeerProxy(kind, process, port, dir);
            }
            kill(process.toHandle());
        }
        throw new IOException(kind.command + " [" + name + "] did not listen on 127.0.0.1:" + port + " within "
                + START_SECONDS + " s (" + PORT_ATTEMPTS + " attempts); see " + dir);
    }

    /** Waits until {@code port} accepts a connection while {@code process} lives; false if it ended or never did. */
    private static boolean listening(Process process, int port) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
        while (process.isAlive() && System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return process.isAlive();
            } catch (IOException e) {
                // not yet
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
        return false;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    /** Kills the process and every descendant (nginx's workers outlive a killed master). */
    private static void kill(ProcessHandle process) {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public long rss() throws IOException {
        return ServerProcess.rss(process.toHandle());
    }

    @Override
    public long cpuNanos() {
        return ServerProcess.cpuNanos(process.toHandle());
    }

    /**
     * SIGTERM: each stops at once, its master after its workers; whatever is still alive after {@value #STOP_SECONDS}
     * s is killed.
     */
    @Override
    public void close() throws InterruptedException {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(STOP_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    @Override
    public String toString() {
        return "PeerProxy[" + kind.command + ", pid " + process.pid() + ", port " + port + ", " + dir + "]";
    }
}
