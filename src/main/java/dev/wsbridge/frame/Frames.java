package dev.wsbridge.frame;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** RFC 6455 §5.2 constants, the header of a frame a server sends, and close payloads (§5.5.1, §7.4). */
public final class Frames {

    public static final byte CONTINUATION = 0x0;
    public static final byte TEXT = 0x1;
    public static final byte BINARY = 0x2;
    public static final byte CLOSE = 0x8;
    public static final byte PING = 0x9;
    public static final byte PONG = 0xA;

    /** The first header byte's RSV1 bit: with permessage-deflate, a compressed message (RFC 7692 §6). */
    public static final int RSV1 = 0x40;

    /** Longest header: 2 bytes, 8 of extended length, 4 of mask. */
    public static final int MAX_HEADER = 14;
    /** §5.5: a control frame's payload is at most 125 bytes. */
    public static final int MAX_CONTROL_PAYLOAD = 125;

    /** The payload of the bridge's own keep-alive pings, told apart from a peer's when pings are forwarded. */
    public static final byte[] KEEP_ALIVE = {'w', 's', 'b'};
    public static final int NORMAL = 1000;
    public static final int GOING_AWAY = 1001;
    public static final int PROTOCOL_ERROR = 1002;
    public static final int NO_CODE = 1005;
    public static final int NO_CLOSE = 1006;
    public static final int BAD_DATA = 1007;
    public static final int POLICY_VIOLATION = 1008;
    public static final int MESSAGE_TOO_BIG = 1009;
    public static final int BAD_GATEWAY = 1014;

    private Frames() {
    }

    public static boolean isControl(int opcode) {
        return (opcode & 0x8) != 0;
    }

    /**
     * Writes an unmasked frame header (server to client) into {@code header} from 0; {@code opcode} may carry
     * {@link #RSV1}.
     *
     * @return the header's length
     */
    public static int header(byte[] header, int opcode, boolean fin, long length) {
        header[0] = (byte) ((fin ? 0x80 : 0) | opcode);
        if (length < 126) {
            header[1] = (byte) length;
            return 2;
        }
        if (length <= 0xFFFF) {
            header[1] = 126;
            header[2] = (byte) (length >>> 8);
            header[3] = (byte) length;
            return 4;
        }
        header[1] = 127;
        for (int i = 0; i < 8; i++) {
            header[2 + i] = (byte) (length >>> (56 - 8 * i));
        }
        return 10;
    }

    /** §7.4.1/§7.4.2: whether {@code code} may appear in a close frame on the wire. */
    public static boolean isValidCloseCode(int code) {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }

    /**
     * The payload of a close frame: empty for {@link #NO_CODE}, else the code and the reason cut to 123
     * bytes of UTF-8 without splitting a character.
     */
    public static byte[] closePayload(int code, String reason) {
        if (code == NO_CODE) {
            return new byte[0];
        }
        byte[] text = reason == null ? new byte[0] : reason.getBytes(StandardCharsets.UTF_8);
        int len = Math.min(text.length, MAX_CONTROL_PAYLOAD - 2);
        while (len < text.length && len > 0 && (text[len] & 0xC0) == 0x80) {
            len--;
        }
        byte[] payload = new byte[2 + len];
        payload[0] = (byte) (code >>> 8);
        payload[1] = (byte) code;
        System.arraycopy(text, 0, payload, 2, len);
        return payload;
    }

    /** A close frame's code and reason, read and checked. */
    public record Close(int code, String reason) {
    }

    /**
     * Reads a close frame's payload (§5.5.1): none is {@link #NO_CODE}; one byte, a code that may not be
     * sent, or a reason that is not UTF-8 is a protocol error.
     */
    public static Close readClose(ByteBuffer payload) throws ProtocolException {
        int n = payload.remaining();
        if (n == 0) {
            return new Close(NO_CODE, "");
        }
        if (n == 1) {
            throw new ProtocolException(PROTOCOL_ERROR, "Close frame with a one-byte payload");
        }
        int p = payload.position();
        int code = ((payload.get(p) & 0xFF) << 8) | (payload.get(p + 1) & 0xFF);
        if (!isValidCloseCode(code)) {
            throw new ProtocolException(PROTOCOL_ERROR, "Invalid close code " + code);
        }
        ByteBuffer reason = payload.duplicate();
        reason.position(p + 2);
        Utf8Validator utf8 = new Utf8Validator();
        if (!utf8.accept(reason) || !utf8.isComplete()) {
            throw new ProtocolException(BAD_DATA, "Close reason is not UTF-8");
        }
        return new Close(code, StandardCharsets.UTF_8.decode(reason).toString());
    }
}
