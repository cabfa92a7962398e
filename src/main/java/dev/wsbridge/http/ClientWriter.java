package dev.wsbridge.http;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.util.Callback;

/**
 * Writes the backend's response body to the client without blocking, one piece at a time: each piece is
 * written and then flushed, so an event of an event stream or a long-poll answer leaves as soon as the
 * backend sent it (both containers otherwise hold small writes in the response buffer), and the next piece is
 * read from the backend only when this one is gone (the callback), so a slow client slows the backend read.
 * Every write and flush follows an {@code isReady()} that said yes, as the Servlet API requires.
 */
final class ClientWriter implements WriteListener {

    /** Where the piece in hand is. */
    private enum State {
        /** No piece in hand. */
        IDLE,
        /** A piece waits to be written. */
        WRITE,
        /** Written; waits to be flushed. */
        FLUSH,
        /** Flushed; waits for the flush to complete. */
        FLUSHED
    }

    private final ServletOutputStream out;
    private final Request backendRequest;
    private State state = State.IDLE;
    private byte[] buffer;
    private int offset;
    private int length;
    private Callback callback;

    ClientWriter(ServletOutputStream out, Request backendRequest) {
        this.out = out;
        this.backendRequest = backendRequest;
    }

    /** Sets this as the output's write listener: on the request's own thread, before any piece arrives. */
    void listen() {
        out.setWriteListener(this);
    }

    /** Takes the next piece; {@code done} completes once it has been flushed to the client. */
    void write(byte[] bytes, int off, int len, Callback done) throws IOException {
        synchronized (this) {
            if (state != State.IDLE) {
                throw new IllegalStateException("piece written in state " + state);
            }
            buffer = bytes;
            offset = off;
            length = len;
            callback = done;
            state = State.WRITE;
        }
        // After a yes, the container owes no onWritePossible; after a no, it calls it when the output drains.
        if (out.isReady()) {
            onWritePossible();
        }
    }

    @Override
    public void onWritePossible() throws IOException {
        Callback done;
        synchronized (this) {
            if (state == State.WRITE) {
                out.write(buffer, offset, length);
                state = State.FLUSH;
                if (!out.isReady()) {
                    return;
                }
            }
            if (state == State.FLUSH) {
                out.flush();
                state = State.FLUSHED;
                if (!out.isReady()) {
                    return;
                }
            }
            if (state != State.FLUSHED) {
                return;
            }
            done = callback;
            buffer = null;
            callback = null;
            state = State.IDLE;
        }
        // Outside the lock: the callback reads the next piece from the backend, which may call write().
        done.succeeded();
    }

    @Override
    public void onError(Throwable failure) {
        Callback done;
        synchronized (this) {
            done = callback;
            callback = null;
            buffer = null;
            state = State.IDLE;
        }
        backendRequest.abort(failure);
        if (done != null) {
            done.failed(failure);
        }
    }

    @Override
    public synchronized String toString() {
        return "ClientWriter[" + state + (state == State.IDLE ? "" : ", " + length + " bytes") + "]";
    }
}
