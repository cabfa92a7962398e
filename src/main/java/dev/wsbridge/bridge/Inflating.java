package dev.wsbridge.bridge;

import dev.wsbridge.frame.Frames;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;

/**
 * Hands the client's pieces to the backend half when the client agreed to permessage-deflate, inflating those
 * of compressed messages (RFC 7692 §7.2.2: the message's bytes plus {@code 00 00 FF FF}) with the JDK's
 * {@link Inflater}. Output goes one chunk at a time, the next inflated only once the backend has taken the
 * last, so a message that inflates to gigabytes costs one chunk of memory; once a message has inflated past
 * the client's size limit, nothing more of it is inflated (its last chunk lets the half close the client with
 * 1009). Pieces that are not compressed pass as they are, batched; everything keeps the order it was read in.
 *
 * <p>Each piece's {@code done} completes once it is wholly handed on, as the client leg's reading expects.
 */
final class Inflating extends IteratingCallback {

    /** §7.2.2: what the sender dropped from the end of each message. */
    private static final byte[] TAIL = {0, 0, (byte) 0xFF, (byte) 0xFF};
    /** Most inflated bytes handed to the backend at once. */
    private static final int CHUNK = 16 * 1024;

    /** A piece of a message, or something to run once everything before it is handed on. */
    private record Item(boolean text, ByteBuffer bytes, boolean end, boolean compressed, Runnable action) {
    }

    private final Relay relay;
    private final Half toBackend;
    private final Callback done;
    /** {@code client_no_context_takeover}: each message inflates afresh; the inflater goes back between messages. */
    private final boolean reset;
    private final Queue<Item> queue = new ConcurrentLinkedQueue<>();
    private volatile boolean ended;

    // ---- touched only in process(), which never runs twice at once ----
    private Item current;
    private boolean tailGiven;
    private Inflater inflater;
    private RetainableByteBuffer chunk;
    private long messageBytes;
    /** The current message broke a limit or was not deflate data: the rest of the session's data is dropped. */
    private boolean stopped;
    /** The piece whose last chunk was just written: its {@code done} is owed. */
    private boolean owed;

    private final Callback chunkWritten = new Callback() {
        @Override
        public void succeeded() {
            Inflating.this.succeeded();
        }

        @Override
        public void failed(Throwable x) {
            relay.backendWriteFailed(x);
            Inflating.this.succeeded();
        }
    };

    Inflating(Relay relay, Half toBackend, Callback done, boolean reset) {
        this.relay = relay;
        this.toBackend = toBackend;
        this.done = done;
        this.reset = reset;
    }

    /** Queues a piece of a data message; {@link #iterate()} hands it on. */
    void add(boolean text, ByteBuffer piece, boolean end, boolean compressed) {
        queue.add(new Item(text, piece, end, compressed, null));
    }

    /** Queues {@code action}, to run once everything queued before it is handed on. */
    void then(Runnable action) {
        queue.add(new Item(false, null, false, false, action));
    }

    /** The client's connection is closed: what is queued is dropped and the inflater and buffer go back. */
    void end() {
        ended = true;
        iterate();
    }

    @Override
    protected Action process() {
        if (owed) {
            owed = false;
            done.succeeded();
        }
        while (true) {
            if (ended) {
                releaseAll();
                return Action.IDLE;
            }
            if (stopped && current != null) {
                current = null;
                done.succeeded();
            }
            if (current == null) {
                Item next = queue.poll();
                if (next == null) {
                    releaseChunk();
                    return Action.IDLE;
                }
                if (next.action() != null) {
                    next.action().run();
                } else if (stopped) {
                    done.succeeded();
                } else if (!next.compressed()) {
                    toBackend.forward(next.text(), next.bytes(), next.end(), !queue.isEmpty(), done);
                } else {
                    current = next;
                    if (inflater == null) {
                        inflater = ZlibPool.inflater();
                    }
                    inflater.setInput(next.bytes());
                }
                continue;
            }
            if (chunk == null) {
                chunk = relay.pool().acquire(CHUNK, false);
            }
            ByteBuffer out = chunk.getByteBuffer();
            int length;
            boolean pieceDone;
            try {
                length = 0;
                pieceDone = false;
                int room = Math.min(out.capacity(), CHUNK);
                while (length < room && !pieceDone) {
                    int n = inflater.inflate(out.array(), out.arrayOffset() + length, room - length);
                    length += n;
                    if (n > 0) {
                        continue;
                    }
                    if (inflater.needsDictionary()) {
                        throw new DataFormatException("a preset dictionary");
                    }
                    if (current.end() && !tailGiven && !inflater.finished()) {
                        inflater.setInput(TAIL);
                        tailGiven = true;
                    } else {
                        pieceDone = true;
                    }
                }
            } catch (DataFormatException e) {
                stopped = true;
                current = null;
                done.succeeded();
                relay.clientProtocolError(Frames.BAD_DATA, "Invalid compressed data");
                continue;
            }
            Item piece = current;
            boolean messageEnd = pieceDone && piece.end();
            messageBytes += length;
            if (messageBytes > toBackend.maxMessageSize()) {
                // This chunk takes the message over the limit: the half closes the client with 1009.
                stopped = true;
            }
            if (pieceDone) {
                current = null;
                tailGiven = false;
            }
            if (messageEnd) {
                messageBytes = 0;
                if (reset || inflater.finished()) {
                    ZlibPool.release(inflater);
                    inflater = null;
                }
            }
            if (length == 0 && !messageEnd) {
                if (pieceDone) {
                    done.succeeded();
                }
                continue;
            }
            owed = pieceDone;
            out.position(0);
            out.limit(length);
            toBackend.forward(piece.text(), out, messageEnd, false, chunkWritten);
            return Action.SCHEDULED;
        }
    }

    private void releaseChunk() {
        if (chunk != null) {
            chunk.release();
            chunk = null;
        }
    }

    private void releaseAll() {
        releaseChunk();
        if (inflater != null) {
            ZlibPool.release(inflater);
            inflater = null;
        }
        if (current != null) {
            current = null;
            done.succeeded();
        }
        for (Item item = queue.poll(); item != null; item = queue.poll()) {
            if (item.action() == null) {
                done.succeeded();
            }
        }
    }

    @Override
    public String toString() {
        return "Inflating[" + relay.id() + (stopped ? " stopped" : "") + (ended ? " ended" : "") + "]";
    }
}
