package dev.wsbridge.backend;

import dev.wsbridge.config.BridgeConfig;
import jakarta.servlet.http.HttpServletResponse;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.util.thread.Scheduler;
import dev.wsbridge.bridge.BackendLeg;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.core.Configuration;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.eclipse.jetty.websocket.core.client.UpgradeListener;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.JettyUpgradeListener;

/**
 * Opens the backend leg before the client is answered (backend-first), and turns every way that can
 * fail into the HTTP status the client gets: the backend's own 4xx/5xx, 504 when it did not answer in
 * time, 502 for everything else.
 */
public final class BackendConnector {

    private BackendConnector() {
    }

    /** What the backend said: an open session, or the status to refuse the client with. */
    public record Outcome<S>(S session, String subprotocol, int status, Map<String, String> headers, String message) {

        static <S> Outcome<S> refused(int status, Map<String, String> headers, String message) {
            return new Outcome<>(null, null, status, headers, message);
        }

        static <S> Outcome<S> open(S session, String subprotocol) {
            return new Outcome<>(session, subprotocol == null || subprotocol.isEmpty() ? null : subprotocol, 101, Map.of(), null);
        }

        public boolean connected() {
            return session != null;
        }
    }

    /**
     * Connects to {@code uri} and waits, at most the route's upgrade timeout, for the backend's answer.
     *
     * @param listener     the Jetty listener of the new session
     * @param headers      the headers to send (see {@link ForwardedHeaders})
     * @param subprotocols the subprotocols the client offered
     */
    public static Outcome<Session> connect(BackendClient backend, BridgeConfig config, URI uri, Object listener,
            Map<String, List<String>> headers, List<String> subprotocols) throws InterruptedException {
        ClientUpgradeRequest upgrade = new ClientUpgradeRequest(uri);
        upgrade.setHeaders(headers);
        upgrade.setSubProtocols(subprotocols);
        Attempt attempt = new Attempt(backend, config);
        CompletableFuture<Session> future;
        try {
            future = backend.client().connect(listener, upgrade, attempt);
        } catch (Exception e) {
            return Outcome.refused(HttpServletResponse.SC_BAD_GATEWAY, Map.of(), "Backend connection failed");
        }
        Outcome<Session> refused = attempt.await(future);
        if (refused != null) {
            return refused;
        }
        Session session = future.getNow(null);
        return Outcome.open(session, session.getUpgradeResponse().getAcceptedSubProtocol());
    }

    /**
     * Connects the relay's frame-level backend leg to {@code uri}: as {@link #connect}, with the leg told of
     * the end of each burst the backend sends where the connection can report it.
     */
    public static Outcome<CoreSession> connect(BackendClient backend, BridgeConfig config, URI uri, BackendLeg leg,
            Map<String, List<String>> headers, List<String> subprotocols) throws InterruptedException {
        CoreClientUpgradeRequest upgrade = new CoreClientUpgradeRequest(backend.coreClient(), uri) {
            @Override
            public FrameHandler getFrameHandler() {
                return leg;
            }

            @Override
            protected void customize(EndPoint endPoint) {
                super.customize(endPoint);
                if (BurstConnector.onDrained(endPoint, leg.burstListener())) {
                    leg.reportsBurstEnds();
                }
            }
        };
        upgrade.headers(fields -> headers.forEach((name, values) -> values.forEach(v -> fields.add(name, v))));
        upgrade.setSubProtocols(subprotocols);
        upgrade.addExtensions(GracefulClose.NAME);
        Configuration.ConfigurationCustomizer settings = new Configuration.ConfigurationCustomizer();
        settings.setIdleTimeout(config.idleTimeout());
        settings.setMaxFrameSize(BackendClient.FRAME_CHUNK);
        // Read up to this much per fill: a backend frame reaches the client in pieces of at most this size.
        settings.setInputBufferSize(BackendClient.READ_BUFFER);
        settings.setAutoFragment(true);
        settings.setMaxTextMessageSize(Long.MAX_VALUE);
        settings.setMaxBinaryMessageSize(Long.MAX_VALUE);
        upgrade.setConfiguration(settings);
        Attempt attempt = new Attempt(backend, config);
        upgrade.addListener(attempt);
        CompletableFuture<CoreSession> future;
        try {
            future = backend.coreClient().connect(upgrade);
        } catch (Exception e) {
            return Outcome.refused(HttpServletResponse.SC_BAD_GATEWAY, Map.of(), "Backend connection failed");
        }
        Outcome<CoreSession> refused = attempt.await(future);
        if (refused != null) {
            return refused;
        }
        CoreSession session = future.getNow(null);
        return Outcome.open(session, session.getNegotiatedSubProtocol());
    }

