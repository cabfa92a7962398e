package dev.wsbridge.bench;

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

/**
 * The benchmark, run by {@code mvn -Pbench}: this JVM is the load generator (Jetty's WebSocket client); the
 * echo backend and each bridge run in their own {@link BenchServer} JVMs. It measures the backend directly
 * ({@code ws://}), the bridge in embedded Tomcat and the bridge in embedded Jetty ({@code wss://} client
 * leg, {@code ws://} backend leg), each figure the median of {@code bench.runs} runs, and prints one Markdown
 * table (also written to {@code target/bench/results.md}). Every echo is checked; a mismatch aborts the run.
 *
 * <p>System properties (all optional): see {@link Settings}.
 */
public final class Bench {

    private static final long MIB = 1024 * 1024;

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

    /** Seconds after the abusers disconnect before the last heap reading: the bridge's closeTimeout (5 s) and more. */
    private static final double ABUSE_SETTLE = 8;

    private Bench() {
    }

    /** The three things measured, in table order. */
    enum Target {
        DIRECT("direct ws://", null), TOMCAT("Tomcat bridge wss://", "tomcat"), JETTY("Jetty bridge wss://", "jetty");

        final String title;
        final String role;

        Target(String title, String role) {
            this.title = title;
            this.role = role;
        }
    }

