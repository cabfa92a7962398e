package dev.wsbridge.bridge;

import java.nio.ByteBuffer;
import java.util.zip.Deflater;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.Callback;

/**
 * Compresses the messages the client leg writes, when the client agreed to permessage-deflate (RFC 7692
 * §7.2.1): each frame's piece is deflated with a sync flush, so a frame carries all of its piece and
 * nothing waits for the next; the last frame of a message drops the flush's {@code 00 00 FF FF}. A message
 * whose first frame is shorter than the minimum size goes uncompressed (§6: compression is chosen per message).
 * Called under the client leg's write lock, one frame at a time.
 */
final class Deflating {

    private final ByteBufferPool pool;
    /** {@code server_no_context_takeover}: a message starts from an empty window; the deflater goes back between messages. */
    private final boolean reset;
    private final int minSize;
    private Deflater deflater;
    /** Whether the message in progress is being compressed. */
    private boolean compressing;

    Deflating(ByteBufferPool pool, boolean reset, int minSize) {
        this.pool = pool;
        this.reset = reset;
        this.minSize = minSize;
    }

    /**
     * The compressed form of one frame's payload, to be released once written, or null when the message goes
     * as it is.
     *
     * @param first whether this frame starts a message
     * @param fin   whether it ends it
     */
    RetainableByteBuffer deflate(boolean first, boolean fin, ByteBuffer payload) {
        if (first) {
            // Chosen by the first frame: a message that starts empty goes as it is, as Jetty's client drops a
            // compressed text message whose first frame inflates to nothing.
            compressing = payload.hasRemaining() && payload.remaining() >= minSize;
        }
        if (!compressing) {
            return null;
        }
        if (deflater == null) {
            deflater = ZlibPool.deflater();
        }
        int n = payload.remaining();
        deflater.setInput(payload.slice());
        RetainableByteBuffer out = pool.acquire(n + n / 16 + 64, false);
        int length = 0;
        while (true) {
            ByteBuffer b = out.getByteBuffer();
            int room = b.capacity() - length;
            length += deflater.deflate(b.array(), b.arrayOffset() + length, room, Deflater.SYNC_FLUSH);
            if (length < b.capacity()) {
                // zlib: a sync flush that leaves room in the output has written all of its input.
                break;
            }
            RetainableByteBuffer bigger = pool.acquire(2 * b.capacity(), false);
            ByteBuffer g = bigger.getByteBuffer();
            System.arraycopy(b.array(), b.arrayOffset(), g.array(), g.arrayOffset(), length);
            out.release();
            out = bigger;
        }
        ByteBuffer b = out.getByteBuffer();
        if (fin) {
            byte[] a = b.array();
            int end = b.arrayOffset() + length;
            // §7.2.1: the final 00 00 FF FF of the message is not sent (a sync flush with no new input writes none).
            if (length >= 4 && a[end - 4] == 0 && a[end - 3] == 0 && a[end - 2] == (byte) 0xFF && a[end - 1] == (byte) 0xFF) {
                length -= 4;
            }
            if (length == 0) {
                // §7.2.3.6: an empty stored block's first byte; some clients drop a message whose last frame is empty.
                a[b.arrayOffset()] = 0;
                length = 1;
            }
            if (reset) {
                ZlibPool.release(deflater);
                deflater = null;
            }
        }
        b.position(0);
        b.limit(length);
        return out;
    }

    /** The session is over: the deflater goes back. */
    void release() {
        if (deflater != null) {
            ZlibPool.release(deflater);
            deflater = null;
        }
    }

    /** Completes a frame's callback once its compressed payload is released. */
    static Callback releasing(RetainableByteBuffer compressed, Callback done) {
        return new Callback() {
            @Override
            public void succeeded() {
                compressed.release();
                done.succeeded();
            }

            @Override
            public void failed(Throwable x) {
                compressed.release();
                done.failed(x);
            }
        };
    }
}
