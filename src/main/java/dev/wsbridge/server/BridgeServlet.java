package dev.wsbridge.server;

import dev.wsbridge.backend.Backend;
import dev.wsbridge.backend.BackendClient;
import dev.wsbridge.backend.BackendConnector;
import dev.wsbridge.backend.BackendConnector.Outcome;
import dev.wsbridge.backend.BackendPool;
import dev.wsbridge.backend.BackendTls;
import dev.wsbridge.backend.HealthChecker;
import dev.wsbridge.backend.BackendUri;
import dev.wsbridge.backend.ForwardedHeaders;
import dev.wsbridge.bridge.Bridge;
import dev.wsbridge.bridge.BridgeRegistry;
import dev.wsbridge.bridge.Bridged;
import dev.wsbridge.bridge.Relay;
import dev.wsbridge.config.BridgeConfig;
import dev.wsbridge.config.ConfigException;
import dev.wsbridge.config.ParamSource;
import dev.wsbridge.http.HttpRoute;
import dev.wsbridge.observability.HandshakeTrace;
import dev.wsbridge.observability.Metrics;
import dev.wsbridge.observability.RouteObserver;
import dev.wsbridge.observability.SessionRecord;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.UnavailableException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.core.CoreSession;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One route: takes WebSocket upgrades, connects the backend first, and only then upgrades the client
 * with the backend's answer. Declare it once per route in web.xml, each with its own init-params.
 */
