package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawClient;
import dev.wsbridge.support.ScriptedBackend;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.websocket.api.Callback;
import org.junit.jupiter.api.Test;

/** Faults that end sessions or handshakes: what each side sees, and that nothing is left open. */
class FaultTest extends ContainerSuite {

    @Test
    void wssBackendWithAnUntrustedCertificateIs502() throws Exception {
        try (ScriptedBackend untrusted = new ScriptedBackend(true)) {
            start(Map.of("proxyTo", untrusted.uri().toString()));
            assertEquals(502, RawClient.tls(container.tlsPort(), RawClient.upgrade("/wsapp/x", "localhost")).status());
            assertEquals(0, untrusted.handshakeCount());
        }
    }

    @Test
    void undeployMidMessageClosesBothLegsWith1001AndDeliversNoHalfMessage() throws Exception {
        start();
        Peer c = client.connect(container.wss("/wsapp/mid"));
        Peer b = backend.session();
        CompletableFuture<Void> sent = new CompletableFuture<>();
        c.session().sendPartialBinary(ByteBuffer.wrap(new byte[100_000]), false,
                Callback.from(() -> sent.complete(null), sent::completeExceptionally));
        Await.get(sent);
        container.undeploy();
        assertEquals(1001, c.closed().code());
        assertEquals(1001, b.closed().code());
        assertTrue(b.pending().isEmpty(), "a half message reached the backend as whole");
    }

    @Test
    void sessionsEndedByFaultsGiveTheirSlotsBack() throws Exception {
        start(Map.of("maxSessions", "2"));
        for (int round = 0; round < 3; round++) {
            Peer c1 = client.connect(container.wss("/wsapp/a"));
            Peer b1 = backend.session();
            Peer c2 = client.connect(container.wss("/wsapp/b"));
            Peer b2 = backend.session();
            c1.session().disconnect();
            b2.session().disconnect();
            assertEquals(1001, b1.closed().code());
            assertEquals(1014, c2.closed().code());
        }
        Await.until("both slots free again", 10, () -> {
            try {
                return RawClient.tls(container.tlsPort(), RawClient.upgrade("/wsapp/c", "localhost")).status() == 101;
            } catch (Exception e) {
                return false;
            }
        });
    }
}
