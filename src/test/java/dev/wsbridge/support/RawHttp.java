package dev.wsbridge.support;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * An HTTP/1.1 client on a raw TLS socket: it writes the request exactly as given and reads the answer
 * byte by byte, so a test sees every header, the framing (chunked or not) and an early end of the connection.
 */
public final class RawHttp implements AutoCloseable {

    /** A response head: status and headers (lower-case names, every value in order). */
    public record Head(int status, Map<String, List<String>> headers) {
        /** The values of a header joined with {@code ", "}, or null. */
        public String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? null : String.join(", ", v);
        }

        public List<String> all(String name) {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
        }
    }

    /** A whole response. */
    public record Response(Head head, byte[] body) {
        public int status() {
            return head.status();
        }

        public String header(String name) {
            return head.header(name);
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(30_000);
        this.in = new java.io.BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** A TLS connection to {@code localhost:port}, trusting the test certificate. */
    public static RawHttp tls(int port) throws Exception {
        SslContextFactory.Client f = TestTls.clientTls();
        f.start();
        try {
            return tls(f, port);
        } finally {
            f.stop();
        }
    }

    /** A TLS connection to {@code localhost:port} from the started {@code tls}, which may resume its sessions. */
    public static RawHttp tls(SslContextFactory.Client tls, int port) throws Exception {
        SSLSocket s = (SSLSocket) tls.getSslContext().getSocketFactory().createSocket("localhost", port);
        s.startHandshake();
        return new RawHttp(s);
    }

    /** One request on a new TLS connection: {@code head} (without the blank line) and {@code body}. */
    public static Response exchange(int port, String head, byte[] body) throws Exception {
        try (RawHttp c = tls(port)) {
            c.send(head, body);
            return c.response();
        }
    }

    /** Writes the head (CRLF line ends added, then the blank line) and the body. */
    public void send(String head, byte[] body) throws IOException {
        out.write((head.replace("\n", "\r\n") + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) {
            out.write(body);
        }
        out.flush();
    }

    public OutputStream out() {
        return out;
    }

    /** Reads a response head; 1xx heads included. */
    public Head head() throws IOException {
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
        String[] lines = buf.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        if (c < 0 || lines.length == 0 || lines[0].length() < 12) {
            throw new EOFException("no HTTP response head: [" + buf + "]");
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                        .add(lines[i].substring(colon + 1).trim());
            }
        }
        return new Head(Integer.parseInt(lines[0].substring(9, 12)), headers);
    }

    /** Reads a whole response (the final one, after any 1xx). */
    public Response response() throws IOException {
        Head head;
        do {
            head = head();
        } while (head.status() < 200);
        return new Response(head, body(head).readAllBytes());
    }

    /**
     * The body of a response with {@code head}, as it arrives: chunked decoded, {@code Content-Length} counted, or
     * up to the end of the connection. An {@link EOFException} tells a body that ended before its framing did.
     */
    public InputStream body(Head head) {
        String te = head.header("Transfer-Encoding");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            return new Chunked(in);
        }
        String length = head.header("Content-Length");
        if (length != null) {
            return new Counted(in, Long.parseLong(length));
        }
        if (head.status() == 204 || head.status() == 304) {
            return InputStream.nullInputStream();
        }
        return in;
    }

    /** The connection's input as it is, for reading past a response. */
    public InputStream in() {
        return in;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static final class Counted extends InputStream {
        private final InputStream in;
        private long left;

        Counted(InputStream in, long length) {
            this.in = in;
            this.left = length;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left == 0) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new EOFException("connection ended " + left + " bytes before Content-Length");
            }
            left -= n;
            return n;
        }
    }

    private static final class Chunked extends InputStream {
        private final InputStream in;
        private long left;
        private boolean done;

        Chunked(InputStream in) {
            this.in = in;
        }

        private String line() throws IOException {
            StringBuilder b = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            if (c < 0) {
                throw new EOFException("connection ended before the last chunk");
            }
            return b.toString();
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            if (left == 0) {
                String size = line();
                if (size.isEmpty()) {
                    size = line();
                }
                int semi = size.indexOf(';');
                left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                if (left == 0) {
                    while (!line().isEmpty()) {
                        // trailers
                    }
                    done = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new EOFException("connection ended inside a chunk");
            }
            left -= n;
            return n;
        }
    }
}
