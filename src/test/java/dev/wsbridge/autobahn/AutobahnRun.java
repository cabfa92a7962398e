package dev.wsbridge.autobahn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every Autobahn launcher shares. The autobahntestsuite-maven-plugin (0.1.5) runs a launcher's
 * {@code main(port)} in a daemon thread of Maven's own JVM, waits until the port accepts TCP, runs the
 * fuzzing client against {@code ws://<InetAddress.getLocalHost() address>:<port>} (path {@code /}), and
 * then interrupts that thread. It writes its report to {@code target/autobahntestsuite-reports}
 * (relative to Maven's working directory) and every execution overwrites the previous one's, so the
 * launcher copies the report to {@link #reportDir(String)} when it is interrupted, before it stops.
 *
 * <p>All executions share Maven's JVM and Jython's module table, and the suite's Twisted reactor cannot be
 * restarted once stopped ({@code ReactorNotRestartable} in the second execution). So from the second run
 * on, the launcher first makes Jython forget the suite's modules; the plugin then imports them afresh,
 * with a new reactor.
 *
 * <p>The suite's client gives the server 1 s to answer its close frame and 1 s more to drop TCP, and rates
 * the case's close UNCLEAN when either passes. On a 2-core machine that also runs Maven, the servers and
 * Jython, one GC pause after a 4 MiB message (case 9.3.2, the echo backend alone) was enough to miss that.
 * The suite's spec has an option for both timeouts, but the plugin passes no options, so the launcher
 * raises them to {@value #CLOSE_TIMEOUT_SECONDS} s in the client factory before the plugin starts its
 * client. A server that never closes is still rated UNCLEAN, only later; no case waits longer otherwise.
 */
final class AutobahnRun {

    /** The runs, in the order the POM declares them; the first is the reference. */
    static final String BACKEND_ALONE = "backend-alone";
    static final String BRIDGE_JETTY = "bridge-jetty";
    static final String BRIDGE_TOMCAT = "bridge-tomcat";

    /** Set once a run has started in this JVM; a system property because each execution has its own class loader. */
    private static final String STARTED_PROPERTY = "dev.wsbridge.autobahn.started";

    /** Python that drops the suite's modules (Twisted holds its stopped reactor in module state). */
    private static final String FORGET_SUITE = String.join("\n",
            "import sys",
            "for name in [n for n in sys.modules.keys() if n.split('.')[0] in ('twisted', 'autobahn', 'autobahntestsuite')]:",
            "    del sys.modules[name]",
            "");

    /** The client's close-handshake and server-drop timeouts, in seconds (the suite's default is 1). */
    static final int CLOSE_TIMEOUT_SECONDS = 10;

    /** Python that makes the client factory reset its close timeouts to {@link #CLOSE_TIMEOUT_SECONDS}. */
    private static final String RELAX_CLOSE_TIMEOUTS = String.join("\n",
            "from autobahn import websocket",
            "def _reset(self, _reset_defaults=websocket.WebSocketClientFactory.resetProtocolOptions):",
            "    _reset_defaults(self)",
            "    self.closeHandshakeTimeout = " + CLOSE_TIMEOUT_SECONDS,
            "    self.serverConnectionDropTimeout = " + CLOSE_TIMEOUT_SECONDS,
            "websocket.WebSocketClientFactory.resetProtocolOptions = _reset",
            "");

    /** Where the plugin writes; a fixed relative path in the plugin. */
    private static final Path PLUGIN_REPORTS = Path.of("target", "autobahntestsuite-reports");

    private static final Logger LOG = LoggerFactory.getLogger(AutobahnRun.class);

    /** Starts a run's servers on the given address, in start order; they are stopped in reverse. */
    @FunctionalInterface
    interface Servers {
        List<AutoCloseable> start(String host, int port) throws Exception;
    }

    private AutobahnRun() {
    }

    /**
     * A launcher's whole {@code main}: starts the servers, blocks until the plugin interrupts the thread,
     * keeps the report, stops the servers.
     */
    static void serve(String run, String[] args, Servers servers) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("expected one argument, the port; got " + List.of(args));
        }
        int port = Integer.parseInt(args[0]);
        preparePython(System.getProperty(STARTED_PROPERTY) != null);
        System.setProperty(STARTED_PROPERTY, run);
        deleteTree(reportDir(run));
        ReportKeeper keeper = new ReportKeeper(run, Instant.now());
        // Maven may exit right after the last execution, before this thread has kept the report.
        Thread atExit = new Thread(keeper, "autobahn-keep-" + run);
        Runtime.getRuntime().addShutdownHook(atExit);
        String host = pluginHost();
        List<AutoCloseable> running = new ArrayList<>();
        try {
            running.addAll(servers.start(host, port));
            LOG.info("autobahn run [{}] serving on ws://{}:{}/ with {}", run, host, port, running);
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                keeper.run();
                removeShutdownHook(atExit);
            }
        } finally {
            for (int i = running.size() - 1; i >= 0; i--) {
                try {
                    running.get(i).close();
                } catch (Exception e) {
                    LOG.warn("autobahn run [{}]: stopping [{}] failed", run, running.get(i), e);
                }
            }
        }
    }

    private static void removeShutdownHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyExiting) {
            // the hook runs, finds the report kept and does nothing
        }
    }

    /** Keeps a run's report once, from whichever comes first: the interrupt or the JVM's exit. */
    private static final class ReportKeeper implements Runnable {

        private final String run;
        private final Instant started;
        private boolean done;

        ReportKeeper(String run, Instant started) {
            this.run = run;
            this.started = started;
        }

        @Override
        public synchronized void run() {
            if (!done) {
                done = true;
                keepReport(run, started);
            }
        }
    }

    /**
     * Makes Jython (the plugin's, found through the context class loader) forget the suite's modules when
     * an earlier run imported them, then relaxes the client's close timeouts. Runs before the port is bound,
     * so before the plugin starts its client. The interpreter is not closed: closing would run the shared
     * state's exit functions.
     */
    private static void preparePython(boolean forget) throws ReflectiveOperationException {
        Class<?> interpreter = Class.forName("org.python.util.PythonInterpreter", true,
                Thread.currentThread().getContextClassLoader());
        Object python = interpreter.getConstructor().newInstance();
        Method exec = interpreter.getMethod("exec", String.class);
        if (forget) {
            exec.invoke(python, FORGET_SUITE);
        }
        exec.invoke(python, RELAX_CLOSE_TIMEOUTS);
    }

    /** The address the plugin connects to: the same lookup it makes, with its fallback. */
    static String pluginHost() {
        try {
            return InetAddress.getLocalHost().getHostAddress();
        } catch (UnknownHostException e) {
            return "127.0.0.1";
        }
    }

    /** The build directory ({@code target}), found from where the test classes are. */
    static Path buildDir() {
        try {
            Path classes = Path.of(AutobahnRun.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return classes.getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where the report of {@code run} is kept: {@code target/autobahn-reports/<run>/}. */
    static Path reportDir(String run) {
        return buildDir().resolve("autobahn-reports").resolve(run);
    }

    /**
     * Copies the plugin's report to {@link #reportDir(String)}: whole or not at all (copied aside, then
     * renamed), and only what this run wrote, so a missing report stays missing and a run with fewer cases
     * does not inherit the case reports of an earlier one.
     */
    private static void keepReport(String run, Instant started) {
        Path index = PLUGIN_REPORTS.resolve("index.json");
        try {
            if (!writtenSince(index, started)) {
                LOG.error("autobahn run [{}]: the plugin wrote no report to [{}]", run, PLUGIN_REPORTS.toAbsolutePath());
                return;
            }
            Path target = reportDir(run);
            Path partial = target.resolveSibling(run + ".partial");
            deleteTree(partial);
            Files.createDirectories(partial);
            try (Stream<Path> files = Files.list(PLUGIN_REPORTS)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    if (writtenSince(f, started)) {
                        Files.copy(f, partial.resolve(f.getFileName().toString()));
                    }
                }
            }
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            LOG.info("autobahn run [{}]: report kept in [{}]", run, target);
        } catch (IOException e) {
            LOG.error("autobahn run [{}]: keeping the report failed", run, e);
        }
    }

    private static boolean writtenSince(Path file, Instant started) throws IOException {
        return Files.isRegularFile(file) && !Files.getLastModifiedTime(file).toInstant().isBefore(started);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
