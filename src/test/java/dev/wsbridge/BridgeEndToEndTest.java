package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.ScriptedBackend;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Messages and subprotocols through the bridge, in embedded Tomcat and embedded Jetty, over real TLS. */
class BridgeEndToEndTest extends ContainerSuite {

    @ParameterizedTest(name = "backendBatching={0}")
    @ValueSource(booleans = {false, true})
    void textAndBinaryCrossByteExactInOrder(boolean batching) throws Exception {
        start(Map.of("backendBatching", Boolean.toString(batching)));
        Peer c = client.connect(container.wss("/wsapp/echo"));
        Peer b = backend.session();
        c.send("héllo ✓ 😀");
        byte[] bin = new byte[1000];
        new Random(1).nextBytes(bin);
        c.send(bin);
        c.send("");
        c.send(new byte[0]);

        assertEquals("héllo ✓ 😀", b.nextText());
        assertArrayEquals(bin, b.nextBinary());
        assertEquals("", b.nextText());
        assertArrayEquals(new byte[0], b.nextBinary());

        assertEquals("héllo ✓ 😀", c.nextText());
        assertArrayEquals(bin, c.nextBinary());
        assertEquals("", c.nextText());
        assertArrayEquals(new byte[0], c.nextBinary());
        assertTrue(c.pending().isEmpty());
    }

    @Test
    void pathAndQueryReachTheBackend() throws Exception {
        start();
        client.connect(container.wss("/wsapp/chat/room1?x=1&y=%20z"));
        ScriptedBackend.Handshake h = backend.handshake();
        assertEquals("/chat/room1?x=1&y=%20z", h.pathAndQuery());
        assertEquals("127.0.0.1", h.header("X-Forwarded-For"));
        assertEquals("https", h.header("X-Forwarded-Proto"));
        assertNull(h.header("Sec-WebSocket-Extensions"));
    }

    @Test
    void largeMessagesStreamThroughWhole() throws Exception {
        start();
        Peer c = client.connect(container.wss("/wsapp/big"));
        Peer b = backend.session();
        byte[] big = new byte[32 << 20];
        new Random(2).nextBytes(big);
        c.send(big);
        assertArrayEquals(big, b.nextBinary());
        assertArrayEquals(big, c.nextBinary());

        String text = "abcdefghij✓".repeat(3 << 20 / 11 * 8);
        c.send(text);
        assertEquals(text, b.nextText());
        assertEquals(text, c.nextText());
    }

    @ParameterizedTest(name = "backendBatching={0}")
    @ValueSource(booleans = {false, true})
    void fragmentedMessagesArriveWhole(boolean batching) throws Exception {
        start(Map.of("backendBatching", Boolean.toString(batching)));
        Peer c = client.connect(container.wss("/wsapp/frag"));
        Peer b = backend.session();
        Session s = c.session();
        String[] parts = {"one ", "two ", "", "thr😀ee"};
        for (int i = 0; i < parts.length; i++) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            s.sendPartialText(parts[i], i == parts.length - 1, Callback.from(() -> done.complete(null), done::completeExceptionally));
            Await.get(done);
        }
        byte[] whole = new byte[300_000];
        new Random(3).nextBytes(whole);
        for (int off = 0; off < whole.length; off += 70_000) {
            int len = Math.min(70_000, whole.length - off);
            CompletableFuture<Void> done = new CompletableFuture<>();
            s.sendPartialBinary(ByteBuffer.wrap(whole, off, len), off + len == whole.length,
                    Callback.from(() -> done.complete(null), done::completeExceptionally));
            Await.get(done);
        }
        assertEquals("one two thr😀ee", b.nextText());
        assertArrayEquals(whole, b.nextBinary());
        assertEquals("one two thr😀ee", c.nextText());
        assertArrayEquals(whole, c.nextBinary());
    }

    @Test
    void backendChoosesTheSubprotocol() throws Exception {
        start();
        backend.subprotocol(offered -> offered.contains("v2.chat") ? "v2.chat" : null);
        Peer c = client.connect(container.wss("/wsapp/sub"), "v1.chat", "v2.chat");
        assertEquals(java.util.List.of("v1.chat", "v2.chat"), backend.handshake().subprotocols());
        assertEquals("v2.chat", c.session().getUpgradeResponse().getAcceptedSubProtocol());
    }

    @Test
    void backendChoosingNoSubprotocolGivesNone() throws Exception {
        start();
        Peer c = client.connect(container.wss("/wsapp/sub"), "v1.chat");
        String accepted = c.session().getUpgradeResponse().getAcceptedSubProtocol();
        assertTrue(accepted == null || accepted.isEmpty(), "accepted [" + accepted + "]");
    }

    @ParameterizedTest(name = "backendBatching={0}")
    @ValueSource(booleans = {false, true})
    void manySessionsKeepEveryMessageInOrder(boolean batching) throws Exception {
        start(Map.of("backendBatching", Boolean.toString(batching)));
        int sessions = 200;
        int messages = 200;
        Peer[] peers = new Peer[sessions];
        for (int i = 0; i < sessions; i++) {
            peers[i] = client.connect(container.wss("/wsapp/seq/" + i));
        }
        CompletableFuture<?>[] sends = new CompletableFuture<?>[sessions];
        for (int i = 0; i < sessions; i++) {
            Peer p = peers[i];
            int id = i;
            sends[i] = CompletableFuture.runAsync(() -> {
                for (int m = 0; m < messages; m++) {
                    if (m % 2 == 0) {
                        p.send(id + ":" + m);
                    } else {
                        p.send((id + ":" + m).getBytes(StandardCharsets.UTF_8));
                    }
                }
            });
        }
        Await.get(CompletableFuture.allOf(sends), 120);
        for (int i = 0; i < sessions; i++) {
            for (int m = 0; m < messages; m++) {
                Object got = peers[i].next();
                String s = got instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : (String) got;
                assertEquals(i + ":" + m, s);
                assertEquals(m % 2 == 1, got instanceof byte[]);
            }
            assertTrue(peers[i].pending().isEmpty());
        }
    }
}
