package dev.wsbridge.frame;

import java.nio.ByteBuffer;

/**
 * Streaming UTF-8 validation across the fragments of one text message (RFC 6455 §8.1, RFC 3629 §4): it
 * fails on the first byte that can never start or continue a valid sequence, so an invalid message is
 * refused before any later fragment is read (fail-fast). Overlong forms, surrogates and code points past
 * U+10FFFF are refused by narrowing the range of the first continuation byte.
 */
public final class Utf8Validator {

    /** Continuation bytes still owed by the sequence in progress. */
    private int needed;
    /** Range the next continuation byte must fall in. */
    private int lower = 0x80;
    private int upper = 0xBF;

    /** Accepts {@code len} bytes of {@code bytes} from {@code off}; false at the first invalid byte. */
    public boolean accept(byte[] bytes, int off, int len) {
        int end = off + len;
        int i = off;
        if (needed == 0) {
            while (i < end && bytes[i] >= 0) {
                i++;
            }
        }
        for (; i < end; i++) {
            if (!step(bytes[i] & 0xFF)) {
                return false;
            }
        }
        return true;
    }

    /** Accepts the remaining bytes of {@code buffer} without moving its position. */
    public boolean accept(ByteBuffer buffer) {
        if (buffer.hasArray()) {
            return accept(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.remaining());
        }
        for (int i = buffer.position(), end = buffer.limit(); i < end; i++) {
            if (!step(buffer.get(i) & 0xFF)) {
                return false;
            }
        }
        return true;
    }

    private boolean step(int b) {
        if (needed == 0) {
            if (b < 0x80) {
                return true;
            }
            if (b >= 0xC2 && b <= 0xDF) {
                needed = 1;
            } else if (b >= 0xE0 && b <= 0xEF) {
                needed = 2;
                if (b == 0xE0) {
                    lower = 0xA0;
                } else if (b == 0xED) {
                    upper = 0x9F;
                }
            } else if (b >= 0xF0 && b <= 0xF4) {
                needed = 3;
                if (b == 0xF0) {
                    lower = 0x90;
                } else if (b == 0xF4) {
                    upper = 0x8F;
                }
            } else {
                return false;
            }
            return true;
        }
        if (b < lower || b > upper) {
            return false;
        }
        lower = 0x80;
        upper = 0xBF;
        needed--;
        return true;
    }

    /** Whether the bytes so far end on a character boundary: required at the end of a message. */
    public boolean isComplete() {
        return needed == 0;
    }

    /** Starts over, for the next message. */
    public void reset() {
        needed = 0;
        lower = 0x80;
        upper = 0xBF;
    }
}
