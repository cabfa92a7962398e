package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.LogCapture;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawClient;
import dev.wsbridge.support.RawFrames;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * permessage-deflate per hop: a real client's offer (Jetty's) answered by the route's settings, messages
 * byte-exact through compression on either leg, the backend leg plain unless asked, and a client that abuses
 * compression (a message inflating past the limit, RSV1 where it may not be, bad UTF-8 inside) closed with
 * the code it earns.
 */
class DeflateTest extends ContainerSuite {

    @Override
    void start(Map<String, String> params) throws Exception {
        super.start(params);
        backend.echo(false);
    }

    private static final int[] SIZES = {0, 1, 125, 126, 65535, 65536, 1 << 20};

    /** Connects Jetty's client offering permessage-deflate as it does by default. */
    private Peer connectOffering(String path) {
        return connectOffering(path, "permessage-deflate");
    }

    private Peer connectOffering(String path, String offer) {
        Peer peer = new Peer();
        ClientUpgradeRequest request = new ClientUpgradeRequest(container.wss(path));
        request.addExtensions(offer);
        try {
            Await.get(client.jetty().connect(peer, request));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return peer;
    }

    private static String extensionsOf(Session session) {
        String header = session.getUpgradeResponse().getHeader("Sec-WebSocket-Extensions");
        return header == null ? "" : header;
    }

    @Test
    void clientOfferIsAcceptedAndTheBackendLegStaysPlain() throws Exception {
        start();
        Peer c = connectOffering("/wsapp/deflate");
        Peer b = backend.session();
        assertEquals("permessage-deflate; server_no_context_takeover; client_no_context_takeover", extensionsOf(c.session()));
        assertNull(backend.handshake().header("Sec-WebSocket-Extensions"), "nothing offered to the backend");
        assertTrue(b.session().getUpgradeResponse().getExtensions().isEmpty());
        echoEveryWay(c, b, false);
    }

    /**
     * Jetty's client (12.1) builds its compression from its own offer and ignores the parameters of the answer;
     * offering no context takeover itself, it keeps to the route's default both ways, over many messages.
     */
    @Test
    void jettysClientOfferingNoContextTakeoverWorksWithTheDefaults() throws Exception {
        start();
        Peer c = connectOffering("/wsapp/jetty-offer",
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
        Peer b = backend.session();
        assertEquals("permessage-deflate; server_no_context_takeover; client_no_context_takeover", extensionsOf(c.session()));
        echoEveryWay(c, b, true);
        echoSimilarMessages(c, b);
    }

    @Test
    void bothLegsCompressedWhenTheBackendIsAskedToo() throws Exception {
        start(Map.of("backendDeflate", "true"));
        Peer c = connectOffering("/wsapp/both");
        Peer b = backend.session();
        assertTrue(extensionsOf(c.session()).startsWith("permessage-deflate"));
        assertTrue(backend.handshake().header("Sec-WebSocket-Extensions").startsWith("permessage-deflate"));
        assertEquals("permessage-deflate", b.session().getUpgradeResponse().getExtensions().get(0).getName());
        echoEveryWay(c, b, false);
    }

    @Test
    void bothLegsCompressedWithContextTakeover() throws Exception {
        start(Map.of("backendDeflate", "true", "deflateContextTakeover", "true"));
        Peer c = connectOffering("/wsapp/both-takeover");
        Peer b = backend.session();
        assertEquals("permessage-deflate", extensionsOf(c.session()));
        assertEquals("permessage-deflate", backend.handshake().header("Sec-WebSocket-Extensions"));
        echoEveryWay(c, b, true);
    }

    @Test
    void backendAloneCompressedWhenTheClientOffersNothing() throws Exception {
        start(Map.of("backendDeflate", "true"));
        Peer c = client.connect(container.wss("/wsapp/backend-only"));
        Peer b = backend.session();
        assertEquals("", extensionsOf(c.session()));
        assertEquals("permessage-deflate", b.session().getUpgradeResponse().getExtensions().get(0).getName());
        echoEveryWay(c, b, true);
    }

    @Test
    void clientDeflateFalseAnswersWithoutTheExtension() throws Exception {
        start(Map.of("clientDeflate", "false"));
        Peer c = connectOffering("/wsapp/plain");
        Peer b = backend.session();
        assertEquals("", extensionsOf(c.session()));
        assertNull(backend.handshake().header("Sec-WebSocket-Extensions"));
        echoEveryWay(c, b, true);
    }

    @Test
    void contextTakeoverWhenAllowed() throws Exception {
        start(Map.of("deflateContextTakeover", "true"));
        Peer c = connectOffering("/wsapp/takeover", "permessage-deflate");
        Peer b = backend.session();
        assertEquals("permessage-deflate", extensionsOf(c.session()));
        echoEveryWay(c, b, true);
        echoSimilarMessages(c, b);
    }

    /** Messages much like the last, both ways: each refers to its predecessor where a window is kept. */
    private static void echoSimilarMessages(Peer c, Peer b) throws Exception {
        for (int i = 0; i < 5; i++) {
            String m = "the same words again and again ".repeat(10) + i;
            c.send(m);
            assertEquals(m, b.nextText());
            b.send(m);
            assertEquals(m, c.nextText());
        }
    }

    /**
     * Text and binary of every size, whole and in fragments, from the backend and, if {@code clientSends}, from
     * the client; then nothing else arrived. Jetty's client (12.1) keeps its compression context between messages
     * even when the answer says {@code client_no_context_takeover} (RFC 7692 §7.1.1.2 says it must not), so its
     * messages refer to earlier ones the bridge has forgotten: where that is agreed, the client's messages come
     * from a raw client that keeps to it ({@link #compliantClientMessagesWholeAndInParts}).
     */
    private static void echoEveryWay(Peer c, Peer b, boolean clientSends) throws Exception {
        Random random = new Random(7692);
        for (int size : SIZES) {
            byte[] noise = new byte[size];
            random.nextBytes(noise);
            String text = "wsbridge é ".repeat(size / 11 + 1).substring(0, size);
            if (clientSends) {
                c.send(noise);
                assertArrayEquals(noise, b.nextBinary(), "binary of " + size + " to the backend");
                c.send(text);
                assertEquals(text, b.nextText(), "text of " + size + " to the backend");
                byte[] zeros = new byte[size];
                sendInParts(c.session(), zeros);
                assertArrayEquals(zeros, b.nextBinary(), "fragmented binary of " + size + " to the backend");
                sendTextInParts(c.session(), text);
                assertEquals(text, b.nextText(), "fragmented text of " + size + " to the backend");
            }
            b.send(noise);
            assertArrayEquals(noise, c.nextBinary(), "binary of " + size + " to the client");
            b.send(text);
            assertEquals(text, c.nextText(), "text of " + size + " to the client");
            sendInParts(b.session(), noise);
            assertArrayEquals(noise, c.nextBinary(), "fragmented binary of " + size + " to the client");
            sendTextInParts(b.session(), text);
            assertEquals(text, c.nextText(), "fragmented text of " + size + " to the client");
        }
        assertTrue(c.pending().isEmpty(), c.pending().toString());
        assertTrue(b.pending().isEmpty(), b.pending().toString());
    }

    /** Sends {@code bytes} as a message of three frames (the last may be empty). */
    private static void sendInParts(Session s, byte[] bytes) {
        int third = bytes.length / 3;
        for (int i = 0; i < 3; i++) {
            int from = i * third;
            int to = i == 2 ? bytes.length : from + third;
            CompletableFuture<Void> done = new CompletableFuture<>();
            s.sendPartialBinary(ByteBuffer.wrap(bytes, from, to - from), i == 2,
                    Callback.from(() -> done.complete(null), done::completeExceptionally));
            Await.get(done);
        }
    }

    private static void sendTextInParts(Session s, String text) {
        int half = text.length() / 2;
        List<String> parts = List.of(text.substring(0, half), text.substring(half));
        for (int i = 0; i < 2; i++) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            s.sendPartialText(parts.get(i), i == 1, Callback.from(() -> done.complete(null), done::completeExceptionally));
            Await.get(done);
        }
    }

    @Test
    void compliantClientMessagesWholeAndInParts() throws Exception {
        start();
        compliantClientMessages("/wsapp/parts");
    }

    @Test
    void compliantClientMessagesWholeAndInPartsToACompressingBackend() throws Exception {
        start(Map.of("backendDeflate", "true"));
        compliantClientMessages("/wsapp/parts-both");
    }

    /** A raw client compressing each message afresh: text and binary of every size, whole and in three frames. */
    private void compliantClientMessages(String path) throws Exception {
        try (RawClient.Upgraded c = upgraded(path, true)) {
            Peer b = backend.session();
            Random random = new Random(7692);
            for (int size : SIZES) {
                String text = "wsbridge é ".repeat(size / 11 + 1).substring(0, size);
                byte[] noise = new byte[size];
                random.nextBytes(noise);
                c.send(RawFrames.TEXT, true, 4, deflate(text.getBytes(StandardCharsets.UTF_8)), true);
                assertEquals(text, b.nextText(), "text of " + size);
                c.send(RawFrames.BINARY, true, 4, deflate(noise), true);
                assertArrayEquals(noise, b.nextBinary(), "binary of " + size);
                sendCompressedInParts(c, RawFrames.TEXT, text.getBytes(StandardCharsets.UTF_8));
                assertEquals(text, b.nextText(), "fragmented text of " + size);
                sendCompressedInParts(c, RawFrames.BINARY, noise);
                assertArrayEquals(noise, b.nextBinary(), "fragmented binary of " + size);
            }
            assertTrue(b.pending().isEmpty(), b.pending().toString());
        }
    }

    /** One message compressed afresh, as three frames cut anywhere in its compressed bytes. */
    private static void sendCompressedInParts(RawClient.Upgraded c, int opcode, byte[] message) throws Exception {
        byte[] z = deflate(message);
        int third = z.length / 3;
        c.send(opcode, false, 4, Arrays.copyOfRange(z, 0, third), true);
        c.send(RawFrames.CONTINUATION, false, 0, Arrays.copyOfRange(z, third, 2 * third), true);
        c.send(RawFrames.CONTINUATION, true, 0, Arrays.copyOfRange(z, 2 * third, z.length), true);
    }

    @Test
    void onTheWireTheClientLegIsCompressedAndTheBackendLegPlain() throws Exception {
        start();
        try (RawClient.Upgraded c = RawClient.upgradeTls(container.tlsPort(),
                RawClient.upgrade("/wsapp/wire", "localhost", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"))) {
            assertEquals(101, c.head().status());
            assertEquals("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                    c.head().header("Sec-WebSocket-Extensions"));
            Peer b = backend.session();
            String text = "compress me ".repeat(100);
            c.send(RawFrames.TEXT, true, 4, deflate(text.getBytes(StandardCharsets.UTF_8)), true);
            assertEquals(text, b.nextText());
            b.send(text);
            RawFrames.Frame f = c.readData();
            assertEquals(RawFrames.TEXT, f.opcode());
            assertEquals(4, f.rsv(), "RSV1: compressed");
            assertTrue(f.payload().length < text.length() / 4, f.payload().length + " bytes on the wire");
            assertEquals(text, new String(inflate(f.payload()), StandardCharsets.UTF_8));
            b.send("tiny");
            RawFrames.Frame tiny = c.readData();
            assertEquals(0, tiny.rsv(), "under deflateMinSize: sent as it is");
            assertEquals("tiny", tiny.text());
            c.send(RawFrames.TEXT, true, 0, "plain".getBytes(StandardCharsets.UTF_8), true);
            assertEquals("plain", b.nextText(), "an uncompressed message on a compressed session");
        }
    }

    @Test
    void offerDemandingASmallerServerWindowIsDeclined() throws Exception {
        start();
        RawClient.Head head = RawClient.tls(container.tlsPort(), RawClient.upgrade("/wsapp/window", "localhost",
                "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits"));
        assertEquals(101, head.status());
        assertEquals("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                head.header("Sec-WebSocket-Extensions"), "the second offer");
        RawClient.Head none = RawClient.tls(container.tlsPort(), RawClient.upgrade("/wsapp/window", "localhost",
                "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10",
                "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; client_no_context_takeover"));
        assertEquals(101, none.status());
        assertNull(none.header("Sec-WebSocket-Extensions"), "neither offer is acceptable");
    }

    @Test
    void windowBitsAreAskedOfAClientThatLetsUs() throws Exception {
        start(Map.of("deflateWindowBits", "10"));
        RawClient.Head head = RawClient.tls(container.tlsPort(), RawClient.upgrade("/wsapp/bits", "localhost",
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"));
        assertEquals("permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=10",
                head.header("Sec-WebSocket-Extensions"));
    }

    @Test
    void messageInflatingToAGibibyteGets1009WithFlatHeap() throws Exception {
        start(Map.of("maxClientMessageSize", "4MiB"));
        byte[] bomb = zerosCompressed(1L << 30);
        assertTrue(bomb.length < 2 << 20, bomb.length + " compressed bytes");
        System.gc();
        long before = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        AtomicLong peak = new AtomicLong();
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "heap-sampler");
        sampler.start();
        try (RawClient.Upgraded c = RawClient.upgradeTls(container.tlsPort(),
                RawClient.upgrade("/wsapp/bomb", "localhost", "Sec-WebSocket-Extensions: permessage-deflate"))) {
            c.socket().setSoTimeout(20_000);
            Peer b = backend.session();
            Thread writer = new Thread(() -> {
                try {
                    c.send(RawFrames.BINARY, true, 4, bomb, true);
                } catch (IOException closedUnderIt) {
                    // The bridge closed the connection before all of it was written.
                }
            }, "bomb-writer");
            writer.start();
            RawFrames.Frame f = c.readData();
            assertEquals(RawFrames.CLOSE, f.opcode());
            assertEquals(1009, f.closeCode());
            assertEquals(1001, b.closed().code());
            writer.join(20_000);
        } finally {
            sampler.interrupt();
            sampler.join();
        }
        long grown = peak.get() - before;
        assertTrue(grown < 512L << 20, "heap grew by " + (grown >> 20) + " MiB");
    }

    @Test
    void rsv1WhereItMayNotBeIs1002() throws Exception {
        start();
        byte[] hello = deflate("hello".getBytes(StandardCharsets.UTF_8));
        // On a continuation frame.
        try (RawClient.Upgraded c = upgraded("/wsapp/rsv-cont", true)) {
            c.send(RawFrames.TEXT, false, 4, hello, true);
            c.send(RawFrames.CONTINUATION, true, 4, new byte[0], true);
            assertEquals(1002, closeCode(c));
        }
        // On a control frame.
        try (RawClient.Upgraded c = upgraded("/wsapp/rsv-ping", true)) {
            c.send(RawFrames.PING, true, 4, new byte[0], true);
            assertEquals(1002, closeCode(c));
        }
        // Without the extension.
        try (RawClient.Upgraded c = upgraded("/wsapp/rsv-none", false)) {
            c.send(RawFrames.TEXT, true, 4, hello, true);
            assertEquals(1002, closeCode(c));
        }
        // RSV2 even with it.
        try (RawClient.Upgraded c = upgraded("/wsapp/rsv2", true)) {
            c.send(RawFrames.TEXT, true, 2, hello, true);
            assertEquals(1002, closeCode(c));
        }
    }

    @Test
    void invalidUtf8InsideCompressedTextIs1007() throws Exception {
        start();
        try (RawClient.Upgraded c = upgraded("/wsapp/utf8", true)) {
            Peer b = backend.session();
            c.send(RawFrames.TEXT, true, 4, deflate(new byte[] {'o', 'k', (byte) 0xC0, (byte) 0xAF}), true);
            assertEquals(1007, closeCode(c));
            assertEquals(1001, b.closed().code());
        }
        try (RawClient.Upgraded c = upgraded("/wsapp/not-deflate", true)) {
            c.send(RawFrames.BINARY, true, 4, new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, true);
            assertEquals(1007, closeCode(c));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "clientDeflate          | yes",
        "backendDeflate         | on",
        "deflateContextTakeover | 1",
        "deflateWindowBits      | 16",
        "deflateWindowBits      | 7",
        "deflateMinSize         | -1",
    })
    void badDeflateParamStopsTheDeploymentNamingIt(String name, String value) throws Exception {
        try (LogCapture log = new LogCapture("dev.wsbridge.server.RouteCheck")) {
            start(Map.of(name, value));

            assertFalse(container.deployed());
            assertTrue(log.has(Level.SEVERE, "init-param [" + name + "] has value [" + value + "]; expected"),
                    log.lines().toString());
        }
    }

    private RawClient.Upgraded upgraded(String path, boolean offer) throws Exception {
        RawClient.Upgraded c = RawClient.upgradeTls(container.tlsPort(), offer
                ? RawClient.upgrade(path, "localhost", "Sec-WebSocket-Extensions: permessage-deflate")
                : RawClient.upgrade(path, "localhost"));
        assertEquals(101, c.head().status());
        c.socket().setSoTimeout(10_000);
        return c;
    }

    private static int closeCode(RawClient.Upgraded c) throws Exception {
        RawFrames.Frame f = c.readData();
        assertEquals(RawFrames.CLOSE, f.opcode(), "a close frame");
        return f.closeCode();
    }

    /** A whole message compressed as RFC 7692 §7.2.1 says: sync flush, its 00 00 FF FF dropped. */
    private static byte[] deflate(byte[] message) {
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        d.setInput(message);
        byte[] out = new byte[message.length + message.length / 16 + 64];
        int n = d.deflate(out, 0, out.length, Deflater.SYNC_FLUSH);
        d.end();
        return Arrays.copyOf(out, n - 4);
    }

    private static byte[] inflate(byte[] payload) throws Exception {
        byte[] whole = Arrays.copyOf(payload, payload.length + 4);
        whole[whole.length - 2] = (byte) 0xFF;
        whole[whole.length - 1] = (byte) 0xFF;
        Inflater i = new Inflater(true);
        i.setInput(whole);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = i.inflate(buf)) > 0) {
            out.write(buf, 0, n);
        }
        i.end();
        return out.toByteArray();
    }

    /** {@code size} zero bytes compressed as one message. */
    private static byte[] zerosCompressed(long size) {
        Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
        byte[] zeros = new byte[1 << 20];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        for (long done = 0; done < size; done += zeros.length) {
            d.setInput(zeros);
            while (!d.needsInput()) {
                out.write(buf, 0, d.deflate(buf, 0, buf.length, Deflater.NO_FLUSH));
            }
        }
        int n;
        while ((n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH)) == buf.length) {
            out.write(buf, 0, n);
        }
        out.write(buf, 0, n);
        d.end();
        byte[] all = out.toByteArray();
        return Arrays.copyOf(all, all.length - 4);
    }
}
