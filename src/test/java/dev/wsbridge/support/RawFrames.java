package dev.wsbridge.support;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/** RFC 6455 §5.2 frames, written and read byte by byte, for peers that misbehave on purpose. */
public final class RawFrames {

    public static final int CONTINUATION = 0x0;
    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CLOSE = 0x8;
    public static final int PING = 0x9;
    public static final int PONG = 0xA;

    /** A frame as read from the wire, unmasked. */
    public record Frame(int opcode, boolean fin, int rsv, byte[] payload) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The close code of a close frame, or 1005 for an empty one. */
        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : 1005;
        }
    }

    private RawFrames() {
    }

    /** Encodes one frame; {@code masked} as a client must, unmasked as a server must. */
    public static byte[] encode(int opcode, boolean fin, int rsv, byte[] payload, boolean masked) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 14);
        out.write((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xF));
        int maskBit = masked ? 0x80 : 0;
        if (payload.length < 126) {
            out.write(maskBit | payload.length);
        } else if (payload.length < 65536) {
            out.write(maskBit | 126);
            out.write(payload.length >>> 8);
            out.write(payload.length & 0xFF);
        } else {
            out.write(maskBit | 127);
            out.writeBytes(ByteBuffer.allocate(8).putLong(payload.length).array());
        }
        if (masked) {
            byte[] key = new byte[4];
            ThreadLocalRandom.current().nextBytes(key);
            out.writeBytes(key);
            byte[] m = payload.clone();
            for (int i = 0; i < m.length; i++) {
                m[i] ^= key[i & 3];
            }
            out.writeBytes(m);
        } else {
            out.writeBytes(payload);
        }
        return out.toByteArray();
    }

    /** A close payload: code and UTF-8 reason. */
    public static byte[] close(int code, String reason) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + r.length).putShort((short) code).put(r).array();
    }

    /** Reads one frame, unmasking it if masked. */
    public static Frame read(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int b0 = d.readUnsignedByte();
        int b1 = d.readUnsignedByte();
        long len = b1 & 0x7F;
        if (len == 126) {
            len = d.readUnsignedShort();
        } else if (len == 127) {
            len = d.readLong();
        }
        byte[] key = null;
        if ((b1 & 0x80) != 0) {
            key = new byte[4];
            d.readFully(key);
        }
        byte[] payload = new byte[(int) len];
        d.readFully(payload);
        if (key != null) {
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= key[i & 3];
            }
        }
        return new Frame(b0 & 0xF, (b0 & 0x80) != 0, (b0 >> 4) & 0x7, payload);
    }
}
