package dev.wsbridge.dist;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JDK's {@code jcmd} (from the JDK running the tests) pointed at a container JVM: how many live threads it
 * has and how much heap it uses after a full GC. Read-only diagnostics; the container is not reconfigured.
 */
final class Jcmd {

    /** One heap line of {@code GC.heap_info}: {@code garbage-first heap total 262144K, used 23456K [...}. */
    private static final Pattern HEAP_USED = Pattern.compile("^\\s*(?!Metaspace|class space)\\S.*?\\btotal \\d+K, used (\\d+)K");
    private static final Pattern METASPACE_USED = Pattern.compile("^\\s*Metaspace\\s+used (\\d+)K");
    /** A Java thread in {@code Thread.print}: {@code "name" #12 ...}; VM-internal threads have no {@code #id}. */
    /** A class loader line of {@code VM.classloader_stats} whose type is a web application class loader. */
    private static final Pattern WEBAPP_LOADER = Pattern.compile("^0x\\p{XDigit}+\\s.*\\.\\w*(?i:webappclassloader)\\s*$");
    private static final Pattern JAVA_THREAD = Pattern.compile("^\"(.*)\" #\\d+ ");

    /**
     * What a container JVM holds right after a full GC: Java threads (JIT compiler threads left out: the JVM adds
     * and retires them by itself), heap used and metaspace used in KiB, and web application class loaders still
     * alive (Tomcat's {@code ParallelWebappClassLoader}, Jetty's {@code WebAppClassLoader}; a full GC unloads the
     * unreachable ones).
     */
    record Footprint(int threads, long heapKiB, long metaspaceKiB, int webappClassLoaders, List<String> threadNames) {
        /** Thread names with their numbers dropped ({@code wsbridge-ROOT-42} is {@code wsbridge-ROOT-#}), counted. */
        Map<String, Integer> threadKinds() {
            Map<String, Integer> kinds = new TreeMap<>();
            threadNames.forEach(n -> kinds.merge(n.replaceAll("\\d+", "#"), 1, Integer::sum));
            return kinds;
        }

        /** The kinds of thread {@code this} has more of than {@code before}, with both counts. */
        String moreThreadsThan(Footprint before) {
            Map<String, Integer> was = before.threadKinds();
            StringBuilder b = new StringBuilder();
            threadKinds().forEach((kind, n) -> {
                int old = was.getOrDefault(kind, 0);
                if (n > old) {
                    b.append("  [").append(kind).append("] ").append(old).append(" -> ").append(n).append('\n');
                }
            });
            return b.length() == 0 ? "  none\n" : b.toString();
        }

        @Override
        public String toString() {
            return threads + " threads, heap used after GC " + heapKiB / 1024 + " MiB (" + heapKiB + " KiB), metaspace "
                    + metaspaceKiB / 1024 + " MiB, " + webappClassLoaders + " web application class loaders";
        }
    }

    private Jcmd() {
    }

    /** Runs a full GC in {@code pid}, then counts its threads and reads its heap. */
    static Footprint footprint(long pid) throws Exception {
        run(pid, "GC.run");
        String heap = run(pid, "GC.heap_info");
        long heapKiB = 0;
        long metaspaceKiB = 0;
        for (String line : heap.split("\n")) {
            Matcher m = HEAP_USED.matcher(line);
            if (m.find()) {
                heapKiB += Long.parseLong(m.group(1));
            }
            Matcher meta = METASPACE_USED.matcher(line);
            if (meta.find()) {
                metaspaceKiB = Long.parseLong(meta.group(1));
            }
        }
        if (heapKiB == 0) {
            throw new AssertionError("no heap figure in jcmd " + pid + " GC.heap_info:\n" + heap);
        }
        List<String> names = new ArrayList<>();
        for (String line : run(pid, "Thread.print").split("\n")) {
            Matcher m = JAVA_THREAD.matcher(line);
            if (m.find() && !m.group(1).contains("CompilerThread")) {
                names.add(m.group(1));
            }
        }
        int loaders = 0;
        for (String line : run(pid, "VM.classloader_stats").split("\n")) {
            if (WEBAPP_LOADER.matcher(line).find()) {
                loaders++;
            }
        }
        return new Footprint(names.size(), heapKiB, metaspaceKiB, loaders, List.copyOf(names));
    }

    /** {@code jcmd pid command}, bounded; fails on a non-zero exit. */
    static String run(long pid, String command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Path out = Files.createTempFile("jcmd", ".txt");
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("jcmd " + pid + " " + command + " not done within 60 s");
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new AssertionError("jcmd " + pid + " " + command + " exited " + p.exitValue() + ":\n" + text);
            }
            return text;
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
