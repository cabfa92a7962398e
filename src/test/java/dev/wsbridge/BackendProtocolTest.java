package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Peer;
import dev.wsbridge.support.RawFrameBackend;
import dev.wsbridge.support.RawFrames;
import dev.wsbridge.support.RawFrames.Frame;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bridge's backend leg against a backend that speaks raw frames: what the bridge's client sees for
 * each legal and illegal thing a backend can send, and what the backend gets back.
 */
class BackendProtocolTest extends ContainerSuite {

    private RawFrameBackend raw;
    private Peer clientPeer;
    private RawFrameBackend.Connection conn;

    private void open(Map<String, String> params) throws Exception {
        raw = new RawFrameBackend();
        Map<String, String> p = new HashMap<>(params);
        p.put("proxyTo", raw.uri().toString());
        start(p);
        clientPeer = client.connect(container.wss("/wsapp/raw"));
        conn = raw.connection();
    }

    private void open() throws Exception {
        open(Map.of());
    }

    @AfterEach
    void closeRaw() throws Exception {
        if (raw != null) {
            raw.close();
        }
    }

    /** The backend violated the protocol: the client gets 1014, the backend the code its violation earns. */
    private void assertBackendFailedWith(int backendCode) throws Exception {
        assertEquals(1014, clientPeer.closed().code());
        Frame close = conn.readSkippingPongs();
        assertEquals(RawFrames.CLOSE, close.opcode());
        assertEquals(backendCode, close.closeCode());
        assertTrue(clientPeer.pending().isEmpty(), "no message may reach the client: " + clientPeer.pending());
    }

    @Test
    void fragmentedTextWithInterleavedPingsArrivesWhole() throws Exception {
        open();
        conn.send(RawFrames.TEXT, false, 0, "Hel".getBytes(StandardCharsets.UTF_8));
        conn.send(RawFrames.PING, true, 0, "p1".getBytes(StandardCharsets.UTF_8));
        conn.send(RawFrames.CONTINUATION, false, 0, "lo w".getBytes(StandardCharsets.UTF_8));
        conn.send(RawFrames.PING, true, 0, "p2".getBytes(StandardCharsets.UTF_8));
        byte[] rest = "örld".getBytes(StandardCharsets.UTF_8);
        // split inside the two-byte ö: the bridge must not corrupt a character cut across frames
        conn.send(RawFrames.CONTINUATION, false, 0, new byte[] {rest[0]});
        conn.send(RawFrames.CONTINUATION, true, 0, java.util.Arrays.copyOfRange(rest, 1, rest.length));
        assertEquals("Hello wörld", clientPeer.nextText());
        Frame pong1 = conn.read();
        Frame pong2 = conn.read();
        assertEquals(RawFrames.PONG, pong1.opcode());
        assertEquals("p1", pong1.text());
        assertEquals("p2", pong2.text());
        assertTrue(clientPeer.pending().isEmpty());
    }

    @Test
    void fragmentedBinaryArrivesWhole() throws Exception {
        open();
        conn.send(RawFrames.BINARY, false, 0, new byte[] {1, 2});
        conn.send(RawFrames.PING, true, 0, new byte[0]);
        conn.send(RawFrames.CONTINUATION, false, 0, new byte[0]);
        conn.send(RawFrames.CONTINUATION, true, 0, new byte[] {3});
        assertArrayEquals(new byte[] {1, 2, 3}, clientPeer.nextBinary());
    }

    @Test
    void clientMessagesReachTheBackendMaskedAndWhole() throws Exception {
        open();
        clientPeer.send("to the backend");
        Frame f = conn.readSkippingPongs();
        StringBuilder text = new StringBuilder(f.text());
        assertEquals(RawFrames.TEXT, f.opcode());
        while (!f.fin()) {
            f = conn.readSkippingPongs();
            assertEquals(RawFrames.CONTINUATION, f.opcode());
            text.append(f.text());
        }
        assertEquals("to the backend", text.toString());
    }

