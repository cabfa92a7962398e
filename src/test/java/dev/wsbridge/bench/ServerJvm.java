package dev.wsbridge.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One {@link BenchServer} JVM, started with the generator's class path and {@code -Xmx512m}, optionally pinned
 * with {@code taskset}; its standard error goes to {@code target/bench/<name>.log}. A shutdown hook destroys
 * it if the generator ends first.
 */
final class ServerJvm implements ServerProcess {

    /** Heap limit of every server JVM. */
    static final String HEAP_LIMIT = "-Xmx512m";

    private static final String EOF = "\u0000eof";
    private static final int START_SECONDS = 60;
    private static final int COMMAND_SECONDS = 60;

    private final String name;
    private final Process process;
    private final Writer commands;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final int port;

    private ServerJvm(String name, List<String> command) throws IOException {
        this.name = name;
        Path log = Path.of("target", "bench", name + ".log");
        Files.createDirectories(log.getParent());
        process = new ProcessBuilder(command).redirectError(log.toFile()).start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
        commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process ended; EOF below says so
            }
            lines.add(EOF);
        }, "bench-" + name + "-stdout");
        reader.setDaemon(true);
        reader.start();
        port = Integer.parseInt(expect("ready", START_SECONDS));
    }

    /**
     * Starts a server JVM and waits for its {@code ready} line.
     *
     * @param cpu the CPU list to pin it to with {@code taskset}, or {@code null}
     */
    static ServerJvm start(String name, String cpu, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        if (cpu != null) {
            command.addAll(List.of("taskset", "-c", cpu));
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add(HEAP_LIMIT);
        String extra = System.getProperty("bench.serverJvmArgs", "").strip();
        if (!extra.isEmpty() && !args[0].equals("backend")) {
            command.addAll(List.of(extra.split("\\s+")));  // e.g. a profiler agent, for the servers under test
        }
        command.add("-cp");
        String more = System.getProperty("bench.serverClasspath", "").strip();  // e.g. Tomcat 11's tomcat-coyote-ffm.jar
        command.add(System.getProperty("java.class.path") + (more.isEmpty() ? "" : File.pathSeparator + more));
        command.add(BenchServer.class.getName());
        command.addAll(List.of(args));
        return new ServerJvm(name, command);
    }

    @Override
    public int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    /** Heap in use after a full GC, in bytes, as the JVM itself reports it. */
    long heap() throws IOException {
        commands.write("heap\n");
        commands.flush();
        return Long.parseLong(expect("heap", COMMAND_SECONDS));
    }

    /** Live objects by class after a full GC: class name to {instances, bytes}, from the JVM's class histogram. */
    Map<String, long[]> histogram() throws IOException {
        commands.write("histogram\n");
        commands.flush();
        Map<String, long[]> classes = new HashMap<>();
        for (String row : expect("histogram", COMMAND_SECONDS).split(";")) {
            String[] f = row.trim().split("\\s+");
            if (f.length >= 4 && f[0].endsWith(":")) {
                classes.merge(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])},
                        (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
            }
        }
        return classes;
    }

    @Override
    public long rss() throws IOException {
        return ServerProcess.rss(process.toHandle());
    }

    @Override
    public long cpuNanos() {
        return ServerProcess.cpuNanos(process.toHandle());
    }

    private String expect(String word, int seconds) throws IOException {
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (line == null) {
                    throw new IOException("server JVM [" + name + "] did not answer [" + word + "] within " + seconds
                            + " s; see target/bench/" + name + ".log");
                }
                if (line.equals(EOF)) {
                    throw new IOException("server JVM [" + name + "] ended; see target/bench/" + name + ".log");
                }
                if (line.startsWith(word + " ")) {
                    return line.substring(word.length() + 1);
                }
                if (line.startsWith("error ")) {
                    throw new IOException("server JVM [" + name + "]: " + line);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            commands.write("quit\n");
            commands.flush();
        } catch (IOException e) {
            // already gone
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public String toString() {
        return "ServerJvm[" + name + ", pid " + process.pid() + ", port " + port + "]";
    }
}
