package dev.wsbridge.support;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * A real HTTP backend (Jetty, a plain servlet) on an ephemeral port. What it does depends on the first
 * path segment (after an optional {@code /base}, for routes whose {@code proxyTo} has that base path); every
 * request it reads is recorded for assertions.
 *
 * <ul>
 * <li>{@code /echo/...}: 200, the body read back as {@code length sha256} and the request recorded.</li>
 * <li>{@code /status/NNN}: status NNN with a short body.</li>
 * <li>{@code /headers?h=Name:value&h=...}: 200 (or {@code status=NNN}) with those response headers.</li>
 * <li>{@code /events}: an event stream: {@code data: one}, then (after {@link #releaseEvents()}) {@code data: two}.</li>
 * <li>{@code /bytes?n=N[&chunked=true]}: N bytes of {@link #pattern(long)}, flushed in 64 KiB writes.</li>
 * <li>{@code /stall}: answers nothing until the backend closes.</li>
 * </ul>
 */
public final class HttpBackend implements AutoCloseable {

    /** What the backend saw of one request. */
    public record Exchange(String method, String pathAndQuery, Map<String, List<String>> headers, long bodyLength,
            String bodySha256) {
        /** The values of a header, joined with {@code ", "}; null when absent. */
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null ? null : String.join(", ", values);
        }
    }

    private final Server server;
    private final ServerConnector connector;
    private final BlockingQueue<Exchange> exchanges = new LinkedBlockingQueue<>();
    private final CountDownLatch events = new CountDownLatch(1);
    private final CountDownLatch closing = new CountDownLatch(1);
    private final AtomicLong bodyBytesWritten = new AtomicLong();

    public HttpBackend() throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("test-http-backend");
        server = new Server(threads);
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.addServlet(new ServletHolder(new Handler()), "/*");
        server.setHandler(context);
        server.start();
    }

    /** {@code ws://127.0.0.1:<port>} + base path: what a route's {@code proxyTo} names. */
    public URI wsUri(String basePath) {
        return URI.create("ws://127.0.0.1:" + connector.getLocalPort() + basePath);
    }

    public int port() {
        return connector.getLocalPort();
    }

    /** The next request the backend read, waiting at most 10 s. */
    public Exchange exchange() throws InterruptedException {
        Exchange e = exchanges.poll(10, TimeUnit.SECONDS);
        if (e == null) {
            throw new AssertionError("the backend saw no request");
        }
        return e;
    }

    /** Requests the backend read and no test has taken yet. */
    public int pending() {
        return exchanges.size();
    }

    /** Bytes of {@code /bytes} bodies the backend has handed to its connection so far. */
    public long bodyBytesWritten() {
        return bodyBytesWritten.get();
    }

    /** Lets {@code /events} send its second event. */
    public void releaseEvents() {
        events.countDown();
    }

    /** Byte {@code i} of the body {@code /bytes} sends. */
    public static byte pattern(long i) {
        return (byte) (i * 31 + (i >>> 16));
    }

    @Override
    public void close() throws Exception {
        closing.countDown();
        events.countDown();
        server.stop();
    }

    private final class Handler extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String path = req.getRequestURI();
            String query = req.getQueryString();
            Map<String, List<String>> headers = new LinkedHashMap<>();
            for (String name : Collections.list(req.getHeaderNames())) {
                headers.put(name.toLowerCase(Locale.ROOT), List.copyOf(Collections.list(req.getHeaders(name))));
            }
            MessageDigest sha = sha256();
            long length = 0;
            byte[] buf = new byte[64 * 1024];
            try (InputStream in = req.getInputStream()) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    sha.update(buf, 0, n);
                    length += n;
                }
            }
            String digest = HexFormat.of().formatHex(sha.digest());
            exchanges.add(new Exchange(req.getMethod(), path + (query == null ? "" : "?" + query), headers, length, digest));
            String local = path.startsWith("/base/") ? path.substring("/base".length()) : path;
            String first = local.length() > 1 ? local.substring(1).split("/")[0] : "";
            switch (first) {
                case "status" -> text(resp, Integer.parseInt(local.substring("/status/".length())), "status\n");
                case "headers" -> {
                    String[] values = req.getParameterValues("h");
                    for (String h : values == null ? new String[0] : values) {
                        int colon = h.indexOf(':');
                        resp.addHeader(h.substring(0, colon), h.substring(colon + 1));
                    }
                    String status = req.getParameter("status");
                    text(resp, status == null ? 200 : Integer.parseInt(status), "headers\n");
                }
                case "events" -> {
                    resp.setContentType("text/event-stream");
                    OutputStream out = resp.getOutputStream();
                    out.write("data: one\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    await(events);
                    out.write("data: two\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
                case "bytes" -> {
                    long n = Long.parseLong(req.getParameter("n"));
                    resp.setContentType("application/octet-stream");
                    if (!"true".equals(req.getParameter("chunked"))) {
                        resp.setContentLengthLong(n);
                    }
                    OutputStream out = resp.getOutputStream();
                    for (long i = 0; i < n; ) {
                        int len = (int) Math.min(buf.length, n - i);
                        for (int j = 0; j < len; j++) {
                            buf[j] = pattern(i + j);
                        }
                        out.write(buf, 0, len);
                        bodyBytesWritten.addAndGet(len);
                        i += len;
                    }
                }
                case "stall" -> await(closing);
                default -> text(resp, 200, length + " " + digest + "\n");
            }
        }

        private void text(HttpServletResponse resp, int status, String body) throws IOException {
            resp.setStatus(status);
            resp.setContentType("text/plain;charset=utf-8");
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            resp.setContentLength(b.length);
            resp.getOutputStream().write(b);
        }

        private void await(CountDownLatch latch) {
            try {
                latch.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The SHA-256 of {@code n} bytes of {@link #pattern(long)}, as hex. */
    public static String patternSha256(long n) {
        MessageDigest sha = sha256();
        byte[] buf = new byte[64 * 1024];
        for (long i = 0; i < n; ) {
            int len = (int) Math.min(buf.length, n - i);
            for (int j = 0; j < len; j++) {
                buf[j] = pattern(i + j);
            }
            sha.update(buf, 0, len);
            i += len;
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
