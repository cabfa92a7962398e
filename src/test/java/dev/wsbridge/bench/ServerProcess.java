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

    /** CPU time in nanoseconds the process and its children have used so far (user and system). */
    long cpuNanos();

    /**
     * The sum of user and system CPU time over {@code process} and its descendants, from {@code /proc/<pid>/stat}
     * (fields 14 and 15, in clock ticks of 10 ms); a process that ended meanwhile counts nothing.
     */
    static long cpuNanos(ProcessHandle process) {
        List<ProcessHandle> all = new ArrayList<>();
        all.add(process);
        process.descendants().forEach(all::add);
        long ticks = 0;
        for (ProcessHandle p : all) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
                // The command name, field 2, is in parentheses and may hold spaces: count from after it.
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            } catch (IOException e) {
                // Gone: nothing to add.
            }
        }
        return ticks * NANOS_PER_TICK;
    }

    /** {@code getconf CLK_TCK} is 100 on Linux. */
    long NANOS_PER_TICK = 10_000_000L;

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
