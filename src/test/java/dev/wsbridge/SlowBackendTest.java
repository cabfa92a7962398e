package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.wsbridge.support.BridgeContainer;
import dev.wsbridge.support.RawBackend;
import dev.wsbridge.support.RawClient;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A backend slower to answer the upgrade than the HTTP client's own 30-second idle timeout: the handshake waits
 * as long as {@code upgradeTimeout} allows. In one container only: the backend client is the same in both, and
 * the test has to wait past 30 s.
 */
class SlowBackendTest {

    @Test
    void handshakeWaitsPastThirtySecondsWhenUpgradeTimeoutAllowsIt() throws Exception {
        try (RawBackend silent = RawBackend.neverAnswers(); BridgeContainer container = BridgeContainer.Kind.JETTY.create()) {
            container.start(Map.of("proxyTo", silent.uri().toString(), "upgradeTimeout", "2m", "httpProxy", "false"), Map.of());
            CompletableFuture<Integer> status = CompletableFuture.supplyAsync(() -> {
                try {
                    return RawClient.tls(container.tlsPort(), RawClient.upgrade("/wsapp/slow", "localhost")).status();
                } catch (Exception e) {
                    return -1;
                }
            });
            // Before the fix the backend connection idled out at 30 s and the client got 504 then.
            TimeUnit.SECONDS.sleep(33);
            assertFalse(status.isDone(), () -> "answered " + status.join() + " before upgradeTimeout");
            assertEquals(1, silent.acceptedCount());
        }
    }
}
