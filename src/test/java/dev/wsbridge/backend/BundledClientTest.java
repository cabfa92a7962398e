package dev.wsbridge.backend;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.eclipse.jetty.websocket.core.WebSocketConnection;
import org.junit.jupiter.api.Test;

/**
 * The Jetty WebSocket client the WAR bundles (the same artifacts as this class path).
 *
 * <p>Up to Jetty 12.1.8 the client's connection could lose a demand made from another thread just as its
 * reader left its loop (Jetty issue 14528, fixed in 12.1.10): the reader returned while the connection
 * stayed marked as reading, so no frame was ever read again. The bridge demands the next backend frame
 * from whichever thread completes the client write, which on Tomcat is a container thread, so one
 * session in about 10^5 small round trips stopped receiving (Autobahn 9.7.x/9.8.x through Tomcat timed
 * out in about one run in seven). Those cases run through Tomcat again in {@code mvn verify}; the race
 * itself is too narrow to hit on purpose, so this keeps the client from going back below the fix.
 */
class BundledClientTest {

    private static final String FIRST_FIXED = "12.1.10";

    @Test
    void webSocketClientHasTheLostDemandFix() {
        String version = WebSocketConnection.class.getPackage().getImplementationVersion();
        assertNotNull(version, "no Implementation-Version in the manifest of jetty-websocket-core-common");
        assertTrue(compare(version, FIRST_FIXED) >= 0,
                "jetty-websocket-core-common " + version + " loses demand under load; need " + FIRST_FIXED + " or later");
    }

    /** Compares dotted numeric versions ({@code 12.1.8} before {@code 12.1.10}); a qualifier is ignored. */
    static int compare(String a, String b) {
        return Arrays.compare(numbers(a), numbers(b));
    }

    private static int[] numbers(String version) {
        return Arrays.stream(version.split("[.-]")).takeWhile(s -> s.matches("\\d+")).mapToInt(Integer::parseInt).toArray();
    }
}
