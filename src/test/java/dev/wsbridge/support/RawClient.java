package dev.wsbridge.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLSocket;

/**
 * A raw socket client for handshakes no well-behaved client would send: writes the request head as
 * given and reads back the status line and headers.
 */
public final class RawClient {

    /** A response head: status and lower-cased header names. */
    public record Head(int status, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private RawClient() {
    }

    /** A valid upgrade request head for {@code path} on {@code host}, plus {@code extra} header lines. */
    public static String upgrade(String path, String host, String... extra) {
        StringBuilder b = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n");
        for (String e : extra) {
            b.append(e).append("\r\n");
        }
        return b.append("\r\n").toString();
    }

    /** Sends {@code head} over TLS to {@code port} and reads the response head. */
    public static Head tls(int port, String head) throws Exception {
        org.eclipse.jetty.util.ssl.SslContextFactory.Client f = TestTls.clientTls();
        f.start();
        try (SSLSocket s = (SSLSocket) f.getSslContext().getSocketFactory().createSocket("localhost", port)) {
            return exchange(s, head);
        } finally {
            f.stop();
        }
    }

    /** Sends {@code head} in plain text to {@code port} and reads the response head. */
    public static Head plain(int port, String head) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return exchange(s, head);
        }
    }

    /** An upgraded raw TLS connection: the response head, then frames both ways. */
    public record Upgraded(Head head, Socket socket) implements AutoCloseable {
        /** Sends a masked frame, as a client must (or unmasked, to misbehave). */
        public void send(int opcode, boolean fin, int rsv, byte[] payload, boolean masked) throws IOException {
            socket.getOutputStream().write(RawFrames.encode(opcode, fin, rsv, payload, masked));
            socket.getOutputStream().flush();
        }

        public RawFrames.Frame read() throws IOException {
            return RawFrames.read(socket.getInputStream());
        }

        /** The next frame that is not a ping or pong. */
        public RawFrames.Frame readData() throws IOException {
            RawFrames.Frame f;
            do {
                f = read();
            } while (f.opcode() == RawFrames.PING || f.opcode() == RawFrames.PONG);
            return f;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** Sends {@code head} over TLS and keeps the connection open for frames. */
    public static Upgraded upgradeTls(int port, String head) throws Exception {
        org.eclipse.jetty.util.ssl.SslContextFactory.Client f = TestTls.clientTls();
        f.start();
        try {
            SSLSocket s = (SSLSocket) f.getSslContext().getSocketFactory().createSocket("localhost", port);
            return new Upgraded(exchange(s, head), s);
        } finally {
            f.stop();
        }
    }

    /** Reads a byte; if that fails after the request could not be written whole, the write's failure is the cause. */
    private static int read(InputStream in, IOException writeFailure) throws IOException {
        try {
            return in.read();
        } catch (IOException e) {
            if (writeFailure != null) {
                writeFailure.addSuppressed(e);
                throw writeFailure;
            }
            throw e;
        }
    }

    private static Head exchange(Socket s, String head) throws IOException {
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        IOException writeFailure = null;
        try {
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        } catch (IOException e) {
            // The server may answer (431, 400) and close before it has read all of a bad request.
            writeFailure = e;
        }
        InputStream in = s.getInputStream();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int c;
        while ((c = read(in, writeFailure)) >= 0) {
            buf.write(c);
            byte[] b = buf.toByteArray();
            int n = b.length;
            if (n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n') {
                break;
            }
        }
        String[] lines = buf.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        if (lines.length == 0 || lines[0].length() < 12) {
            throw new IOException("no HTTP response: [" + buf + "]");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        String body = "";
        String length = headers.get("content-length");
        if (length != null) {
            byte[] b = in.readNBytes(Integer.parseInt(length));
            body = new String(b, StandardCharsets.UTF_8);
        }
        return new Head(Integer.parseInt(lines[0].substring(9, 12)), headers, body);
    }
}
