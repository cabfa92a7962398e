package dev.wsbridge.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Node.js script of {@code src/test/node} (real Socket.IO and SockJS servers and clients, installed there by the
 * build's {@code npm ci}) in a process of its own; its output lines are collected as they come.
 */
public final class NodeProcess implements AutoCloseable {

    private static final Path DIR = Path.of("src", "test", "node").toAbsolutePath();

    /** What a script that ran to its end printed, and its exit code. */
    public record Result(int exit, List<String> lines) {
    }

    private final Process process;
    private final BlockingQueue<String> pending = new LinkedBlockingQueue<>();
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private NodeProcess(String script, List<String> args, Path extraCa) throws IOException {
        if (!Files.isDirectory(DIR.resolve("node_modules"))) {
            throw new IllegalStateException(DIR + "/node_modules is missing: run npm ci there (the Maven build does when it is missing)");
        }
        List<String> command = new ArrayList<>(List.of("node", script));
        command.addAll(args);
        ProcessBuilder b = new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true);
        if (extraCa != null) {
            b.environment().put("NODE_EXTRA_CA_CERTS", extraCa.toString());
        }
        process = b.start();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                    pending.add(line);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "test-node-" + script);
        reader.setDaemon(true);
        reader.start();
    }

    /** A server script of {@code src/test/node}, once it listens; {@link #port()} tells where. */
    public static NodeProcess server(String script) throws Exception {
        NodeProcess p = new NodeProcess(script, List.of(), null);
        p.awaitLine("PORT ");
        return p;
    }

    /** Runs a client script of {@code src/test/node} to its end, trusting the test certificate. */
    public static Result client(String script, String... args) throws Exception {
        try (NodeProcess p = new NodeProcess(script, List.of(args), certificate())) {
            if (!p.process.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError(script + " did not end within 60 s: " + p.lines);
            }
            // The reader may still be taking the last lines.
            p.process.getInputStream().close();
            return new Result(p.process.exitValue(), List.copyOf(p.lines));
        }
    }

    /** Waits, at most 20 s, for an output line starting with {@code prefix}, and returns it. */
    public String awaitLine(String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            String line = pending.poll(100, TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line;
            }
        }
        throw new AssertionError("no line [" + prefix + "...] from node within 20 s; it printed " + lines);
    }

    /** Every line the process printed so far. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** The port a server printed as {@code PORT <n>}. */
    public int port() {
        return lines.stream().filter(l -> l.startsWith("PORT ")).map(l -> Integer.parseInt(l.substring(5).trim()))
                .findFirst().orElseThrow();
    }

    /** The test certificate alone (no key) as PEM, for {@code NODE_EXTRA_CA_CERTS}. */
    private static synchronized Path certificate() throws IOException {
        Path file = TestTls.pem().resolveSibling("localhost-cert.pem");
        if (!Files.exists(file)) {
            String pem = Files.readString(TestTls.pem(), StandardCharsets.US_ASCII);
            String end = "-----END CERTIFICATE-----\n";
            Files.writeString(file, pem.substring(0, pem.indexOf(end) + end.length()), StandardCharsets.US_ASCII);
        }
        return file;
    }

    /** Kills the process at once (SIGKILL), as a host dies: the kernel closes every connection it had. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        process.getOutputStream().close();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
