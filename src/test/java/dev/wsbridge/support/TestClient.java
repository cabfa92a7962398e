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
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(TestTls.clientTls());
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

    /** The HTTP status a refused upgrade got (or 101 when it succeeded, the session then closed). */
    public int status(URI uri, Map<String, String> headers, String... subprotocols) throws Exception {
        CompletableFuture<Session> f = client.connect(new Peer(), request(uri, headers, subprotocols));
        try {
            Session s = f.get(30, TimeUnit.SECONDS);
            s.close();
            return 101;
        } catch (ExecutionException e) {
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                if (c instanceof UpgradeException u && u.getResponseStatusCode() > 0) {
                    return u.getResponseStatusCode();
                }
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