    /**
     * One connection attempt's timers and answer. Both timeouts are our own cancellable timers, not
     * HttpClient's request timeout: that one stays scheduled for its full length after the handshake and
     * pins the finished session's objects.
     */
    private static final class Attempt implements JettyUpgradeListener, UpgradeListener {
        private final BackendClient backend;
        private final BridgeConfig config;
        private final AtomicReference<Response> answer = new AtomicReference<>();
        private final AtomicReference<Scheduler.Task> connectTimer = new AtomicReference<>();
        private final AtomicReference<Scheduler.Task> upgradeTimer = new AtomicReference<>();
        private final AtomicBoolean connectTimedOut = new AtomicBoolean();

        Attempt(BackendClient backend, BridgeConfig config) {
            this.backend = backend;
            this.config = config;
        }

        @Override
        public void onHandshakeRequest(Request request) {
            AtomicBoolean committed = new AtomicBoolean();
            request.onRequestCommit(r -> committed.set(true));
            connectTimer.set(backend.scheduler().schedule(() -> {
                if (!committed.get()) {
                    connectTimedOut.set(true);
                    request.abort(new TimeoutException("connect timeout " + config.connectTimeout()));
                }
            }, config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS));
            upgradeTimer.set(backend.scheduler().schedule(
                    () -> request.abort(new TimeoutException("upgrade timeout " + config.upgradeTimeout())),
                    config.upgradeTimeout().toMillis(), TimeUnit.MILLISECONDS));
        }

        @Override
        public void onHandshakeResponse(Request request, Response response) {
            answer.set(response);
        }

        /**
         * Waits for {@code future}, at most the upgrade timeout: null once it holds a session (then complete, so
         * {@code getNow} takes it), else the refusal to give the client.
         */
        <S> Outcome<S> await(CompletableFuture<S> future) throws InterruptedException {
            try {
                future.get(config.upgradeTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
                return null;
            } catch (TimeoutException e) {
                future.cancel(true);
                return Outcome.refused(HttpServletResponse.SC_GATEWAY_TIMEOUT, Map.of(), "Backend did not answer in time");
            } catch (ExecutionException e) {
                return classify(e.getCause(), answer.get(), connectTimedOut.get());
            } finally {
                cancel(connectTimer.get());
                cancel(upgradeTimer.get());
            }
        }
    }

    private static void cancel(Scheduler.Task timer) {
        if (timer != null) {
            timer.cancel();
        }
    }

    private static <S> Outcome<S> classify(Throwable failure, Response response, boolean connectTimedOut) {
        if (response != null && response.getStatus() >= 400 && response.getStatus() <= 599) {
            Map<String, String> relayed = new LinkedHashMap<>();
            for (HttpField f : response.getHeaders()) {
                if (ForwardedHeaders.RELAYED_ON_REFUSAL.contains(f.getName().toLowerCase(Locale.ROOT))) {
                    relayed.put(f.getName(), f.getValue());
                }
            }
            return Outcome.refused(response.getStatus(), relayed, "Backend refused the upgrade");
        }
        if (response != null) {
            return Outcome.refused(HttpServletResponse.SC_BAD_GATEWAY, Map.of(),
                    "Backend answered the upgrade with status " + response.getStatus());
        }
        if (connectTimedOut || isTimeout(failure)) {
            return Outcome.refused(HttpServletResponse.SC_GATEWAY_TIMEOUT, Map.of(), "Backend did not answer in time");
        }
        return Outcome.refused(HttpServletResponse.SC_BAD_GATEWAY, Map.of(), "Backend unreachable");
    }

    private static boolean isTimeout(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || c instanceof SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }
}
