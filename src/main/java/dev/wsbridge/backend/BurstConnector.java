package dev.wsbridge.backend;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.util.Callback;

/**
 * The backend client's connector: its connections tell a listener when a read finds the socket empty,
 * which is the end of a burst of backend frames. The relay writes a burst's frames to the client without
 * flushing and flushes once there, so a burst costs one socket write on the client leg, as in a byte tunnel.
 *
 * <p>Once such a connection carries a relay's backend leg, its reads run on the selector thread that found
 * the bytes, as Jetty runs a task that declares it never blocks: the relay's handling of a backend frame
 * only hands it to the client's non-blocking output, so it need not cost a hand-off to another thread.
 */
final class BurstConnector extends ClientConnector {

    @Override
    protected EndPoint newEndPoint(SelectableChannel channel, ManagedSelector selector, SelectionKey key) {
        if (channel instanceof SocketChannel socket) {
            return new BurstEndPoint(socket, selector, key, getScheduler());
        }
        return super.newEndPoint(channel, selector, key);
    }

    /**
     * Sets the listener run when a read on {@code endPoint}'s connection finds no more bytes; for a TLS
     * connection, the network connection underneath. False if the connection was not made here.
     */
    static boolean onDrained(EndPoint endPoint, Runnable listener) {
        EndPoint network = endPoint instanceof SslConnection.SslEndPoint ssl ? ssl.getSslConnection().getEndPoint() : endPoint;
        if (network instanceof BurstEndPoint burst) {
            burst.drained = listener;
            burst.inline = true;
            return true;
        }
        return false;
    }

    private static final class BurstEndPoint extends SocketChannelEndPoint {

        /** Set once, by the thread that upgrades the connection, before the first frame is read. */
        private volatile Runnable drained;
        /** Reads run on the selector thread; set with {@link #drained}. */
        private volatile boolean inline;
        /** The last callback made to run inline, with what it was made from: read interest is asked for again and again with the same one. */
        private Inline last;

        BurstEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key,
                org.eclipse.jetty.util.thread.Scheduler scheduler) {
            super(channel, selector, key, scheduler);
        }

        @Override
        public void fillInterested(Callback callback) {
            super.fillInterested(inline ? inline(callback) : callback);
        }

        @Override
        public boolean tryFillInterested(Callback callback) {
            return super.tryFillInterested(inline ? inline(callback) : callback);
        }

        private Callback inline(Callback callback) {
            Inline made = last;
            if (made == null || made.callback != callback) {
                made = new Inline(callback);
                last = made;
            }
            return made;
        }

        @Override
        public int fill(ByteBuffer buffer) throws IOException {
            int filled = super.fill(buffer);
            if (filled == 0) {
                Runnable listener = drained;
                if (listener != null) {
                    listener.run();
                }
            }
            return filled;
        }
    }

    /** A read callback that Jetty may run on the selector thread: what it runs never waits. */
    private record Inline(Callback callback) implements Callback {
        @Override
        public void succeeded() {
            callback.succeeded();
        }

        @Override
        public void failed(Throwable x) {
            callback.failed(x);
        }

        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }
    }
}
