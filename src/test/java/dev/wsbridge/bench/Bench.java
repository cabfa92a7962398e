package dev.wsbridge.bench;

import dev.wsbridge.support.RawHttp;
import dev.wsbridge.support.TestTls;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The benchmark, run by {@code mvn -Pbench}: this JVM is the load generator (Jetty's WebSocket client); the
 * echo backend and each bridge run in their own {@link BenchServer} JVMs. It measures the backend directly
 * ({@code ws://}), the peers nginx and HAProxy in front of it ({@link PeerProxy}, skipped when not installed),
 * each container's own echo ({@link ContainerEcho}, its ceiling), and the bridge in embedded Tomcat and in
 * embedded Jetty; everything but direct with a {@code wss://} client leg and a {@code ws://} backend leg. Each
 * figure is the median of {@code bench.runs} runs. Besides the WebSocket figures, it counts small plain HTTP GETs
 * per second on the same route (the bridge proxies them to the backend over HTTP). It prints Markdown tables (also
 * written to {@code target/bench/results.md}): the figures with their ratio to direct, and their ratio to nginx when nginx
 * ran. Every echo is checked; a mismatch aborts the run.
 *
 * <p>System properties (all optional): see {@link Settings}.
 */
public final class Bench {

    private static final long MIB = 1024 * 1024;

    /** The machine's CPUs, counted before {@code bench.pin} narrows this JVM to its share. */
    private static final int CPUS = Runtime.getRuntime().availableProcessors();

    /** Heap growth between the two readings under abuse that still counts as flat (GC noise). */
    private static final long FLAT_MARGIN = 4 * MIB;

    /** Seconds of 64-byte echo per warm-up window. */
    private static final double WARM_WINDOW = 2;

    /** Warm-up windows compared, as a block, with the block before them. */
    private static final int WARM_STABLE_WINDOWS = 3;

    /** How much faster than the block before the last block may be while the rate counts as steady. */
    private static final double WARM_TOLERANCE = 0.05;

    /**
     * Seconds of warm-up before the rate may count as steady: a bridge's rate can rest on a level for a few
     * windows and then climb again, as the JIT finishes another part of its path.
     */
    private static final double WARM_MIN = 60;

    /** Seconds of 64 KiB echo after the small-message warm-up. */
    private static final double WARM_BULK = 3;

    /** Seconds of HTTP GETs after the bulk warm-up, where the target answers them. */
    private static final double WARM_HTTP = 3;

    /** Seconds after the abusers disconnect before the last heap reading: the bridge's closeTimeout (5 s) and more. */
    private static final double ABUSE_SETTLE = 8;

    /** Sessions a peer must hold beyond the most the benchmark opens at once (those just closed, handshakes). */
    private static final int SESSION_HEADROOM = 256;

    private Bench() {
    }

    /** What can be measured, in table order; {@code bench.targets} names them. */
    enum Target {
        DIRECT("direct", "direct ws://"),
        NGINX("nginx", "nginx wss://"),
        HAPROXY("haproxy", "HAProxy wss://"),
        TOMCAT_ECHO("tomcat-echo", "Tomcat echo wss://"),
        TOMCAT("tomcat", "Tomcat bridge wss://"),
        JETTY_ECHO("jetty-echo", "Jetty echo wss://"),
        JETTY("jetty", "Jetty bridge wss://");

        /** The name in {@code bench.targets}, and the {@link BenchServer} role of those that run in a JVM. */
        final String name;
        final String title;

        Target(String name, String title) {
            this.name = name;
            this.title = title;
        }

        static Target named(String name) {
            for (Target t : values()) {
                if (t.name.equals(name)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("system property [bench.targets] has value [" + name
                    + "]; expected a comma-separated list of " + String.join(", ", names()));
        }

        static List<String> names() {
            return java.util.Arrays.stream(values()).map(t -> t.name).toList();
        }

        boolean bridge() {
            return this == TOMCAT || this == JETTY;
        }

        /** True when plain HTTP requests reach the backend through it (all but a container's own echo). */
        boolean http() {
            return this != TOMCAT_ECHO && this != JETTY_ECHO;
        }

        /** The peer it is, or null. */
        PeerProxy.Kind peer() {
            return this == NGINX ? PeerProxy.Kind.NGINX : this == HAPROXY ? PeerProxy.Kind.HAPROXY : null;
        }
    }

    /** The settings, each a system property read once; a bad value stops the run naming it. */
    record Settings(int runs, double seconds, long rampMillis, double warmup, int connections, int inFlight,
            int bulkConnections, int bulkInFlight, int handshakeWorkers, int idleSessions, boolean abuse,
            int abuseSessions, double abuseSeconds, boolean pin, List<Target> targets, String bridgeParams,
            boolean metricsOff, boolean deflate, boolean histogram) {

        static Settings read() {
            List<Target> targets = new ArrayList<>();
            String list = System.getProperty("bench.targets", "");
            for (String t : (list.isBlank() ? String.join(",", Target.names()) : list).split(",")) {
                targets.add(Target.named(t.trim().toLowerCase(Locale.ROOT)));
            }
            return new Settings(
                    integer("bench.runs", 3),               // runs per figure; the median is shown
                    decimal("bench.seconds", 2),            // measured seconds per figure and run
                    integer("bench.rampMillis", 500),       // load before each measurement starts counting
                    decimal("bench.warmup", 90),            // at most this many seconds of warm-up per target (JIT); see warmUp
                    integer("bench.connections", 100),      // connections of the echo and latency figures
                    integer("bench.inFlight", 16),          // messages in flight per connection, echo rate
                    integer("bench.bulkConnections", 4),    // connections of the bulk figure
                    integer("bench.bulkInFlight", 4),       // 64 KiB messages in flight per bulk connection
                    integer("bench.handshakeWorkers", 8),   // handshakes at a time
                    integer("bench.idleSessions", 1000),    // idle sessions for the memory figures (9000 max here)
                    bool("bench.abuse", true),              // run the bounded-under-abuse check
                    integer("bench.abuseSessions", 100),    // sessions of the abuse check
                    decimal("bench.abuseSeconds", 3),       // seconds between heap readings of the abuse check
                    bool("bench.pin", false),               // taskset: servers (JVMs, nginx, HAProxy) on CPU 0, generator on CPU 1
                    List.copyOf(targets),                   // bench.targets: Target names; all of them by default
                    params(System.getProperty("bench.bridgeParams", "")),  // extra init-params of the bridges
                    bool("bench.metricsOff", true),         // also measure the bridges' 64 B echo with messageMetrics=false
                    bool("bench.deflate", false),           // the generator offers permessage-deflate; messages compressible
                    bool("bench.histogram", false));        // a JVM's class histogram before and with the idle sessions
        }

        private static int integer(String name, int def) {
            String v = System.getProperty(name);
            try {
                int i = v == null || v.isEmpty() ? def : Integer.parseInt(v.trim());
                if (i < 1) {
                    throw new NumberFormatException();
                }
                return i;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("system property [" + name + "] has value [" + v
                        + "]; expected a positive whole number");
            }
        }

        private static double decimal(String name, double def) {
            String v = System.getProperty(name);
            try {
                double d = v == null || v.isEmpty() ? def : Double.parseDouble(v.trim());
                if (!(d > 0)) {
                    throw new NumberFormatException();
                }
                return d;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("system property [" + name + "] has value [" + v
                        + "]; expected a positive number of seconds");
            }
        }

        /** Init-params as {@code name=value,name=value}; checked here, parsed by the bridge as web.xml gives them. */
        private static String params(String v) {
            for (String pair : v.split(",")) {
                if (!pair.isBlank() && pair.indexOf('=') < 1) {
                    throw new IllegalArgumentException("system property [bench.bridgeParams] has value [" + v
                            + "]; expected name=value pairs separated by commas, such as backendBatching=true");
                }
            }
            return v.trim();
        }

        private static boolean bool(String name, boolean def) {
            String v = System.getProperty(name);
            if (v == null || v.isEmpty()) {
                return def;
            }
            if (!v.equals("true") && !v.equals("false")) {
                throw new IllegalArgumentException("system property [" + name + "] has value [" + v
                        + "]; expected true or false");
            }
            return Boolean.parseBoolean(v);
        }
    }

    public static void main(String[] args) throws Exception {
        long began = System.nanoTime();
        Settings s;
        try {
            s = Settings.read();
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            String table = run(s, began);
            System.out.println();
            System.out.println(table);
            Path out = Path.of("target", "bench", "results.md");
            Files.createDirectories(out.getParent());
            Files.writeString(out, table);
            System.out.println("(also in " + out + ")");
            System.exit(0);
        } catch (BenchFailure e) {
            System.err.println("bench: ABORTED: " + e.getMessage());
            System.exit(1);
        }
    }

    /** Where the servers run: the CPU list given to {@code taskset} (null: unpinned) and how many cores that is. */
    record Placement(String cpus, int cores) {
    }

    private static String run(Settings s, long began) throws Exception {
        TestTls.keystore();
        Placement servers = s.pin() ? pinGenerator() : new Placement(null, CPUS);
        List<Target> targets = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Map<PeerProxy.Kind, String> versions = new EnumMap<>(PeerProxy.Kind.class);
        for (Target target : s.targets()) {
            PeerProxy.Kind peer = target.peer();
            if (peer != null && peer.executable() == null) {
                String note = peer.command + " is not installed (not on the PATH nor in /usr/sbin): target ["
                        + target.name + "] skipped";
                System.out.println("bench: " + note);
                notes.add(note);
                continue;
            }
            if (peer != null) {
                versions.put(peer, peer.version(peer.executable()));
            }
            targets.add(target);
        }
        Map<Target, Map<String, List<Double>>> results = new EnumMap<>(Target.class);
        Map<Target, String> warmUps = new EnumMap<>(Target.class);
        List<String> abuse = new ArrayList<>();
        try (ServerJvm backend = ServerJvm.start("backend", servers.cpus(), "backend");
                LoadClient load = new LoadClient(s.rampMillis(), s.deflate())) {
            for (Target target : targets) {
                Map<String, List<Double>> figures = new LinkedHashMap<>();
                results.put(target, figures);
                ServerProcess server = target == Target.DIRECT ? null
                        : start(s, target, target.name, servers, backend.port());
                try {
                    URI base = base(target, server == null ? backend : server);
                    URI echo = base.resolve(BenchBackend.ECHO);
                    progress(began, target.title + ": warm-up, at most " + s.warmup() + " s");
                    URI hello = http(base).resolve(BenchBackend.HELLO);
                    warmUps.put(target, warmUp(s, load, echo, began, target));
                    if (target.http()) {
                        load.gets(hello, s.connections(), BenchBackend.HELLO_SIZE, WARM_HTTP);
                    }
                    for (int r = 1; r <= s.runs(); r++) {
                        progress(began, target.title + ": run " + r);
                        LoadClient.EchoResult rate = load.echo(echo, s.connections(), s.inFlight(), LoadClient.SMALL,
                                false, s.seconds(), server == null ? backend : server);
                        add(figures, "echo", rate.messagesPerSecond());
                        add(figures, "cpu", rate.cpuMicrosPerMessage());
                        LoadClient.EchoResult bulk = load.echo(echo, s.bulkConnections(), s.bulkInFlight(),
                                LoadClient.BULK, false, s.seconds());
                        add(figures, "bulk", bulk.bytesPerSecond() / 1e6);
                        LoadClient.EchoResult one = load.echo(echo, 1, 1, LoadClient.SMALL, true, s.seconds());
                        latencies(figures, "lat1", one);
                        LoadClient.EchoResult many = load.echo(echo, s.connections(), 1, LoadClient.SMALL, true,
                                s.seconds());
                        latencies(figures, "latN", many);
                        add(figures, "handshakes", load.handshakes(echo, s.handshakeWorkers(), s.seconds()));
                        if (target.http()) {
                            add(figures, "gets", load.gets(hello, s.connections(), BenchBackend.HELLO_SIZE,
                                    s.seconds()));
                        }
                        progress(began, String.format(Locale.ROOT,
                                "%s run %d: %.0f msg/s (%.1f µs CPU each), %.1f MB/s, p50 %.0f µs (1 conn), %.0f handshakes/s, %s GETs/s",
                                target.title, r, rate.messagesPerSecond(), rate.cpuMicrosPerMessage(), bulk.bytesPerSecond() / 1e6,
                                one.percentileMicros(50), last(figures, "handshakes"), target.http()
                                        ? String.format(Locale.ROOT, "%.0f", last(figures, "gets")) : "no"));
                    }
                    if (target.bridge() && s.metricsOff()) {
                        metricsCost(s, target, servers, backend.port(), load, echo, began, figures);
                    }
                    if (target.bridge() && s.abuse()) {
                        progress(began, target.title + ": abuse check");
                        ServerJvm bridge = (ServerJvm) server;
                        abuse.add(abuseRow(target, false, load.abuse(bridge, base.resolve(BenchBackend.FLOOD),
                                base.resolve(BenchBackend.SINK), false, s.abuseSessions(), s.abuseSeconds(), ABUSE_SETTLE)));
                        abuse.add(abuseRow(target, true, load.abuse(bridge, base.resolve(BenchBackend.FLOOD),
                                base.resolve(BenchBackend.SINK), true, s.abuseSessions(), s.abuseSeconds(), ABUSE_SETTLE)));
                    }
                } finally {
                    if (server != null) {
                        server.close();
                    }
                }
                for (int r = 1; r <= s.runs(); r++) {
                    idle(s, target, r, servers, backend.port(), load, figures);
                }
                progress(began, target.title + ": idle memory done");
            }
        }
        return table(s, servers, results, warmUps, abuse, notes, versions, began);
    }

    /**
     * The cost of counting every message: a second bridge of the same kind with {@code messageMetrics=false},
     * warmed up like the first, then the 64 B echo rate of the two in alternating runs (on, off, on, off ...),
     * so that both see the same machine. The figures go to {@code echoOn} and {@code echoOff}.
     */
    private static void metricsCost(Settings s, Target target, Placement servers, int backendPort, LoadClient load,
            URI echoOn, long began, Map<String, List<Double>> figures) throws Exception {
        String params = s.bridgeParams().isBlank() ? "messageMetrics=false" : s.bridgeParams() + ",messageMetrics=false";
        try (ServerProcess off = ServerJvm.start(target.name + "-metrics-off", servers.cpus(), target.name,
                "ws://127.0.0.1:" + backendPort + "/", params)) {
            URI echoOff = base(target, off).resolve(BenchBackend.ECHO);
            progress(began, target.title + " with messageMetrics=false: warm-up, at most " + s.warmup() + " s");
            warmUp(s, load, echoOff, began, target);
            for (int r = 1; r <= s.runs(); r++) {
                add(figures, "echoOn", load.echo(echoOn, s.connections(), s.inFlight(), LoadClient.SMALL, false,
                        s.seconds()).messagesPerSecond());
                add(figures, "echoOff", load.echo(echoOff, s.connections(), s.inFlight(), LoadClient.SMALL, false,
                        s.seconds()).messagesPerSecond());
                progress(began, String.format(Locale.ROOT, "%s metrics on/off run %d: %.0f / %.0f msg/s", target.title, r,
                        last(figures, "echoOn"), last(figures, "echoOff")));
            }
        }
    }

    /**
     * Starts what {@code target} measures in a fresh process: the backend (direct), a peer in front of the
     * backend, a container's own echo, or a bridge to the backend.
     */
    private static ServerProcess start(Settings s, Target target, String name, Placement servers, int backendPort)
            throws IOException {
        if (target == Target.DIRECT) {
            return ServerJvm.start(name, servers.cpus(), "backend");
        }
        if (target.peer() != null) {
            return PeerProxy.start(target.peer(), name, servers.cpus(), backendPort, servers.cores(),
                    Math.max(s.idleSessions(), s.connections()) + SESSION_HEADROOM);
        }
        if (target.bridge()) {
            return ServerJvm.start(name, servers.cpus(), target.name, "ws://127.0.0.1:" + backendPort + "/",
                    s.bridgeParams());
        }
        return ServerJvm.start(name, servers.cpus(), target.name);
    }

    /** Where {@code target}'s echo, flood and sink paths are, on {@code server}. */
    private static URI base(Target target, ServerProcess server) {
        return target == Target.DIRECT ? URI.create("ws://127.0.0.1:" + server.port() + "/")
                : URI.create("wss://localhost:" + server.port() + (target.bridge() ? "/wsapp/" : "/"));
    }

    /** The plain HTTP base beside a WebSocket base: {@code ws://} becomes {@code http://}, {@code wss://} {@code https://}. */
    static URI http(URI base) {
        return URI.create(base.toString().replaceFirst("^ws", "http"));
    }

    /**
     * Warms a target up until its 64-byte echo rate is steady, so that the runs measure compiled code: on two
     * shared cores the JIT of a bridge JVM is still busy half a minute in, and the rate still climbing. Windows of
     * {@link #WARM_WINDOW} seconds run for at least {@link #WARM_MIN} seconds, then until the rate stops climbing
     * ({@link #steady}) or {@code bench.warmup} seconds have passed; then the 64 KiB path is warmed for
     * {@link #WARM_BULK} seconds.
     *
     * @return what the table says of it: how long it took and the settled rate, or that it did not settle
     */
    private static String warmUp(Settings s, LoadClient load, URI echo, long began, Target target) {
        List<Double> rates = new ArrayList<>();
        long start = System.nanoTime();
        boolean settled = false;
        double least = Math.min(WARM_MIN, s.warmup());
        while ((System.nanoTime() - start) / 1e9 < least || !settled && (System.nanoTime() - start) / 1e9 < s.warmup()) {
            rates.add(load.echo(echo, s.connections(), s.inFlight(), LoadClient.SMALL, false, WARM_WINDOW)
                    .messagesPerSecond());
            settled = steady(rates);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double last = rates.get(rates.size() - 1);
        progress(began, String.format(Locale.ROOT, "%s: warm-up %s after %.0f s; windows, msg/s: %s", target.title,
                settled ? "settled" : "did not settle", seconds,
                String.join(" ", rates.stream().map(r -> String.format(Locale.ROOT, "%.0f", r)).toList())));
        load.echo(echo, s.bulkConnections(), s.bulkInFlight(), LoadClient.BULK, false, WARM_BULK);
        return String.format(Locale.ROOT, settled ? "settled after %.0f s at %,.0f msg/s" : "not settled after %.0f s"
                + " (last window %,.0f msg/s)", seconds, last);
    }

    /**
     * True when the rate has stopped climbing: the mean of the last {@link #WARM_STABLE_WINDOWS} windows is at most
     * {@link #WARM_TOLERANCE} above the mean of the as many windows before them.
     */
    static boolean steady(List<Double> rates) {
        int n = WARM_STABLE_WINDOWS;
        if (rates.size() < 2 * n) {
            return false;
        }
        double last = mean(rates.subList(rates.size() - n, rates.size()));
        double before = mean(rates.subList(rates.size() - 2 * n, rates.size() - n));
        return last <= (1 + WARM_TOLERANCE) * before;
    }

    private static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    /**
     * Idle memory in a fresh server process (the backend's for direct): 100 sessions opened and closed first so
     * that classes are loaded, then RSS (and, in a JVM, the heap) before and with {@code n} idle sessions, each
     * echoed once. For a peer, RSS is that of its master and workers, and the heap figure does not apply.
     */
    private static void idle(Settings s, Target target, int run, Placement servers, int backendPort, LoadClient load,
            Map<String, List<Double>> figures) throws Exception {
        String name = (target == Target.DIRECT ? "backend" : target.name) + "-idle-" + run;
        try (ServerProcess server = start(s, target, name, servers, backendPort)) {
            ServerJvm jvm = server instanceof ServerJvm j ? j : null;
            URI uri = base(target, server).resolve(BenchBackend.ECHO);
            load.close(load.openIdle(uri, 100));
            Thread.sleep(500);
            long heap0 = jvm == null ? 0 : jvm.heap();
            long rss0 = server.rss();
            Map<String, long[]> before = jvm != null && s.histogram() ? jvm.histogram() : Map.of();
            LoadClient.Opened opened = load.openIdle(uri, s.idleSessions());
            Thread.sleep(1000);
            long heap1 = jvm == null ? 0 : jvm.heap();
            long rss1 = server.rss();
            if (jvm != null && s.histogram()) {
                printGrowth(name, before, jvm.histogram(), s.idleSessions());
            }
            load.close(opened);
            if (jvm != null) {
                add(figures, "heap", (heap1 - heap0) / 1024.0 / s.idleSessions());
            }
            add(figures, "rss", (rss1 - rss0) / 1024.0 / s.idleSessions());
            if (jvm != null && target != Target.DIRECT) {
                Thread.sleep(1000);
                long heap2 = jvm.heap();
                List<RawHttp> keptAlive = keepAliveConnections(server.port(), s.idleSessions());
                long heap3 = jvm.heap();
                for (RawHttp c : keptAlive) {
                    c.close();
                }
                add(figures, "tlsheap", (heap3 - heap2) / 1024.0 / s.idleSessions());
            }
        }
    }

    /**
     * The container's own cost of a TLS connection, the floor under a session's: {@code n} HTTPS connections,
     * each after one {@code GET} of a path nothing serves (answered {@code 404}, kept alive), left open. One
     * client TLS context for all, resuming its sessions as the generator's WebSocket client does: the server
     * keeps more per resumed connection (3.5 KiB on Tomcat and on Jetty) than per full handshake.
     */
    private static List<RawHttp> keepAliveConnections(int port, int n) throws Exception {
        SslContextFactory.Client tls = TestTls.clientTls();
        tls.start();
        try {
            List<RawHttp> connections = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                RawHttp c = RawHttp.tls(tls, port);
                connections.add(c);
                c.send("GET /bench-nothing-here HTTP/1.1\nHost: localhost", null);
                c.head();  // served: the connection now waits for its next request
            }
            Thread.sleep(1000);
            return connections;
        } finally {
            tls.stop();
        }
    }

    /** The classes whose instances grew most between two histograms, per session: where an idle session's heap goes. */
    private static void printGrowth(String name, Map<String, long[]> before, Map<String, long[]> after, int sessions)
            throws IOException {
        record Growth(String type, long instances, long bytes) { }
        List<String> rows = after.entrySet().stream()
                .map(e -> {
                    long[] was = before.getOrDefault(e.getKey(), new long[2]);
                    return new Growth(e.getKey(), e.getValue()[0] - was[0], e.getValue()[1] - was[1]);
                })
                .filter(g -> g.bytes() > 0)
                .sorted((a, b) -> Long.compare(b.bytes(), a.bytes()))
                .map(g -> String.format(Locale.ROOT, "%8.1f %6.2f  %s", g.bytes() / (double) sessions,
                        g.instances() / (double) sessions, g.type()))
                .toList();
        Path file = Path.of("target", "bench", name + "-growth.txt");
        Files.write(file, rows);
        System.out.printf(Locale.ROOT, "%nheap growth per idle session, %s (bytes, instances, class; all in %s):%n",
                name, file);
        rows.stream().limit(25).forEach(System.out::println);
    }

    private static String abuseRow(Target target, boolean clientFloods, LoadClient.Abuse a) {
        boolean flat = a.second() - a.first() <= FLAT_MARGIN;
        return String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f | %.1f | %.1f | %s | %s |", target.title,
                clientFloods ? "clients flood, backend never reads" : "backend floods, clients never read",
                a.before() / (double) MIB, a.first() / (double) MIB, a.second() / (double) MIB,
                a.after() / (double) MIB, clientFloods ? String.format(Locale.ROOT, "%.1f MB", a.clientWrote() / 1e6) : "-",
                flat ? "flat" : "GROWING");
    }

    private static String table(Settings s, Placement servers, Map<Target, Map<String, List<Double>>> results,
            Map<Target, String> warmUps, List<String> abuse, List<String> notes, Map<PeerProxy.Kind, String> versions,
            long began) {
        List<String[]> rows = List.of(
                new String[] {"echo", "echo 64 B, " + s.connections() + " conn × " + s.inFlight() + " in flight, msg/s", "%,.0f"},
                new String[] {"cpu", "CPU per 64 B echo in that run, server process, µs", "%,.1f"},
                new String[] {"bulk", "echo 64 KiB, " + s.bulkConnections() + " conn × " + s.bulkInFlight() + " in flight, MB/s", "%,.1f"},
                new String[] {"lat1.p50", "latency 64 B, 1 conn, p50 µs", "%,.0f"},
                new String[] {"lat1.p99", "latency 64 B, 1 conn, p99 µs", "%,.0f"},
                new String[] {"lat1.p999", "latency 64 B, 1 conn, p99.9 µs", "%,.0f"},
                new String[] {"latN.p50", "latency 64 B, " + s.connections() + " conn, p50 µs", "%,.0f"},
                new String[] {"latN.p99", "latency 64 B, " + s.connections() + " conn, p99 µs", "%,.0f"},
                new String[] {"latN.p999", "latency 64 B, " + s.connections() + " conn, p99.9 µs", "%,.0f"},
                new String[] {"handshakes", "handshakes (open + close), " + s.handshakeWorkers() + " at a time, /s", "%,.0f"},
                new String[] {"gets", "HTTP GET, " + BenchBackend.HELLO_SIZE + " B body, " + s.connections()
                        + " keep-alive conn, requests/s", "%,.0f"},
                new String[] {"heap", "heap per idle session, " + s.idleSessions() + " sessions, KiB", "%,.1f"},
                new String[] {"rss", "RSS per idle session, " + s.idleSessions() + " sessions, KiB", "%,.1f"},
                new String[] {"tlsheap", "heap per idle HTTPS keep-alive connection (after one GET), "
                        + s.idleSessions() + " connections, KiB", "%,.1f"});
        StringBuilder t = new StringBuilder();
        t.append("| figure |");
        for (Target target : results.keySet()) {
            t.append(' ').append(target.title).append(" |");
            if (target != Target.DIRECT) {
                t.append(" ÷ direct |");
            }
        }
        t.append("\n|---|");
        for (Target target : results.keySet()) {
            t.append(target == Target.DIRECT ? "---:|" : "---:|---:|");
        }
        t.append('\n');
        for (String[] row : rows) {
            t.append("| ").append(row[1]).append(" |");
            double direct = median(figure(results, Target.DIRECT, row[0]));
            for (Target target : results.keySet()) {
                List<Double> v = figure(results, target, row[0]);
                t.append(' ').append(cell(v, row[2])).append(" |");
                if (target != Target.DIRECT) {
                    t.append(' ').append(ratio(median(v), direct)).append(" |");
                }
            }
            t.append('\n');
        }
        if (results.containsKey(Target.NGINX) && results.size() > 1) {
            t.append("\n| figure ÷ nginx |");
            results.keySet().stream().filter(target -> target != Target.NGINX)
                    .forEach(target -> t.append(' ').append(target.title).append(" |"));
            t.append("\n|---|").append("---:|".repeat(results.size() - 1)).append('\n');
            for (String[] row : rows) {
                double nginx = median(figure(results, Target.NGINX, row[0]));
                if (Double.isNaN(nginx)) {
                    continue;
                }
                t.append("| ").append(row[1]).append(" |");
                results.keySet().stream().filter(target -> target != Target.NGINX).forEach(target -> t.append(' ')
                        .append(ratio(median(figure(results, target, row[0])), nginx)).append(" |"));
                t.append('\n');
            }
        }
        t.append(String.format(Locale.ROOT, "%nEach figure: median of %d runs ± half the spread (max − min) as a share"
                + " of the median; %.1f s measured per figure and run after a %d ms ramp; ÷ direct = the target's median"
                + " / direct's median%s (above 1 is better for rates, worse for latency and memory). Memory: fresh"
                + " server process per run (JVMs %s), heap after a full GC and VmRSS, growth divided by the sessions;"
                + " a bridged or proxied session is two sockets in that process (an echo's, one), the backend runs"
                + " in its own JVM;"
                + " for nginx and HAProxy, the RSS of the master and its workers, and no heap figure.%n",
                s.runs(), s.seconds(), s.rampMillis(), results.containsKey(Target.NGINX)
                        ? ", ÷ nginx likewise to nginx's" : "", ServerJvm.HEAP_LIMIT));
        t.append(String.format(Locale.ROOT, "%nHTTP GET: each connection sends its next GET when the last response is"
                + " complete; direct over http://, the others over https:// on the route (the bridge proxies requests"
                + " that are not upgrades to the backend over HTTP); a container's own echo has no figure.%s%n",
                results.containsKey(Target.NGINX) ? " nginx's WebSocket configuration sends Connection: close to the"
                        + " backend on a request without Upgrade, so it opens a backend connection per GET." : ""));
        if (results.containsKey(Target.NGINX) || results.containsKey(Target.HAPROXY)) {
            t.append(String.format(Locale.ROOT, "%nnginx and HAProxy: their stock WebSocket proxy configuration (nginx:"
                    + " proxy_pass, proxy_http_version 1.1, the Upgrade and Connection headers passed on; HAProxy: a"
                    + " mode http frontend with bind ... ssl crt, a backend, timeout tunnel) with TLS on the client leg"
                    + " (the same certificate), %d %s; configuration and logs in target/bench/<target>/.%n",
                    servers.cores(), servers.cores() == 1 ? "worker process or thread" : "worker processes or threads"));
        }
        if (results.containsKey(Target.TOMCAT_ECHO) || results.containsKey(Target.JETTY_ECHO)) {
            t.append(String.format(Locale.ROOT, "%nTomcat echo and Jetty echo: the container's own Jakarta WebSocket"
                    + " echo endpoint over wss://, no bridge and no second hop: the ceiling of that container's TLS and"
                    + " WebSocket.%n"));
        }
        List<Target> costed = results.keySet().stream().filter(target -> figure(results, target, "echoOff") != null).toList();
        if (!costed.isEmpty()) {
            t.append(String.format(Locale.ROOT, "%n| echo 64 B, %d conn × %d in flight, msg/s, alternating runs |"
                    + " messageMetrics=true (default) | messageMetrics=false | true ÷ false |%n|---|---:|---:|---:|%n",
                    s.connections(), s.inFlight()));
            for (Target target : costed) {
                List<Double> on = figure(results, target, "echoOn");
                List<Double> off = figure(results, target, "echoOff");
                t.append("| ").append(target.title).append(" | ").append(cell(on, "%,.0f")).append(" | ")
                        .append(cell(off, "%,.0f")).append(" | ").append(ratio(median(on), median(off))).append(" |\n");
            }
        }
        notes.forEach(n -> t.append(String.format(Locale.ROOT, "%nNote: %s.%n", n)));
        t.append(String.format(Locale.ROOT, "%nWarm-up (64 B echo in %.0f s windows for at least %.0f s, then until the"
                + " mean rate of the last %d is at most %.0f%% above that of the %d before, at most %.0f s; then %.0f s of"
                + " 64 KiB echo and %.0f s of HTTP GETs): ", WARM_WINDOW, Math.min(WARM_MIN, s.warmup()),
                WARM_STABLE_WINDOWS, WARM_TOLERANCE * 100, WARM_STABLE_WINDOWS, s.warmup(), WARM_BULK, WARM_HTTP));
        t.append(String.join("; ", warmUps.entrySet().stream().map(e -> e.getKey().title + " " + e.getValue()).toList()));
        t.append(".\n");
        if (!abuse.isEmpty()) {
            t.append(String.format(Locale.ROOT, "%n| bridge JVM heap (MiB, after GC), %d sessions | abuse | before"
                    + " | after %.0f s | after %.0f s | after disconnect | clients wrote | verdict |%n"
                    + "|---|---|---:|---:|---:|---:|---:|---|%n", s.abuseSessions(), s.abuseSeconds(),
                    2 * s.abuseSeconds()));
            abuse.forEach(a -> t.append(a).append('\n'));
        }
        if (!s.bridgeParams().isEmpty()) {
            t.append(String.format(Locale.ROOT, "%nBridge init-params besides proxyTo: %s.%n", s.bridgeParams()));
        }
        if (s.deflate()) {
            t.append(String.format(Locale.ROOT, "%nThe generator offered permessage-deflate on every connection and sent"
                    + " JSON-like text (bench.deflate=true).%n"));
        }
        t.append(String.format(Locale.ROOT, "%nMachine: %d cores (%s), %s, Java %s%s; pinned: %s; run time %.0f s.%n",
                CPUS, cpuModel(), System.getProperty("os.name") + " "
                        + System.getProperty("os.version"), System.getProperty("java.version"),
                versions.values().stream().map(v -> ", " + v).collect(java.util.stream.Collectors.joining()),
                s.pin() ? "servers on CPU " + servers.cpus() + ", generator on the other" + (servers.cores() > 1 ? "s" : "")
                        : "false", (System.nanoTime() - began) / 1e9));
        return t.toString();
    }

    private static List<Double> figure(Map<Target, Map<String, List<Double>>> results, Target target, String key) {
        Map<String, List<Double>> figures = results.get(target);
        return figures == null ? null : figures.get(key);
    }

    /** A figure's cell: the median and half the spread as a share of it, or {@code -} where it does not apply. */
    static String cell(List<Double> values, String format) {
        if (values == null || values.isEmpty()) {
            return "-";
        }
        double m = median(values);
        double spread = (values.stream().mapToDouble(Double::doubleValue).max().orElseThrow()
                - values.stream().mapToDouble(Double::doubleValue).min().orElseThrow()) / 2 / Math.abs(m) * 100;
        return String.format(Locale.ROOT, format, m) + String.format(Locale.ROOT, " ±%.0f%%", spread);
    }

    /** {@code value / base} to two decimals, or {@code -} when either is missing or the base is zero. */
    static String ratio(double value, double base) {
        return Double.isNaN(value) || Double.isNaN(base) || base == 0 ? "-"
                : String.format(Locale.ROOT, "%.2f", value / base);
    }

    /**
     * Pins this JVM (all its threads) to the upper half of the CPUs (CPU 1 of 2) and returns the lower half for
     * the servers: the backend, and the bridge, echo container or peer in front of it.
     */
    private static Placement pinGenerator() throws IOException, InterruptedException {
        int cpus = CPUS;
        if (!Files.isExecutable(Path.of("/usr/bin/taskset")) && !Files.isExecutable(Path.of("/bin/taskset"))) {
            System.err.println("bench: bench.pin is true but taskset is not installed; running unpinned");
            return new Placement(null, cpus);
        }
        String server = cpus >= 4 ? "0-" + (cpus / 2 - 1) : "0";
        String generator = cpus >= 4 ? (cpus / 2) + "-" + (cpus - 1) : "1";
        Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", generator, Long.toString(ProcessHandle.current().pid()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new BenchFailure("taskset failed: " + out);
        }
        return new Placement(server, cpus >= 4 ? cpus / 2 : 1);
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    private static void latencies(Map<String, List<Double>> figures, String key, LoadClient.EchoResult r) {
        add(figures, key + ".p50", r.percentileMicros(50));
        add(figures, key + ".p99", r.percentileMicros(99));
        add(figures, key + ".p999", r.percentileMicros(99.9));
    }

    private static void add(Map<String, List<Double>> figures, String key, double value) {
        figures.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }

    private static double last(Map<String, List<Double>> figures, String key) {
        List<Double> v = figures.get(key);
        return v.get(v.size() - 1);
    }

    /** The median, or NaN where the figure does not apply. */
    private static double median(List<Double> values) {
        if (values == null || values.isEmpty()) {
            return Double.NaN;
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static void progress(long began, String message) {
        System.out.printf(Locale.ROOT, "[bench %5.0f s] %s%n", (System.nanoTime() - began) / 1e9, message);
    }
}