    /** The settings, each a system property read once; a bad value stops the run naming it. */
    record Settings(int runs, double seconds, long rampMillis, double warmup, int connections, int inFlight,
            int bulkConnections, int bulkInFlight, int handshakeWorkers, int idleSessions, boolean abuse,
            int abuseSessions, double abuseSeconds, boolean pin, List<Target> targets, String bridgeParams) {

        static Settings read() {
            List<Target> targets = new ArrayList<>();
            for (String t : System.getProperty("bench.targets", "direct,tomcat,jetty").split(",")) {
                try {
                    targets.add(Target.valueOf(t.trim().toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("system property [bench.targets] has value [" + t
                            + "]; expected a comma-separated list of direct, tomcat, jetty");
                }
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
                    bool("bench.pin", false),               // taskset: server JVMs on CPU 0, generator on CPU 1
                    List.copyOf(targets),
                    params(System.getProperty("bench.bridgeParams", "")));  // extra init-params of the bridges
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

    private static String run(Settings s, long began) throws Exception {
        TestTls.keystore();
        String serverCpu = null;
        if (s.pin()) {
            serverCpu = pinGenerator();
        }
        Map<Target, Map<String, List<Double>>> results = new EnumMap<>(Target.class);
        Map<Target, String> warmUps = new EnumMap<>(Target.class);
        List<String> abuse = new ArrayList<>();
        try (ServerJvm backend = ServerJvm.start("backend", serverCpu, "backend");
                LoadClient load = new LoadClient(s.rampMillis())) {
            URI backendBase = URI.create("ws://127.0.0.1:" + backend.port() + "/");
            for (Target target : s.targets()) {
                Map<String, List<Double>> figures = new LinkedHashMap<>();
                results.put(target, figures);
                ServerJvm bridge = target == Target.DIRECT ? null
                        : ServerJvm.start(target.role, serverCpu, target.role, backendBase.toString(), s.bridgeParams());
                try {
                    URI base = bridge == null ? backendBase : URI.create("wss://localhost:" + bridge.port() + "/wsapp/");
                    URI echo = base.resolve(BenchBackend.ECHO);
                    progress(began, target.title + ": warm-up, at most " + s.warmup() + " s");
                    warmUps.put(target, warmUp(s, load, echo, began, target));
                    for (int r = 1; r <= s.runs(); r++) {
                        progress(began, target.title + ": run " + r);
                        LoadClient.EchoResult rate = load.echo(echo, s.connections(), s.inFlight(), LoadClient.SMALL,
                                false, s.seconds());
                        add(figures, "echo", rate.messagesPerSecond());
                        LoadClient.EchoResult bulk = load.echo(echo, s.bulkConnections(), s.bulkInFlight(),
                                LoadClient.BULK, false, s.seconds());
                        add(figures, "bulk", bulk.bytesPerSecond() / 1e6);
                        LoadClient.EchoResult one = load.echo(echo, 1, 1, LoadClient.SMALL, true, s.seconds());
                        latencies(figures, "lat1", one);
                        LoadClient.EchoResult many = load.echo(echo, s.connections(), 1, LoadClient.SMALL, true,
                                s.seconds());
                        latencies(figures, "latN", many);
                        add(figures, "handshakes", load.handshakes(base.resolve(BenchBackend.ECHO),
                                s.handshakeWorkers(), s.seconds()));
                        progress(began, String.format(Locale.ROOT,
                                "%s run %d: %.0f msg/s, %.1f MB/s, p50 %.0f µs (1 conn), %.0f handshakes/s",
                                target.title, r, rate.messagesPerSecond(), bulk.bytesPerSecond() / 1e6,
                                one.percentileMicros(50), last(figures, "handshakes")));
                    }
                    if (bridge != null && s.abuse()) {
                        progress(began, target.title + ": abuse check");
                        abuse.add(abuseRow(target, false, load.abuse(bridge, base.resolve(BenchBackend.FLOOD),
                                base.resolve(BenchBackend.SINK), false, s.abuseSessions(), s.abuseSeconds(), ABUSE_SETTLE)));
                        abuse.add(abuseRow(target, true, load.abuse(bridge, base.resolve(BenchBackend.FLOOD),
                                base.resolve(BenchBackend.SINK), true, s.abuseSessions(), s.abuseSeconds(), ABUSE_SETTLE)));
                    }
                } finally {
                    if (bridge != null) {
                        bridge.close();
                    }
                }
                for (int r = 1; r <= s.runs(); r++) {
                    idle(s, target, r, backendBase, serverCpu, load, figures);
                }
                progress(began, target.title + ": idle memory done");
            }
        }
        return table(s, results, warmUps, abuse, began);
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
     * Idle memory in a fresh server JVM (the backend's for direct, the bridge's otherwise): 100 sessions
     * opened and closed first so that classes are loaded, then heap and RSS before and with {@code n} idle
     * sessions, each echoed once.
     */
    private static void idle(Settings s, Target target, int run, URI backendBase, String cpu, LoadClient load,
            Map<String, List<Double>> figures) throws Exception {
        String name = (target.role == null ? "backend" : target.role) + "-idle-" + run;
        try (ServerJvm jvm = target == Target.DIRECT ? ServerJvm.start(name, cpu, "backend")
                : ServerJvm.start(name, cpu, target.role, backendBase.toString(), s.bridgeParams())) {
            URI uri = target == Target.DIRECT
                    ? URI.create("ws://127.0.0.1:" + jvm.port() + "/" + BenchBackend.ECHO)
                    : URI.create("wss://localhost:" + jvm.port() + "/wsapp/" + BenchBackend.ECHO);
            load.close(load.openIdle(uri, 100));
            Thread.sleep(500);
            long heap0 = jvm.heap();
            long rss0 = jvm.rss();
            LoadClient.Opened opened = load.openIdle(uri, s.idleSessions());
            Thread.sleep(1000);
            long heap1 = jvm.heap();
            long rss1 = jvm.rss();
            load.close(opened);
            add(figures, "heap", (heap1 - heap0) / 1024.0 / s.idleSessions());
            add(figures, "rss", (rss1 - rss0) / 1024.0 / s.idleSessions());
        }
    }

    private static String abuseRow(Target target, boolean clientFloods, LoadClient.Abuse a) {
        boolean flat = a.second() - a.first() <= FLAT_MARGIN;
        return String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f | %.1f | %.1f | %s | %s |", target.title,
                clientFloods ? "clients flood, backend never reads" : "backend floods, clients never read",
                a.before() / (double) MIB, a.first() / (double) MIB, a.second() / (double) MIB,
                a.after() / (double) MIB, clientFloods ? String.format(Locale.ROOT, "%.1f MB", a.clientWrote() / 1e6) : "-",
                flat ? "flat" : "GROWING");
    }

    private static String table(Settings s, Map<Target, Map<String, List<Double>>> results,
            Map<Target, String> warmUps, List<String> abuse, long began) {
        List<String[]> rows = List.of(
                new String[] {"echo", "echo 64 B, " + s.connections() + " conn × " + s.inFlight() + " in flight, msg/s", "%,.0f"},
                new String[] {"bulk", "echo 64 KiB, " + s.bulkConnections() + " conn × " + s.bulkInFlight() + " in flight, MB/s", "%,.1f"},
                new String[] {"lat1.p50", "latency 64 B, 1 conn, p50 µs", "%,.0f"},
                new String[] {"lat1.p99", "latency 64 B, 1 conn, p99 µs", "%,.0f"},
                new String[] {"lat1.p999", "latency 64 B, 1 conn, p99.9 µs", "%,.0f"},
                new String[] {"latN.p50", "latency 64 B, " + s.connections() + " conn, p50 µs", "%,.0f"},
                new String[] {"latN.p99", "latency 64 B, " + s.connections() + " conn, p99 µs", "%,.0f"},
                new String[] {"latN.p999", "latency 64 B, " + s.connections() + " conn, p99.9 µs", "%,.0f"},
                new String[] {"handshakes", "handshakes (open + close), " + s.handshakeWorkers() + " at a time, /s", "%,.0f"},
                new String[] {"heap", "heap per idle session, " + s.idleSessions() + " sessions, KiB", "%,.1f"},
                new String[] {"rss", "RSS per idle session, " + s.idleSessions() + " sessions, KiB", "%,.1f"});
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
            Map<String, List<Double>> direct = results.get(Target.DIRECT);
            double base = direct == null ? Double.NaN : median(direct.get(row[0]));
            for (Map.Entry<Target, Map<String, List<Double>>> e : results.entrySet()) {
                List<Double> v = e.getValue().get(row[0]);
                double m = median(v);
                double spread = (v.stream().mapToDouble(Double::doubleValue).max().orElseThrow()
                        - v.stream().mapToDouble(Double::doubleValue).min().orElseThrow()) / 2 / Math.abs(m) * 100;
                t.append(' ').append(String.format(Locale.ROOT, row[2], m))
                        .append(String.format(Locale.ROOT, " ±%.0f%%", spread)).append(" |");
                if (e.getKey() != Target.DIRECT) {
                    t.append(Double.isNaN(base) ? " - |" : String.format(Locale.ROOT, " %.2f |", m / base));
                }
            }
            t.append('\n');
        }
        t.append(String.format(Locale.ROOT, "%nEach figure: median of %d runs ± half the spread (max − min) as a share"
                + " of the median; %.1f s measured per figure and run after a %d ms ramp; ÷ direct = bridged median"
                + " / direct median. Memory: fresh server JVM per run (%s), heap after a full GC and VmRSS, growth"
                + " divided by the sessions; a bridged session is two sockets in the bridge JVM, the backend runs in"
                + " its own JVM.%n", s.runs(), s.seconds(), s.rampMillis(), ServerJvm.HEAP_LIMIT));
        t.append(String.format(Locale.ROOT, "%nWarm-up (64 B echo in %.0f s windows for at least %.0f s, then until the"
                + " mean rate of the last %d is at most %.0f%% above that of the %d before, at most %.0f s; then %.0f s of"
                + " 64 KiB echo): ", WARM_WINDOW, Math.min(WARM_MIN, s.warmup()), WARM_STABLE_WINDOWS, WARM_TOLERANCE * 100,
                WARM_STABLE_WINDOWS, s.warmup(), WARM_BULK));
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
        t.append(String.format(Locale.ROOT, "%nMachine: %d cores (%s), %s, Java %s; pinned: %s; run time %.0f s.%n",
                Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("os.name") + " "
                        + System.getProperty("os.version"), System.getProperty("java.version"), s.pin(),
                (System.nanoTime() - began) / 1e9));
        return t.toString();
    }

    /** Pins this JVM (all its threads) to CPU 1 and returns the CPU list for the server JVMs. */
    private static String pinGenerator() throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of("/usr/bin/taskset")) && !Files.isExecutable(Path.of("/bin/taskset"))) {
            System.err.println("bench: bench.pin is true but taskset is not installed; running unpinned");
            return null;
        }
        int cpus = Runtime.getRuntime().availableProcessors();
        String server = cpus >= 4 ? "0-" + (cpus / 2 - 1) : "0";
        String generator = cpus >= 4 ? (cpus / 2) + "-" + (cpus - 1) : "1";
        Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", generator, Long.toString(ProcessHandle.current().pid()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new BenchFailure("taskset failed: " + out);
        }
        return server;
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

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static void progress(long began, String message) {
        System.out.printf(Locale.ROOT, "[bench %5.0f s] %s%n", (System.nanoTime() - began) / 1e9, message);
    }
}