    @ParameterizedTest
    @ValueSource(ints = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999})
    void everyValidCloseCodeReachesTheClient(int code) throws Exception {
        open();
        conn.send(RawFrames.CLOSE, true, 0, RawFrames.close(code, "why " + code));
        assertEquals(new Peer.Closed(code, "why " + code), clientPeer.closed());
        Frame reply = conn.readSkippingPongs();
        assertEquals(RawFrames.CLOSE, reply.opcode());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
    void invalidCloseCodeIs1014ToTheClientAnd1002ToTheBackend(int code) throws Exception {
        open();
        conn.send(RawFrames.CLOSE, true, 0, RawFrames.close(code, ""));
        assertBackendFailedWith(1002);
    }

    @Test
    void closeWithOneBytePayloadIsAProtocolError() throws Exception {
        open();
        conn.send(RawFrames.CLOSE, true, 0, new byte[] {3});
        assertBackendFailedWith(1002);
    }

    @Test
    void invalidUtf8IsRefusedWith1007() throws Exception {
        open();
        conn.send(RawFrames.TEXT, true, 0, new byte[] {'o', 'k', (byte) 0xC3, 0x28});
        assertBackendFailedWith(1007);
    }

    @Test
    void invalidUtf8InALaterFragmentIsRefusedWith1007() throws Exception {
        open();
        conn.send(RawFrames.TEXT, false, 0, "fine".getBytes(StandardCharsets.UTF_8));
        conn.send(RawFrames.CONTINUATION, true, 0, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80});
        assertEquals(1014, clientPeer.closed().code());
        assertEquals(1007, conn.readSkippingPongs().closeCode());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void reservedBitsAreAProtocolError(int rsv) throws Exception {
        open();
        conn.send(RawFrames.TEXT, true, rsv, "x".getBytes(StandardCharsets.UTF_8));
        assertBackendFailedWith(1002);
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 7, 0xB, 0xF})
    void reservedOpcodesAreAProtocolError(int opcode) throws Exception {
        open();
        conn.send(opcode, true, 0, new byte[0]);
        assertBackendFailedWith(1002);
    }

    @Test
    void continuationWithoutAStartIsAProtocolError() throws Exception {
        open();
        conn.send(RawFrames.CONTINUATION, true, 0, "x".getBytes(StandardCharsets.UTF_8));
        assertBackendFailedWith(1002);
    }

    @Test
    void controlFrameOver125BytesIsAProtocolError() throws Exception {
        open();
        conn.send(RawFrames.PING, true, 0, new byte[126]);
        assertBackendFailedWith(1002);
    }

    @Test
    void fragmentedControlFrameIsAProtocolError() throws Exception {
        open();
        conn.send(RawFrames.PING, false, 0, new byte[1]);
        assertBackendFailedWith(1002);
    }

    @Test
    void messageOverTheLimitIs1009ToTheBackend() throws Exception {
        open(Map.of("maxMessageSize", "1KiB"));
        conn.send(RawFrames.BINARY, false, 0, new byte[600]);
        conn.send(RawFrames.CONTINUATION, true, 0, new byte[600]);
        assertBackendFailedWith(1009);
    }

    @Test
    void tcpResetMidMessageIs1014AndNoHalfMessage() throws Exception {
        open();
        conn.send(RawFrames.TEXT, false, 0, "half a mess".getBytes(StandardCharsets.UTF_8));
        conn.reset();
        assertEquals(1014, clientPeer.closed().code());
        assertTrue(clientPeer.pending().isEmpty());
    }

    @Test
    void cleanFinWithoutCloseIs1014() throws Exception {
        open();
        conn.sendText("last words");
        assertEquals("last words", clientPeer.nextText());
        conn.close();
        assertEquals(1014, clientPeer.closed().code());
    }

    @Test
    void silentBackendIsClosedByTheIdleTimeout() throws Exception {
        open(Map.of("idleTimeout", "1s"));
        assertEquals(1001, clientPeer.closed().code());
        Frame close = conn.readSkippingPongs();
        assertEquals(RawFrames.CLOSE, close.opcode());
        assertEquals(1001, close.closeCode());
    }
}
