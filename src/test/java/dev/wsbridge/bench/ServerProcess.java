package dev.wsbridge.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A server the benchmark started in a process of its own: a {@link ServerJvm} or a {@link PeerProxy}. */
interface ServerProcess extends AutoCloseable {

    /** The port it listens on, on 127.0.0.1. */
    int port();

    /** Resident set size in bytes of the process and its children, from {@code VmRSS} in {@code /proc/<pid>/status}. */
    long rss() throws IOException;

    /** The sum of {@code VmRSS} over {@code process} and its descendants (nginx's or HAProxy's workers). */
    static long rss(ProcessHandle process) throws IOException {
        List<ProcessHandle> all = new ArrayList<>();
        all.add(process);
        process.descendants().forEach(all::add);
        long sum = 0;
        for (ProcessHandle p : all) {
            sum += vmRss(p.pid());
        }
        return sum;
    }

    private static long vmRss(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return 1024 * Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
            }
        }
        throw new IOException("no VmRSS line in /proc/" + pid + "/status");
    }
}