public final class BridgeServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(BridgeServlet.class);

    private transient BridgeConfig config;
    private transient ForwardedHeaders forwarded;
    private transient BackendClient backend;
    private transient BackendPool pool;
    private transient HealthChecker healthChecker;
    private transient ClientUpgrader upgrader;
    private transient BridgeRegistry registry;
    private transient Semaphore pendingHandshakes;
    /** Whether the client leg runs on the Servlet API's upgrade (the relay) rather than Jakarta WebSocket (the bridge). */
    private transient boolean servletUpgrade;
    private transient Admission admission;
    /** Leaves Jetty's graceful stop, on Jetty with the client leg on the Servlet upgrade; else null. */
    private transient Runnable leaveGracefulStop;
    /** Proxies the requests that are not WebSocket upgrades over HTTP; null when {@code httpProxy} is false. */
    private transient HttpRoute http;
    /** The route's access log, metrics and live sessions. */
    private transient RouteObserver observer;

    @Override
    public void init(ServletConfig servletConfig) throws ServletException {
        super.init(servletConfig);
        ServletContext context = servletConfig.getServletContext();
        String route = servletConfig.getServletName();
        try {
            config = BridgeConfig.parse(RouteCheck.params(context, servletConfig::getInitParameter));
            // RouteCheck (web.xml) has already failed the deployment for a bad value; this covers a
            // web.xml that leaves the listener out.
        } catch (ConfigException e) {
            LOG.error("wsbridge route [{}] not started: {}", route, e.getMessage());
            throw new UnavailableException(e.getMessage());
        }
        forwarded = new ForwardedHeaders(config.identity());
        servletUpgrade = ServletUpgrader.supported(context);
        boolean jakarta = JakartaSupport.present(getClass().getClassLoader());
        if (!servletUpgrade && !jakarta) {
            String message = JakartaSupport.missingMessage(context);
            LOG.error(message);
            throw new UnavailableException(message);
        }
        if (!servletUpgrade) {
            try {
                upgrader = new ClientUpgrader(context);
            } catch (UnavailableException e) {
                LOG.error(e.getMessage());
                throw e;
            }
        } else if (jakarta && JettyUpgrade.isJetty(context)) {
            // The Jakarta route stays at hand for a request whose Jetty connection cannot be mended.
            try {
                upgrader = new ClientUpgrader(context);
            } catch (UnavailableException e) {
                LOG.debug("wsbridge route [{}]: no Jakarta WebSocket fallback: {}", route, e.getMessage());
            }
        }
        try {
            BackendTls.check(config.backends().tls());
        } catch (ConfigException e) {
            LOG.error("wsbridge route [{}] not started: {}", route, e.getMessage());
            throw new UnavailableException(e.getMessage());
        }
        if (!config.backends().tls().hostnameVerification()) {
            LOG.warn("wsbridge route [{}]: backendHostnameVerification is false: a wss:// backend's certificate is not"
                    + " checked against its host name, so any server with a certificate the trust store trusts can"
                    + " pose as the backend", route);
        }
        try {
            backend = BackendClient.acquire(context, route, config.backends().tls());
        } catch (Exception e) {
            throw new ServletException("wsbridge route [" + route + "] could not start its backend client", e);
        }
        if (config.http().enabled()) {
            try {
                http = HttpRoute.start(servletConfig, config, backend);
            } catch (ServletException | RuntimeException e) {
                backend.release(context);
                backend = null;
                throw e;
            }
        }
        registry = new BridgeRegistry(config.maxSessions());
        pool = new BackendPool(route, config);
        if (servletUpgrade && JettyUpgrade.isJetty(context)) {
            leaveGracefulStop = JettyUpgrade.joinGracefulStop(context, () -> drainAll(route));
        }
        admission = new Admission(config, registry, route);
        observer = new RouteObserver(route, Metrics.of(context), config.messageMetrics(), config.accessLog(),
                config.accessLogQuery());
        observer.backends(pool::backends);
        observer.settings(shown(RouteCheck.params(context, servletConfig::getInitParameter)));
        pendingHandshakes = admission.handshakePermits();
        // Last, so an init that failed leaves no MBean and no check running.
        pool.register(context.getContextPath());
        observer.register(context.getContextPath());
        observer.interimLines(backend.scheduler(), config.accessLogInterval().toMillis());
        healthChecker = HealthChecker.start(route, backend, config.backends().check(), pool);
        LOG.info("wsbridge route [{}] ready: {}, client leg on [{}] by {}", route, config, context.getServerInfo(),
                !servletUpgrade ? "Jakarta WebSocket" : upgrader == null ? "Servlet upgrade"
                        : "Servlet upgrade (Jakarta WebSocket where that cannot be used)");
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
        if (http != null && HttpRoute.takes(req)) {
            List<Backend> candidates = pool.candidates(req);
            if (candidates.isEmpty()) {
                refuse(resp, HttpServletResponse.SC_SERVICE_UNAVAILABLE, Admission.RETRY, "No backend available");
                observer.httpAnswered(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
                return;
            }
            http.proxy(req, resp, candidates.get(0).target());
            countWhenAnswered(req, resp);
            return;
        }
        SessionRecord record = observer.handshake(req);
        if (LOG.isDebugEnabled()) {
            LOG.debug("[{}] handshake from {}: {} {} [{}]", record.id(), req.getRemoteAddr(), req.getMethod(),
                    req.getRequestURI(), HandshakeTrace.headers(req));
        }
        HandshakeCheck.Refusal refusal = HandshakeCheck.check(req, config);
        if (refusal != null) {
            refuse(record, resp, refusal.status(), refusal.headers(), refusal.message());
            return;
        }
        String suffix = BackendUri.rawSuffix(req.getRequestURI(), req.getContextPath(), req.getServletPath());
        try {
            BackendUri.resolve(config.proxyTo(), suffix, req.getQueryString());
        } catch (BackendUri.RejectedPathException e) {
            refuse(record, resp, HttpServletResponse.SC_BAD_REQUEST, Map.of(), e.getMessage());
            return;
        }
        Runnable beforeInit = servletUpgrade ? ServletUpgrader.prepare(getServletContext(), req, config) : null;
        if (servletUpgrade && beforeInit == null) {
            if (upgrader == null) {
                LOG.warn("wsbridge route [{}]: [{}] cannot take this connection over with its Servlet upgrade, and"
                        + " offers no Jakarta WebSocket to fall back on", getServletName(), getServletContext().getServerInfo());
                refuse(record, resp, HttpServletResponse.SC_INTERNAL_SERVER_ERROR, Map.of(), "WebSocket upgrade not available");
                return;
            }
            LOG.debug("wsbridge route [{}]: Servlet upgrade not usable on this connection; Jakarta WebSocket instead",
                    getServletName());
        }
        HandshakeCheck.Refusal unavailable = admission.admit();
        if (unavailable != null) {
            refuse(record, resp, unavailable.status(), unavailable.headers(), unavailable.message());
            return;
        }
        if (beforeInit != null) {
            relay(record, req, resp, suffix, beforeInit);
        } else {
            bridge(record, req, resp, suffix);
        }
    }

    /** Holds a reserved slot and a pending-handshake permit on entry; gives back what it does not use. */
    private void relay(SessionRecord record, HttpServletRequest req, HttpServletResponse resp, String suffix,
            Runnable beforeInit) throws IOException {
        BackendPool.Lease lease = BackendPool.lease();
        Relay relay = new Relay(record, config, backend.scheduler(), backend.bufferPool(), r -> closed(r, lease));
        Outcome<CoreSession> outcome = connectOrRefuse(relay, req, resp, suffix, lease,
                (target, deadline) -> timed(record, target, () -> BackendConnector.connect(backend, config, target,
                        relay.backendLeg(), forwarded.of(req), ForwardedHeaders.subprotocols(req), deadline)));
        if (outcome == null) {
            return;
        }
        observer.opened(record, outcome.subprotocol());
        LOG.debug("[{}] answering the client 101{}", record.id(),
                outcome.subprotocol() == null ? "" : ", subprotocol " + outcome.subprotocol());
        try {
            ServletUpgrader.upgrade(req, resp, relay, outcome.subprotocol(), config.deflate(), beforeInit);
        } catch (Exception e) {
            relay.clientUpgradeFailed(e);
            if (!resp.isCommitted()) {
                resp.reset();
                refuse(resp, HttpServletResponse.SC_BAD_REQUEST, Map.of(), "WebSocket upgrade failed");
            }
        }
    }

    /** Holds a reserved slot and a pending-handshake permit on entry; gives back what it does not use. */
    private void bridge(SessionRecord record, HttpServletRequest req, HttpServletResponse resp, String suffix)
            throws IOException {
        BackendPool.Lease lease = BackendPool.lease();
        Bridge bridge = new Bridge(record, config, backend.scheduler(), backend.executor(), b -> closed(b, lease));
        Outcome<Session> outcome = connectOrRefuse(bridge, req, resp, suffix, lease,
                (target, deadline) -> timed(record, target, () -> BackendConnector.connect(backend, config, target,
                        bridge.backendListener(), forwarded.of(req), ForwardedHeaders.subprotocols(req), deadline)));
        if (outcome == null) {
            return;
        }
        observer.opened(record, outcome.subprotocol());
        LOG.debug("[{}] answering the client 101{}", record.id(),
                outcome.subprotocol() == null ? "" : ", subprotocol " + outcome.subprotocol());
        try {
            upgrader.upgrade(req, resp, bridge, outcome.subprotocol());
        } catch (Exception e) {
            bridge.clientUpgradeFailed(e);
            if (!resp.isCommitted()) {
                refuse(resp, HttpServletResponse.SC_BAD_REQUEST, Map.of(), "WebSocket upgrade failed");
            }
        }
    }

    /** A session ended: its slot and its backend's count are given back, and it is logged. */
    private void closed(Bridged session, BackendPool.Lease lease) {
        registry.closed(session);
        lease.release();
        observer.ended(session.record());
    }

    /** The route's init-params as set (placeholders unresolved), with passwords hidden: for the status page. */
    private static Map<String, String> shown(ParamSource source) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        BridgeConfig.DEFAULTS.forEach((name, fallback) -> {
            String v = source.get(name);
            v = v == null ? fallback : v;
            if (v != null && name.endsWith("Password") && !v.isEmpty() && !v.startsWith("${")) {
                v = "(hidden)";
            }
            out.put(name, v == null ? "" : v);
        });
        return out;
    }

    /** One backend attempt, with the backend it went to recorded and its time counted. */
    private <S> Outcome<S> timed(SessionRecord record, java.net.URI target, Connect<S> connect) throws InterruptedException {
        record.backend(target);
        LOG.debug("[{}] connecting backend {}{} (query not shown)", record.id(), record.backend(), target.getRawPath());
        long start = System.nanoTime();
        Outcome<S> outcome = null;
        try {
            outcome = connect.run();
            return outcome;
        } finally {
            long nanos = System.nanoTime() - start;
            observer.backendAnswered(nanos);
            if (LOG.isDebugEnabled()) {
                if (outcome == null) {
                    LOG.debug("[{}] backend {} attempt interrupted after {} ms", record.id(), record.backend(), nanos / 1_000_000);
                } else if (outcome.answer() != null) {
                    LOG.debug("[{}] backend {} answered {} after {} ms", record.id(), record.backend(), outcome.answer(),
                            nanos / 1_000_000);
                } else {
                    LOG.debug("[{}] backend {} gave no answer after {} ms: {} ({}; stage {})", record.id(), record.backend(),
                            nanos / 1_000_000, outcome.message(), outcome.cause() == null ? "no cause"
                                    : describe(outcome.cause()), outcome.stage());
                }
            }
        }
    }

    /** A failure and its causes, one line: which timeout fired, which connection failed. */
    private static String describe(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null && b.length() < 500; c = c.getCause()) {
            if (b.length() > 0) {
                b.append(" <- ");
            }
            b.append(c.getClass().getSimpleName()).append(c.getMessage() == null ? "" : ": " + c.getMessage());
        }
        return b.toString();
    }

    private interface Connect<S> {
        Outcome<S> run() throws InterruptedException;
    }

    /** Counts a proxied HTTP request by its status once it is answered. */
    private void countWhenAnswered(HttpServletRequest req, HttpServletResponse resp) {
        if (!req.isAsyncStarted()) {
            observer.httpAnswered(resp.getStatus());
            return;
        }
        req.getAsyncContext().addListener(new AsyncListener() {
            @Override
            public void onComplete(AsyncEvent event) {
                observer.httpAnswered(resp.getStatus());
            }

            @Override
            public void onTimeout(AsyncEvent event) {
                // onComplete follows.
            }

            @Override
            public void onError(AsyncEvent event) {
                // onComplete follows.
            }

            @Override
            public void onStartAsync(AsyncEvent event) {
                // Not restarted.
            }
        });
    }

    /**
     * Tracks {@code session} and connects its backend (the pool chooses it, and tries the next on a failed
     * connection), giving the pending-handshake permit back once a backend has answered; when none answered
     * 101, refuses the client with the status it earns, gives the slot back and returns null.
     */
    private <S> Outcome<S> connectOrRefuse(Bridged session, HttpServletRequest req, HttpServletResponse resp, String suffix,
            BackendPool.Lease lease, BackendPool.Attempt<S> connect) throws IOException {
        registry.track(session);
        Outcome<S> outcome;
        try {
            outcome = pool.connect(req, suffix, lease, connect);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcome = null;
        } finally {
            pendingHandshakes.release();
        }
        if (outcome != null && outcome.connected()) {
            return outcome;
        }
        registry.closed(session);
        int status = outcome == null ? HttpServletResponse.SC_SERVICE_UNAVAILABLE : outcome.status();
        refuse(session.record(), resp, status, outcome == null ? Map.of() : outcome.headers(),
                outcome == null ? "Interrupted" : outcome.message());
        return null;
    }

    /** Refuses a WebSocket handshake: answered, counted and logged. */
    private void refuse(SessionRecord record, HttpServletResponse resp, int status, Map<String, String> headers,
            String message) throws IOException {
        observer.refused(record, status, message);
        LOG.debug("[{}] refused {}: {}", record.id(), status, message);
        refuse(resp, status, headers, message);
    }

    private static void refuse(HttpServletResponse resp, int status, Map<String, String> headers, String message)
            throws IOException {
        resp.setStatus(status);
        headers.forEach(resp::setHeader);
        resp.setContentType("text/plain;charset=utf-8");
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    /** Drains every session on a thread of its own, for Jetty's graceful stop; completes once all are closed. */
    private CompletableFuture<Void> drainAll(String route) {
        CompletableFuture<Void> drained = new CompletableFuture<>();
        Thread drainer = new Thread(() -> {
            try {
                registry.shutdown(config.drainTimeout().toMillis(), config.closeTimeout().toMillis() + 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                drained.complete(null);
            }
        }, "wsbridge-" + route + "-drain");
        drainer.setDaemon(true);
        drainer.start();
        return drained;
    }

    @Override
    public void destroy() {
        if (leaveGracefulStop != null) {
            leaveGracefulStop.run();
            leaveGracefulStop = null;
        }
        if (admission != null) {
            admission.close();
        }
        if (registry != null) {
            try {
                int left = registry.shutdown(config.drainTimeout().toMillis(), config.closeTimeout().toMillis() + 1000);
                if (left > 0) {
                    LOG.warn("wsbridge route [{}]: {} sessions still open after the close timeout", getServletName(), left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.warn("wsbridge route [{}]: closing sessions failed", getServletName(), e);
            }
        }
        if (http != null) {
            http.stop();
            http = null;
        }
        if (healthChecker != null) {
            healthChecker.stop();
        }
        if (pool != null) {
            pool.unregister();
        }
        if (observer != null) {
            observer.close();
        }
        if (backend != null) {
            backend.release(getServletContext());
            backend = null;
        }
    }
}
