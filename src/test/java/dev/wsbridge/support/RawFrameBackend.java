package dev.wsbridge.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * A backend that answers the upgrade by hand and then speaks raw frames: it can send what no
 * WebSocket library would (bad close codes, invalid UTF-8, reserved bits, oversized frames) and
 * reads exactly what the bridge's backend leg sends back.
 */
public final class RawFrameBackend implements AutoCloseable {

    /** The backend side of one accepted connection. */
    public static final class Connection {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.socket.setSoTimeout(15_000);
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        /** Sends one unmasked frame. */
        public void send(int opcode, boolean fin, int rsv, byte[] payload) throws IOException {
            out.write(RawFrames.encode(opcode, fin, rsv, payload, false));
            out.flush();
        }

        public void sendText(String text) throws IOException {
            send(RawFrames.TEXT, true, 0, text.getBytes(StandardCharsets.UTF_8));
        }

        /** The next frame the bridge sent; fails after 15 s. */
        public RawFrames.Frame read() throws IOException {
            return RawFrames.read(in);
        }

        /** The next frame that is not a pong. */
        public RawFrames.Frame readSkippingPongs() throws IOException {
            RawFrames.Frame f;
            do {
                f = read();
            } while (f.opcode() == RawFrames.PONG);
            return f;
        }

        /** Resets the TCP connection (RST, not FIN). */
        public void reset() throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }

        public void close() throws IOException {
            socket.close();
        }
    }

    private final ServerSocket server;
    private final CompletableFuture<Connection> accepted = new CompletableFuture<>();

    public RawFrameBackend() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptOne, "test-raw-frame-backend");
        t.setDaemon(true);
        t.start();
    }

    private void acceptOne() {
        try {
            Socket s = server.accept();
            String key = null;
            String protocol = null;
            InputStream in = s.getInputStream();
            for (String line : head(in).split("\r\n")) {
                String lower = line.toLowerCase(Locale.ROOT);
                if (lower.startsWith("sec-websocket-key:")) {
                    key = line.substring(line.indexOf(':') + 1).trim();
                }
            }
            byte[] sha1 = MessageDigest.getInstance("SHA-1")
                    .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1));
            String answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + Base64.getEncoder().encodeToString(sha1) + "\r\n\r\n";
            s.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            accepted.complete(new Connection(s));
        } catch (Exception e) {
            accepted.completeExceptionally(e);
        }
    }

    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            buf.write(c);
            byte[] b = buf.toByteArray();
            int n = b.length;
            if (n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n') {
                break;
            }
        }
        return buf.toString(StandardCharsets.ISO_8859_1);
    }

    public URI uri() {
        return URI.create("ws://127.0.0.1:" + server.getLocalPort() + "/");
    }

    /** The connection the bridge opened; fails after 10 s. */
    public Connection connection() {
        return Await.get(accepted);
    }

    @Override
    public void close() throws IOException {
        server.close();
        if (accepted.isDone() && !accepted.isCompletedExceptionally()) {
            accepted.join().close();
        }
    }
}
