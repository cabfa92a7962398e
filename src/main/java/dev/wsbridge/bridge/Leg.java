package dev.wsbridge.bridge;

import java.nio.ByteBuffer;
import org.eclipse.jetty.util.Callback;

/** One side of a relayed session, as the other side's half writes to it. */
interface Leg {

    /**
     * Writes one data frame.
     *
     * @param batch  whether more frames of the same burst follow, so the write may wait for them
     * @param done   completed once the leg no longer needs {@code payload} (the reader may then read more),
     *               or failed
     */
    void send(byte opcode, boolean fin, ByteBuffer payload, boolean batch, Callback done);

    /** Starts the close handshake with this code (1005: an empty close) and reason. */
    void close(int code, String reason);

    /** Drops the connection without a close handshake. */
    void abort();
}
