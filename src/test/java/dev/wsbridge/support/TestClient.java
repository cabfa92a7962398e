package dev.wsbridge.support;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/** A real WebSocket client (Jetty's) over real TLS, trusting only the test certificate. */
public final class TestClient implements AutoCloseable {

    private final WebSocketClient client;

    public TestClient() throws Exception {
        this(TestTls.clientTls());
    }

    /** A client with TLS settings of its own, such as a protocol restriction. */
    public TestClient(org.eclipse.jetty.util.ssl.SslContextFactory.Client tls) throws Exception {
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(tls);
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("test-client");
        HttpClient http = new HttpClient(new org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP(connector));
        http.setExecutor(threads);
        client = new WebSocketClient(http);
        client.setMaxTextMessageSize(128L << 20);
        client.setMaxBinaryMessageSize(128L << 20);
        client.setIdleTimeout(java.time.Duration.ofMinutes(5));
        client.start();
    }

    /** Connects a new recording peer; fails the test if the upgrade fails. */
    public Peer connect(URI uri, String... subprotocols) {
        return connect(uri, Map.of(), subprotocols);
    }

    public Peer connect(URI uri, Map<String, String> headers, String... subprotocols) {
        Peer peer = new Peer();
        try {
            Await.get(client.connect(peer, request(uri, headers, subprotocols)));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        return peer;
    }

    /**
     * Starts connecting a new recording peer and returns at once: the future completes with the peer once it is
     * open, or fails with the upgrade's failure ({@link #status(Throwable)} reads its HTTP status). For many
     * handshakes in flight at once.
     */
    public CompletableFuture<Peer> open(URI uri, Map<String, String> headers) {
        Peer peer = new Peer();
        try {
            return client.connect(peer, request(uri, headers)).thenApply(s -> peer);
        } catch (java.io.IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The HTTP status of a refused upgrade that {@code failure} (or one of its causes) reports; 0 if none. */
    public static int status(Throwable failure) {
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof UpgradeException u && u.getResponseStatusCode() > 0) {
                return u.getResponseStatusCode();
            }
        }
        return 0;
    }

    /** The HTTP status a refused upgrade got (or 101 when it succeeded, the session then closed). */
    public int status(URI uri, Map<String, String> headers, String... subprotocols) throws Exception {
        CompletableFuture<Session> f = client.connect(new Peer(), request(uri, headers, subprotocols));
        try {
            Session s = f.get(30, TimeUnit.SECONDS);
            s.close();
            return 101;
        } catch (ExecutionException e) {
            int status = status(e.getCause());
            if (status > 0) {
                return status;
            }
            throw e;
        }
    }

    private static ClientUpgradeRequest request(URI uri, Map<String, String> headers, String... subprotocols) {
        ClientUpgradeRequest request = new ClientUpgradeRequest(uri);
        headers.forEach(request::setHeader);
        if (subprotocols.length > 0) {
            request.setSubProtocols(List.of(subprotocols));
        }
        return request;
    }

    public WebSocketClient jetty() {
        return client;
    }

    @Override
    public void close() throws Exception {
        client.stop();
        client.getHttpClient().stop();
    }
}
