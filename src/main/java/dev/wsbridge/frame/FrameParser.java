package dev.wsbridge.frame;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads the frames a WebSocket client sends (RFC 6455 §5), as bytes arrive, in any split: a data frame's
 * payload is handed on piece by piece, unmasked in place in the caller's buffer, so no frame is ever held
 * whole; a control frame (at most 125 bytes) is gathered and handed on whole. Every rule of §5 a client
 * can break is checked as soon as the bytes that break it arrive: masking, reserved bits and opcodes,
 * control frame length and fragmentation, continuation order, 63-bit lengths.
 *
 * <p>With permessage-deflate negotiated ({@link #allowCompression()}), RSV1 marks a compressed message
 * (RFC 7692 §6): it is allowed on the first frame of a data message only, never on a continuation or control
 * frame (§6.1); {@link #compressed()} tells the sink whether the message it is handed is compressed.
 */
public final class FrameParser {

    /** Where parsed frames go; each method returns false to stop parsing (the session is ending). */
    public interface Sink {

        /**
         * A piece of a data message's payload, in the caller's buffer; valid until the caller reuses it.
         *
         * @param text       whether the message is text
         * @param messageEnd whether this piece ends the message
         */
        boolean data(boolean text, ByteBuffer piece, boolean messageEnd) throws ProtocolException;

        /** A whole control frame: {@link Frames#PING}, {@link Frames#PONG} or {@link Frames#CLOSE}. */
        boolean control(byte opcode, ByteBuffer payload) throws ProtocolException;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private final byte[] header = new byte[Frames.MAX_HEADER];
    private int headerLength;
    private boolean inPayload;
    private byte opcode;
    private boolean fin;
    private long remaining;
    private int maskKey;
    private int maskPosition;
    /** Opcode of the data message in progress, 0 when none. */
    private byte messageOpcode;
    private byte[] control;
    private int controlLength;
    /** permessage-deflate was negotiated: RSV1 may mark a message compressed. */
    private boolean compression;
    /** Whether the data message in progress (or the one that just ended) is compressed. */
    private boolean compressed;

    /** permessage-deflate was negotiated: from now on RSV1 on a message's first frame means compressed. */
    public void allowCompression() {
        compression = true;
    }

    /** Whether the data message whose piece the sink is handed is compressed (RFC 7692 §6). */
    public boolean compressed() {
        return compressed;
    }

    /**
     * Parses {@code len} bytes of {@code buf} from {@code off}, unmasking data payloads in place.
     *
     * @return false if the sink asked to stop
     * @throws ProtocolException at the first byte that breaks RFC 6455
     */
    public boolean parse(byte[] buf, int off, int len, Sink sink) throws ProtocolException {
        int i = off;
        int end = off + len;
        while (true) {
            if (!inPayload) {
                while (i < end && !headerComplete()) {
                    header[headerLength++] = buf[i++];
                }
                if (!headerComplete()) {
                    return true;
                }
                startFrame();
                if (remaining == 0 && !endOfFrame(sink, buf, i, 0)) {
                    return false;
                }
                continue;
            }
            if (i == end) {
                return true;
            }
            int n = (int) Math.min(remaining, end - i);
            unmask(buf, i, n);
            remaining -= n;
            if (Frames.isControl(opcode)) {
                System.arraycopy(buf, i, control, controlLength, n);
                controlLength += n;
                if (remaining == 0 && !endOfFrame(sink, buf, i, n)) {
                    return false;
                }
            } else if (remaining == 0) {
                if (!endOfFrame(sink, buf, i, n)) {
                    return false;
                }
            } else if (!sink.data(messageOpcode == Frames.TEXT, ByteBuffer.wrap(buf, i, n), false)) {
                return false;
            }
            i += n;
        }
    }

    /** Whether the header bytes so far make a whole header (§5.2). */
    private boolean headerComplete() {
        if (headerLength < 2) {
            return false;
        }
        int len7 = header[1] & 0x7F;
        int need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((header[1] & 0x80) != 0 ? 4 : 0);
        return headerLength >= need;
    }

    private void startFrame() throws ProtocolException {
        int b0 = header[0] & 0xFF;
        int b1 = header[1] & 0xFF;
        fin = (b0 & 0x80) != 0;
        opcode = (byte) (b0 & 0x0F);
        int rsv = b0 & 0x70;
        if (rsv != 0 && (rsv != Frames.RSV1 || !compression || (opcode != Frames.TEXT && opcode != Frames.BINARY))) {
            throw new ProtocolException(Frames.PROTOCOL_ERROR, compression && rsv == Frames.RSV1
                    ? "RSV1 set on a continuation or control frame" : "Reserved bits set without an extension");
        }
        if ((b1 & 0x80) == 0) {
            throw new ProtocolException(Frames.PROTOCOL_ERROR, "Client frame not masked");
        }
        int len7 = b1 & 0x7F;
        int p = 2;
        long length;
        if (len7 == 126) {
            length = ((header[2] & 0xFF) << 8) | (header[3] & 0xFF);
            p = 4;
        } else if (len7 == 127) {
            length = 0;
            for (int k = 0; k < 8; k++) {
                length = (length << 8) | (header[2 + k] & 0xFF);
            }
            if (length < 0) {
                throw new ProtocolException(Frames.PROTOCOL_ERROR, "Frame length over 63 bits");
            }
            p = 10;
        } else {
            length = len7;
        }
        maskKey = ((header[p] & 0xFF) << 24) | ((header[p + 1] & 0xFF) << 16) | ((header[p + 2] & 0xFF) << 8)
                | (header[p + 3] & 0xFF);
        switch (opcode) {
            case Frames.CLOSE, Frames.PING, Frames.PONG -> {
                if (!fin) {
                    throw new ProtocolException(Frames.PROTOCOL_ERROR, "Fragmented control frame");
                }
                if (length > Frames.MAX_CONTROL_PAYLOAD) {
                    throw new ProtocolException(Frames.PROTOCOL_ERROR, "Control frame payload over 125 bytes");
                }
                if (control == null) {
                    control = new byte[Frames.MAX_CONTROL_PAYLOAD];
                }
                controlLength = 0;
            }
            case Frames.TEXT, Frames.BINARY -> {
                if (messageOpcode != 0) {
                    throw new ProtocolException(Frames.PROTOCOL_ERROR, "New message before the last one ended");
                }
                messageOpcode = opcode;
                compressed = rsv != 0;
            }
            case Frames.CONTINUATION -> {
                if (messageOpcode == 0) {
                    throw new ProtocolException(Frames.PROTOCOL_ERROR, "Continuation frame without a message");
                }
            }
            default -> throw new ProtocolException(Frames.PROTOCOL_ERROR, "Reserved opcode " + opcode);
        }
        remaining = length;
        maskPosition = 0;
        headerLength = 0;
        inPayload = true;
    }

    /** The frame's last bytes ({@code n} at {@code at}) have arrived. */
    private boolean endOfFrame(Sink sink, byte[] buf, int at, int n) throws ProtocolException {
        inPayload = false;
        if (Frames.isControl(opcode)) {
            return sink.control(opcode, ByteBuffer.wrap(control, 0, controlLength));
        }
        boolean text = messageOpcode == Frames.TEXT;
        if (fin) {
            messageOpcode = 0;
        } else if (n == 0) {
            // An empty fragment that does not end its message carries nothing to forward.
            return true;
        }
        return sink.data(text, ByteBuffer.wrap(buf, at, n), fin);
    }

    /** §5.3: XORs {@code len} bytes with the mask key, continuing from where the frame's last piece ended. */
    private void unmask(byte[] b, int off, int len) {
        int key = Integer.rotateLeft(maskKey, 8 * (maskPosition & 3));
        long wide = ((long) key << 32) | (key & 0xFFFFFFFFL);
        int i = off;
        int end = off + len;
        for (; i + 8 <= end; i += 8) {
            LONGS.set(b, i, (long) LONGS.get(b, i) ^ wide);
        }
        for (int k = 0; i < end; i++, k++) {
            b[i] ^= (byte) (key >>> (24 - 8 * (k & 3)));
        }
        maskPosition += len;
    }

    /** Whether a data message has started and not ended: a drain waits for its end. */
    public boolean midMessage() {
        return messageOpcode != 0;
    }

    @Override
    public String toString() {
        return "FrameParser[opcode=" + opcode + ", remaining=" + remaining + ", message=" + messageOpcode + "]";
    }
}
