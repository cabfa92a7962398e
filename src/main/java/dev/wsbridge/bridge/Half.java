package dev.wsbridge.bridge;

import dev.wsbridge.frame.Frames;
import dev.wsbridge.frame.Utf8Validator;
import dev.wsbridge.observability.Traffic;
import java.nio.ByteBuffer;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One direction of a relayed session, the same code for both: takes the pieces of data messages one leg
 * reads and writes them to the other leg as frames, checking each message's size and, for text, its UTF-8
 * as the pieces pass, and counting them ({@link Traffic}). The reading leg reads more only once {@code done}
 * completes. Called by one thread at a time: whichever is delivering that leg's frames.
 */
final class Half {

    private static final Logger LOG = LoggerFactory.getLogger(Half.class);

    private final Relay relay;
    private final boolean fromClient;
    private final long maxMessageSize;
    private final Traffic traffic;
    /** Most messages a second in this direction; 0 for no limit. */
    private final int maxRate;
    private long rateWindowStart = System.nanoTime();
    private int rateWindowCount;
    private final Utf8Validator utf8 = new Utf8Validator();
    private volatile Leg to;
    private long messageBytes;
    /** A message has started toward {@link #to} and not ended; volatile because a drain reads it. */
    private volatile boolean midMessage;

    Half(Relay relay, boolean fromClient, long maxMessageSize, int maxRate, Traffic traffic) {
        this.relay = relay;
        this.fromClient = fromClient;
        this.maxMessageSize = maxMessageSize;
        this.maxRate = maxRate;
        this.traffic = traffic;
    }

    long maxMessageSize() {
        return maxMessageSize;
    }

    Traffic traffic() {
        return traffic;
    }

    void to(Leg leg) {
        this.to = leg;
    }

    /**
     * Forwards one piece of a data message; completes {@code done} itself when the piece is not forwarded
     * (the session is ending, or draining between messages, or the piece breaks a limit).
     */
    void forward(boolean text, ByteBuffer piece, boolean end, boolean batch, Callback done) {
        boolean mid = midMessage;
        if (!relay.mayForward(mid)) {
            done.succeeded();
            return;
        }
        if (maxRate > 0 && !mid && overRate()) {
            done.succeeded();
            relay.rateExceeded(maxRate);
            return;
        }
        messageBytes += piece.remaining();
        if (messageBytes > maxMessageSize) {
            done.succeeded();
            relay.tooBig(fromClient);
            return;
        }
        if (text && (!utf8.accept(piece) || (end && !utf8.isComplete()))) {
            done.succeeded();
            relay.invalidUtf8(fromClient);
            return;
        }
        byte opcode = mid ? Frames.CONTINUATION : text ? Frames.TEXT : Frames.BINARY;
        if (LOG.isTraceEnabled()) {
            LOG.trace("[{}] {} frame opcode {} length {} fin {}", relay.id(), fromClient ? "client->backend" : "backend->client",
                    opcode, piece.remaining(), end);
        }
        traffic.piece(text, piece.remaining());
        if (end) {
            traffic.message(text, messageBytes);
            messageBytes = 0;
            if (text) {
                utf8.reset();
            }
            if (mid) {
                // Written only around a message in parts: a whole message costs no volatile write.
                midMessage = false;
            }
        } else if (!mid) {
            midMessage = true;
        }
        to.send(opcode, end, piece, batch, done);
        if (end && mid) {
            relay.endIfDrained();
        }
    }

    /** Counts a message starting now; true when it is one more than {@link #maxRate} in the current second. */
    private boolean overRate() {
        long now = System.nanoTime();
        if (now - rateWindowStart >= 1_000_000_000L) {
            rateWindowStart = now;
            rateWindowCount = 0;
        }
        return ++rateWindowCount > maxRate;
    }

    boolean midMessage() {
        return midMessage;
    }
}
