package dev.wsbridge.support;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A real WebSocket backend (Jetty's core WebSocket server) on an ephemeral port, scriptable per test:
 * echo or not, which subprotocol to choose, or refuse the upgrade with a status and headers. Every
 * handshake and every accepted session is recorded for assertions.
 */
public final class ScriptedBackend implements AutoCloseable {

    /** What the backend saw of one handshake. */
    public record Handshake(String pathAndQuery, Map<String, List<String>> headers, List<String> subprotocols) {
        public String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return String.join(", ", e.getValue());
                }
            }
            return null;
        }
    }

    private final Server server;
    private final ServerConnector connector;
    private final BlockingQueue<Handshake> handshakes = new LinkedBlockingQueue<>();
    private final BlockingQueue<Peer> sessions = new LinkedBlockingQueue<>();
    private final ConcurrentMap<String, CompletableFuture<Peer>> sessionsByPath = new ConcurrentHashMap<>();
    private volatile boolean echo = true;
    private volatile boolean record = true;
    private volatile Function<List<String>, String> subprotocol = offered -> null;
    private volatile int refuseStatus;
    private volatile Map<String, String> refuseHeaders = Map.of();

    private final boolean tls;
    /** The SNI host names each TLS handshake asked for (empty list: none). */
    private final BlockingQueue<List<String>> serverNames = new LinkedBlockingQueue<>();

    public ScriptedBackend() throws Exception {
        this(false);
    }

    /** @param tls serve {@code wss://} with the test's self-signed certificate */
    public ScriptedBackend(boolean tls) throws Exception {
        this(tls ? TestTls.serverTls() : null);
    }

    /** @param tls serve {@code wss://} with this TLS factory, or {@code ws://} when null */
    public ScriptedBackend(org.eclipse.jetty.util.ssl.SslContextFactory.Server tls) throws Exception {
        this.tls = tls != null;
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("test-backend");
        server = new Server(threads);
        connector = tls != null ? new ServerConnector(server, tls) : new ServerConnector(server);
        if (tls != null) {
            // A backend whose certificate does not name the host it is reached by (host name verification off in
            // the proxy) must still answer, as most backends would, rather than Jetty's 400 "Invalid SNI".
            org.eclipse.jetty.server.SecureRequestCustomizer secure = connector
                    .getConnectionFactory(org.eclipse.jetty.server.HttpConnectionFactory.class).getHttpConfiguration()
                    .getCustomizer(org.eclipse.jetty.server.SecureRequestCustomizer.class);
            if (secure != null) {
                secure.setSniHostCheck(false);
            }
            connector.getConnectionFactory(org.eclipse.jetty.server.SslConnectionFactory.class).addBean(
                    new org.eclipse.jetty.io.ssl.SslHandshakeListener() {
                        @Override
                        public void handshakeSucceeded(Event event) {
                            javax.net.ssl.SSLSession session = event.getSSLEngine().getSession();
                            List<String> names = new java.util.ArrayList<>();
                            if (session instanceof javax.net.ssl.ExtendedSSLSession ext) {
                                ext.getRequestedServerNames().forEach(n -> names.add(
                                        n instanceof javax.net.ssl.SNIHostName h ? h.getAsciiName() : n.toString()));
                            }
                            serverNames.add(names);
                        }
                    });
        }
        connector.setPort(0);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxTextMessageSize(128L << 20);
            container.setMaxBinaryMessageSize(128L << 20);
            container.setIdleTimeout(Duration.ofMinutes(5));
            container.addMapping("/*", (request, response, callback) -> {
                String query = request.getHttpURI().getQuery();
                if (record) {
                    handshakes.add(new Handshake(request.getHttpURI().getPath() + (query == null ? "" : "?" + query),
                            toMap(request), List.copyOf(request.getSubProtocols())));
                }
                if (refuseStatus != 0) {
                    refuseHeaders.forEach((k, v) -> response.getHeaders().put(k, v));
                    Response.writeError(request, response, callback, refuseStatus);
                    return null;
                }
                String chosen = subprotocol.apply(request.getSubProtocols());
                if (chosen != null) {
                    response.setAcceptedSubProtocol(chosen);
                }
                Peer peer = new Peer().echo(echo);
                if (record) {
                    sessions.add(peer);
                    sessionOn(request.getHttpURI().getPath() + (query == null ? "" : "?" + query)).complete(peer);
                } else {
                    peer.record(false).obey(true);
                }
                return peer;
            });
        }));
        server.start();
    }

    private static Map<String, List<String>> toMap(org.eclipse.jetty.server.Request request) {
        Map<String, List<String>> out = new java.util.LinkedHashMap<>();
        request.getHeaders().forEach(f -> out.computeIfAbsent(f.getName(), k -> new java.util.ArrayList<>()).add(f.getValue()));
        return out;
    }

    public ScriptedBackend echo(boolean on) {
        echo = on;
        return this;
    }

    /**
     * Off: keeps no handshake, session or message (for long runs), and every session obeys
     * {@link Peer#obey text commands} so faults can be injected from the client end.
     */
    public ScriptedBackend record(boolean on) {
        record = on;
        return this;
    }

    /** Chooses the subprotocol from those offered ({@code null}: none). */
    public ScriptedBackend subprotocol(Function<List<String>, String> chooser) {
        subprotocol = chooser;
        return this;
    }

    /** Refuses every upgrade with {@code status} and {@code headers}. */
    public ScriptedBackend refuse(int status, Map<String, String> headers) {
        refuseHeaders = headers;
        refuseStatus = status;
        return this;
    }

    /** The base URI, {@code ws://127.0.0.1:<port>/} (or {@code wss://localhost:<port>/}). */
    public URI uri() {
        return URI.create(tls ? "wss://localhost:" + connector.getLocalPort() + "/"
                : "ws://127.0.0.1:" + connector.getLocalPort() + "/");
    }

    public int port() {
        return connector.getLocalPort();
    }

    /** The next handshake the backend saw; fails after 10 s. */
    public Handshake handshake() {
        return poll(handshakes, "handshake");
    }

    /** The next session the backend accepted; fails after 10 s. */
    public Peer session() {
        return poll(sessions, "backend session");
    }

    /**
     * The session accepted on {@code pathAndQuery}, taken once; fails after 10 s. Lets a test that keeps
     * many sessions going at once, each on its own path, find the backend end of each.
     */
    public Peer session(String pathAndQuery) {
        try {
            return sessionOn(pathAndQuery).get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("no backend session on [" + pathAndQuery + "] within 10 s");
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            sessionsByPath.remove(pathAndQuery);
        }
    }

    private CompletableFuture<Peer> sessionOn(String pathAndQuery) {
        return sessionsByPath.computeIfAbsent(pathAndQuery, k -> new CompletableFuture<>());
    }

    /** Every session accepted and not yet taken by {@link #session()}, in order; the queue is left as it was. */
    public List<Peer> sessions() {
        return List.copyOf(sessions);
    }

    /** Every handshake seen and not yet taken by {@link #handshake()}, in order; the queue is left as it was. */
    public List<Handshake> handshakes() {
        return List.copyOf(handshakes);
    }

    /** The SNI host names the next TLS handshake asked for; fails after 10 s. */
    public List<String> serverNames() {
        return poll(serverNames, "TLS handshake");
    }

    /**
     * Stops accepting connections (they are refused). Jetty drops the connector's open connections with it, so
     * open sessions end too (the other side sees 1006), as when a backend process restarts.
     */
    public void stopListening() throws Exception {
        int port = connector.getLocalPort();
        connector.stop();
        connector.setPort(port);
    }

    /**
     * Ends as a killed process would: the listening socket closes (new connections are refused) and every open
     * connection is dropped at once, a handshake in flight without an answer. A plain {@link #close()} stops
     * Jetty in order instead, which answers a handshake caught in the middle {@code 503}.
     */
    public void crash() throws Exception {
        connector.close();
        for (org.eclipse.jetty.io.EndPoint endPoint : connector.getConnectedEndPoints()) {
            endPoint.close();
        }
        server.stop();
    }

    /** Accepts connections again, on the same port. */
    public void startListening() throws Exception {
        connector.start();
    }

    public int handshakeCount() {
        return handshakes.size();
    }

    private static <T> T poll(BlockingQueue<T> q, String what) {
        try {
            T t = q.poll(10, TimeUnit.SECONDS);
            if (t == null) {
                throw new AssertionError("no " + what + " within 10 s");
            }
            return t;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
