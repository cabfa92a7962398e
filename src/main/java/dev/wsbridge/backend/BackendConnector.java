package dev.wsbridge.backend;

import dev.wsbridge.config.BridgeConfig;
import jakarta.servlet.http.HttpServletResponse;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import dev.wsbridge.observability.HandshakeTrace;
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

    /** How far an attempt got before it ended: whether another backend may still be tried. */
    public enum Stage {
        /** No request reached the backend: the TCP connect was refused or timed out, the name did not resolve, or TLS failed. */
        CONNECT,
        /** The upgrade request was sent and no answer came (timed out, or the connection dropped). */
        REQUEST,
        /** The backend answered HTTP (101 or not), or the attempt never started. */
        ANSWERED
    }

    /**
     * What the backend said: an open session, or the status to refuse the client with.
     *
     * @param stage  how far the attempt got
     * @param cause  the failure behind a refusal the backend did not answer, or null
     * @param answer what the backend answered, for the troubleshooting trace: status, reason and headers (values of
     *               those safe to show, see {@link HandshakeTrace}); null when it did not answer
     */
    public record Outcome<S>(S session, String subprotocol, int status, Map<String, String> headers, String message,
            Stage stage, Throwable cause, String answer) {

        static <S> Outcome<S> refused(int status, Map<String, String> headers, String message) {
            return new Outcome<>(null, null, status, headers, message, Stage.ANSWERED, null, null);
        }

        static <S> Outcome<S> failed(int status, String message, Stage stage, Throwable cause) {
            return new Outcome<>(null, null, status, Map.of(), message, stage, cause, null);
        }

        static <S> Outcome<S> open(S session, String subprotocol) {
            return new Outcome<>(session, subprotocol == null || subprotocol.isEmpty() ? null : subprotocol, 101, Map.of(),
                    null, Stage.ANSWERED, null, "101");
        }

        Outcome<S> answered(Response response) {
            Map<String, List<String>> shown = new LinkedHashMap<>();
            for (HttpField f : response.getHeaders()) {
                shown.computeIfAbsent(f.getName(), k -> new java.util.ArrayList<>()).add(f.getValue());
            }
            return new Outcome<>(session, subprotocol, status, headers, message, stage, cause,
                    response.getStatus() + " " + response.getReason() + " [" + HandshakeTrace.headers(shown) + "]");
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
        return connect(backend, config, uri, listener, headers, subprotocols, deadline(config));
    }

    /** As {@link #connect(BackendClient, BridgeConfig, URI, Object, Map, List)}, given up at {@code deadlineNanos}. */
    public static Outcome<Session> connect(BackendClient backend, BridgeConfig config, URI uri, Object listener,
            Map<String, List<String>> headers, List<String> subprotocols, long deadlineNanos) throws InterruptedException {
        ClientUpgradeRequest upgrade = new ClientUpgradeRequest(uri);
        upgrade.setHeaders(headers);
        upgrade.setSubProtocols(subprotocols);
        // Not a request tag: HttpClient keys its destinations by tag, so one per handshake would keep every session.
        Attempt attempt = new Attempt(backend, config, deadlineNanos);
        CompletableFuture<Session> future;
        try {
            future = backend.client().connect(listener, upgrade, attempt);
        } catch (Exception e) {
            return Outcome.failed(HttpServletResponse.SC_BAD_GATEWAY, "Backend connection failed", Stage.ANSWERED, e);
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
        return connect(backend, config, uri, leg, headers, subprotocols, deadline(config));
    }

    /** As {@link #connect(BackendClient, BridgeConfig, URI, BackendLeg, Map, List)}, given up at {@code deadlineNanos}. */
    public static Outcome<CoreSession> connect(BackendClient backend, BridgeConfig config, URI uri, BackendLeg leg,
            Map<String, List<String>> headers, List<String> subprotocols, long deadlineNanos) throws InterruptedException {
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
        if (config.deflate().backend()) {
            // Jetty's own permessage-deflate: the leg's frames are inflated before they reach it.
            upgrade.addExtensions(config.deflate().contextTakeover() ? "permessage-deflate"
                    : "permessage-deflate; client_no_context_takeover; server_no_context_takeover");
        }
        Configuration.ConfigurationCustomizer settings = new Configuration.ConfigurationCustomizer();
        // The relay's own idle timer ends a quiet session first (1001 both ways, logged as idle); the
        // connection's timeout is only its backstop, or it races that timer and the session ends as a backend error.
        settings.setIdleTimeout(config.idleTimeout().plus(config.closeTimeout()).plusSeconds(1));
        settings.setMaxFrameSize(BackendClient.FRAME_CHUNK);
        // Read up to this much per fill: a backend frame reaches the client in pieces of at most this size.
        settings.setInputBufferSize(BackendClient.READ_BUFFER);
        settings.setAutoFragment(true);
        settings.setMaxTextMessageSize(Long.MAX_VALUE);
        settings.setMaxBinaryMessageSize(Long.MAX_VALUE);
        upgrade.setConfiguration(settings);
        Attempt attempt = new Attempt(backend, config, deadlineNanos);
        upgrade.addListener(attempt);
        // The timers start when the request is queued, before its connection is opened. Through a request
        // listener, not a request tag: HttpClient keys its destinations by tag, so a tag per handshake made a
        // destination per session, which kept every ended session reachable.
        upgrade.listener(new Request.Listener() {
            @Override
            public void onQueued(Request request) {
                attempt.queued(request);
            }
        });
        CompletableFuture<CoreSession> future;
        try {
            future = backend.coreClient().connect(upgrade);
        } catch (Exception e) {
            return Outcome.failed(HttpServletResponse.SC_BAD_GATEWAY, "Backend connection failed", Stage.ANSWERED, e);
        }
        Outcome<CoreSession> refused = attempt.await(future);
        if (refused != null) {
            return refused;
        }
        CoreSession session = future.getNow(null);
        return Outcome.open(session, session.getNegotiatedSubProtocol());
    }

    /** The end of the route's upgrade budget for an attempt starting now. */
    private static long deadline(BridgeConfig config) {
        return System.nanoTime() + config.upgradeTimeout().toNanos();
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
        private final AtomicBoolean committed = new AtomicBoolean();
        private final AtomicBoolean timersStarted = new AtomicBoolean();
        /** The upgrade budget left when the attempt starts, in milliseconds (at least 1). */
        private final long budgetMillis;

        Attempt(BackendClient backend, BridgeConfig config, long deadlineNanos) {
            this.backend = backend;
            this.config = config;
            this.budgetMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
        }

        /**
         * The request is queued, before its connection is opened: the upgrade listeners hear of it only once a
         * connection is there, so timers started only there would miss a connect that hangs.
         */
        void queued(Request request) {
            startTimers(request);
        }

        @Override
        public void onHandshakeRequest(Request request) {
            startTimers(request);
        }

        /** Starts the connect and upgrade timers of {@code request}, once. */
        void startTimers(Request request) {
            if (!timersStarted.compareAndSet(false, true)) {
                return;
            }
            // The connection's own idle timeout (HttpClient's 30 s) must not end a handshake the upgrade budget
            // still allows: the backend may take its time to answer.
            request.idleTimeout(budgetMillis + 1000, TimeUnit.MILLISECONDS);
            // Committed: the request head went out, so the TCP connect and any TLS handshake succeeded.
            request.onRequestCommit(r -> committed.set(true));
            connectTimer.set(backend.scheduler().schedule(() -> {
                if (!committed.get()) {
                    connectTimedOut.set(true);
                    request.abort(new TimeoutException("connectTimeout of " + config.connectTimeout().toMillis() + " ms expired"));
                }
            }, Math.min(config.connectTimeout().toMillis(), budgetMillis), TimeUnit.MILLISECONDS));
            upgradeTimer.set(backend.scheduler().schedule(
                    () -> request.abort(new TimeoutException("upgradeTimeout of " + config.upgradeTimeout().toMillis() + " ms expired")),
                    budgetMillis, TimeUnit.MILLISECONDS));
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
                future.get(budgetMillis + 1000, TimeUnit.MILLISECONDS);
                return null;
            } catch (TimeoutException e) {
                future.cancel(true);
                return Outcome.failed(HttpServletResponse.SC_GATEWAY_TIMEOUT, "Backend did not answer in time",
                        committed.get() ? Stage.REQUEST : Stage.CONNECT, e);
            } catch (ExecutionException e) {
                return classify(e.getCause(), answer.get(), connectTimedOut.get(), committed.get());
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

    private static <S> Outcome<S> classify(Throwable failure, Response response, boolean connectTimedOut, boolean committed) {
        if (response != null && response.getStatus() >= 400 && response.getStatus() <= 599) {
            Map<String, String> relayed = new LinkedHashMap<>();
            for (HttpField f : response.getHeaders()) {
                if (ForwardedHeaders.RELAYED_ON_REFUSAL.contains(f.getName().toLowerCase(Locale.ROOT))) {
                    relayed.put(f.getName(), f.getValue());
                }
            }
            return Outcome.<S>refused(response.getStatus(), relayed, "Backend refused the upgrade").answered(response);
        }
        if (response != null) {
            return Outcome.<S>refused(HttpServletResponse.SC_BAD_GATEWAY, Map.of(),
                    "Backend answered the upgrade with status " + response.getStatus()).answered(response);
        }
        // Not committed: the request never reached the backend, so another backend may be tried.
        Stage stage = connectTimedOut || !committed ? Stage.CONNECT : Stage.REQUEST;
        if (connectTimedOut || isTimeout(failure)) {
            return Outcome.failed(HttpServletResponse.SC_GATEWAY_TIMEOUT, "Backend did not answer in time", stage, failure);
        }
        return Outcome.failed(HttpServletResponse.SC_BAD_GATEWAY, "Backend unreachable", stage, failure);
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
