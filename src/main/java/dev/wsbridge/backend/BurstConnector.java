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

/**
 * The backend client's connector: its connections tell a listener when a read finds the socket empty,
 * which is the end of a burst of backend frames. The relay writes a burst's frames to the client without
 * flushing and flushes once there, so a burst costs one socket write on the client leg, as in a byte tunnel.
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
            return true;
        }
        return false;
    }

    private static final class BurstEndPoint extends SocketChannelEndPoint {

        /** Set once, by the thread that upgrades the connection, before the first frame is read. */
        private volatile Runnable drained;

        BurstEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key,
                org.eclipse.jetty.util.thread.Scheduler scheduler) {
            super(channel, selector, key, scheduler);
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
}
