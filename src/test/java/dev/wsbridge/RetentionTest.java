package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Finished sessions leave nothing behind: after they close, their {@code Bridge}s become unreachable
 * (counted by the JDK's own {@code jcmd GC.class_histogram}, which counts live objects after a full GC).
 */
class RetentionTest extends ContainerSuite {

    @Test
    void closedSessionsAreNotRetained() throws Exception {
        // Timers as long as an hour: anything that holds a finished session until a timer fires shows.
        start(Map.of("upgradeTimeout", "1h", "connectTimeout", "1h", "idleTimeout", "1h"));
        for (int i = 0; i < 30; i++) {
            Peer c = client.connect(container.wss("/wsapp/r" + i));
            c.send("x");
            assertEquals("x", c.nextText());
            c.close(1000, "done");
            c.closed();
        }
        // An idle selector thread may still hold the last connection it served in a loop variable;
        // anything that keeps every finished session keeps all 30.
        Await.until("at most 2 of 30 Bridges left after the sessions closed", 30, () -> liveBridges() <= 2);
    }

    private static long liveBridges() {
        try {
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(ProcessHandle.current().pid()),
                    "GC.class_histogram").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor(30, TimeUnit.SECONDS);
            for (String line : out.split("\n")) {
                String[] cols = line.trim().split("\\s+");
                if (cols.length == 4 && cols[3].equals("dev.wsbridge.bridge.Bridge")) {
                    return Long.parseLong(cols[1]);
                }
            }
            return 0;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
