package dev.wsbridge.bench;

import java.nio.ByteBuffer;
import java.util.Random;

/**
 * Messages of one size that can be checked on arrival: bytes 0-7 hold the connection id, 8-15 the sequence
 * number, the last 8 its complement, and the rest a fixed pattern: random bytes, or for compression runs
 * JSON-like text that compresses as real application messages do. A lost, duplicated, reordered, cut or
 * altered message fails {@link #check}.
 */
final class Payloads {

    private static final int HEADER = 16;
    private static final int TRAILER = 8;

    private final int size;
    private final byte[] pattern;

    Payloads(int size) {
        this(size, false);
    }

    /** @param compressible the pattern is JSON-like text rather than random bytes */
    Payloads(int size, boolean compressible) {
        if (size < HEADER + TRAILER) {
            throw new IllegalArgumentException("message size [" + size + "]; expected at least " + (HEADER + TRAILER));
        }
        this.size = size;
        this.pattern = new byte[size];
        Random random = new Random(size);
        if (compressible) {
            StringBuilder text = new StringBuilder(size + 64);
            while (text.length() < size) {
                text.append("{\"id\":").append(random.nextInt(100_000)).append(",\"user\":\"user")
                        .append(random.nextInt(50)).append("\",\"text\":\"hello there\",\"ok\":true}");
            }
            System.arraycopy(text.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, pattern, 0, size);
        } else {
            random.nextBytes(pattern);
        }
    }

    int size() {
        return size;
    }

    ByteBuffer message(long connection, long seq) {
        ByteBuffer b = ByteBuffer.wrap(pattern.clone());
        b.putLong(0, connection).putLong(8, seq).putLong(size - TRAILER, ~seq);
        return b;
    }

    /** {@code null} when {@code payload} is message {@code seq} of {@code connection}, else what is wrong. */
    String check(ByteBuffer payload, long connection, long seq) {
        int at = payload.position();
        if (payload.remaining() != size) {
            return "length [" + payload.remaining() + "], expected [" + size + "]";
        }
        long gotConnection = payload.getLong(at);
        long gotSeq = payload.getLong(at + 8);
        if (gotConnection != connection || gotSeq != seq) {
            return "got message [" + gotConnection + "/" + gotSeq + "] where [" + connection + "/" + seq
                    + "] was due (lost, duplicated, reordered or crossed)";
        }
        if (payload.getLong(at + size - TRAILER) != ~seq) {
            return "last 8 bytes altered";
        }
        int body = size - HEADER - TRAILER;
        int mismatch = payload.slice(at + HEADER, body).mismatch(ByteBuffer.wrap(pattern, HEADER, body));
        return mismatch < 0 ? null : "content differs at byte [" + (HEADER + mismatch) + "]";
    }
}
