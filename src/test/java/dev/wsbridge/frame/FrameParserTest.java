package dev.wsbridge.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Client frames as they arrive in any split: payloads unmasked and handed on in order, each violation refused. */
class FrameParserTest {

    /** A masked frame as a client sends it. */
    private static byte[] frame(int b0, byte[] payload, int key) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(b0);
        int n = payload.length;
        if (n < 126) {
            out.write(0x80 | n);
        } else if (n <= 0xFFFF) {
            out.write(0x80 | 126);
            out.write(n >>> 8);
            out.write(n);
        } else {
            out.write(0x80 | 127);
            for (int i = 7; i >= 0; i--) {
                out.write((int) ((long) n >>> (8 * i)));
            }
        }
        byte[] mask = ByteBuffer.allocate(4).putInt(key).array();
        out.writeBytes(mask);
        for (int i = 0; i < n; i++) {
            out.write(payload[i] ^ mask[i & 3]);
        }
        return out.toByteArray();
    }

    private static final class Collected implements FrameParser.Sink {
        final ByteArrayOutputStream data = new ByteArrayOutputStream();
        final List<String> events = new ArrayList<>();

        @Override
        public boolean data(boolean text, ByteBuffer piece, boolean messageEnd) {
            byte[] b = new byte[piece.remaining()];
            piece.get(b);
            data.writeBytes(b);
            if (messageEnd) {
                events.add((text ? "text " : "binary ") + data.size());
            }
            return true;
        }

        @Override
        public boolean control(byte opcode, ByteBuffer payload) {
            events.add("control " + opcode + " " + payload.remaining());
            return true;
        }
    }

    @Test
    void everySplitGivesTheSamePayloadsAndEvents() throws Exception {
        SplittableRandom random = new SplittableRandom(3);
        byte[] big = new byte[70_000];
        random.nextBytes(big);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.writeBytes(frame(0x82, big, 0x11223344));
        wire.writeBytes(frame(0x01, "he".getBytes(), 0x0A0B0C0D));
        wire.writeBytes(frame(0x89, new byte[] {1, 2, 3}, 7));
        wire.writeBytes(frame(0x80, "llo".getBytes(), 0x7F00FF01));
        wire.writeBytes(frame(0x82, new byte[300], 1));
        byte[] bytes = wire.toByteArray();
        for (int run = 0; run < 200; run++) {
            byte[] copy = bytes.clone();
            FrameParser parser = new FrameParser();
            Collected sink = new Collected();
            for (int i = 0; i < copy.length; ) {
                int n = Math.min(copy.length - i, run == 0 ? 1 : 1 + random.nextInt(20_000));
                parser.parse(copy, i, n, sink);
                i += n;
            }
            byte[] all = sink.data.toByteArray();
            assertArrayEquals(big, java.util.Arrays.copyOfRange(all, 0, big.length));
            assertEquals("hello", new String(all, big.length, 5));
            assertEquals(List.of("binary 70000", "control 9 3", "text 70005", "binary 70305"), sink.events);
        }
    }

    @Test
    void violationsAreRefusedWithTheirCode() {
        byte[] x = {'x'};
        assertEquals(1002, refusal(frame(0xC1, x, 1)));                     // RSV1 without an extension
        assertEquals(1002, refusal(new byte[] {(byte) 0x81, 0x01, 'x'}));  // unmasked
        assertEquals(1002, refusal(frame(0x83, x, 1)));                     // reserved opcode
        assertEquals(1002, refusal(frame(0x80, x, 1)));                     // continuation without a message
        assertEquals(1002, refusal(frame(0x09, x, 1)));                     // fragmented ping
        assertEquals(1002, refusal(frame(0x89, new byte[126], 1)));         // ping over 125 bytes
        byte[] twoStarts = concat(frame(0x01, x, 1), frame(0x81, x, 1));           // a text frame inside a text message
        assertEquals(1002, refusal(twoStarts));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static int refusal(byte[] bytes) {
        return assertThrows(ProtocolException.class, () -> new FrameParser().parse(bytes, 0, bytes.length, new Collected()))
                .code();
    }

    @Test
    void closePayloadsAreChecked() throws Exception {
        assertEquals(new Frames.Close(1005, ""), Frames.readClose(ByteBuffer.allocate(0)));
        assertEquals(new Frames.Close(4000, "bye"), Frames.readClose(ByteBuffer.wrap(new byte[] {0x0F, (byte) 0xA0, 'b', 'y', 'e'})));
        assertEquals(1002, assertThrows(ProtocolException.class, () -> Frames.readClose(ByteBuffer.wrap(new byte[] {3}))).code());
        assertEquals(1002, assertThrows(ProtocolException.class,
                () -> Frames.readClose(ByteBuffer.wrap(new byte[] {0x03, (byte) 0xED}))).code()); // 1005 may not be sent
        assertEquals(1007, assertThrows(ProtocolException.class,
                () -> Frames.readClose(ByteBuffer.wrap(new byte[] {0x03, (byte) 0xE8, (byte) 0xC3, 0x28}))).code());
        byte[] cut = Frames.closePayload(1000, "é".repeat(100));
        assertEquals(2 + 122, cut.length); // 123 bytes would split a two-byte character
    }
}
