package dev.wsbridge.support;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP server that accepts and never answers the upgrade: the backend that stalls a handshake.
 * Also gives a port where nothing listens, for refused connections.
 */
public final class RawBackend implements AutoCloseable {

    private final ServerSocket server;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    private RawBackend() throws IOException {
        server = new ServerSocket(0, 500, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            try {
                while (!server.isClosed()) {
                    accepted.add(server.accept());
                }
            } catch (IOException e) {
                // closed
            }
        }, "test-raw-backend");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Accepts TCP connections, reads nothing, answers nothing. */
    public static RawBackend neverAnswers() throws IOException {
        return new RawBackend();
    }

    /** A ws:// URI on which the connection is refused (the port was just freed). */
    public static URI refusedUri() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return URI.create("ws://127.0.0.1:" + s.getLocalPort() + "/");
        }
    }

    public URI uri() {
        return URI.create("ws://127.0.0.1:" + server.getLocalPort() + "/");
    }

    public int acceptedCount() {
        return accepted.size();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : accepted) {
            s.close();
        }
    }
}
