package dev.wsbridge.backend;

import dev.wsbridge.backend.BackendConnector.Outcome;
import dev.wsbridge.backend.BackendConnector.Stage;
import dev.wsbridge.config.BackendMember;
import dev.wsbridge.config.BackendSettings;
import dev.wsbridge.config.BridgeConfig;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A route's backends: chooses one for each new session with the route's balancer, tries the next when a
 * connection to one fails before the backend saw the request (within the route's upgrade budget), keeps each
 * backend's passive health, and publishes each backend as an MBean to drain it and read its figures.
 */
public final class BackendPool {

    private static final Logger LOG = LoggerFactory.getLogger(BackendPool.class);

    private final String route;
    private final BridgeConfig config;
    private final BackendSettings settings;
    private final List<Backend> backends;
    private final Balancer balancer;
    private final Map<String, String> retryAfter;
    private final List<ObjectName> registered = new ArrayList<>();

    /** One connection attempt to a chosen backend, given up at {@code deadlineNanos}. */
    @FunctionalInterface
    public interface Attempt<S> {
        Outcome<S> connect(URI uri, long deadlineNanos) throws InterruptedException;
    }

    public BackendPool(String route, BridgeConfig config) {
        this.route = route;
        this.config = config;
        this.settings = config.backends();
        List<BackendMember> members = settings.members();
        List<Backend> list = new ArrayList<>(members.size());
        for (int i = 0; i < members.size(); i++) {
            list.add(new Backend(route, members.get(i), i, settings.passiveFailures(),
                    settings.passiveCooldown().toNanos(), members.size() > 1));
        }
        this.backends = List.copyOf(list);
        this.balancer = Balancer.of(settings.balancer(), members.size());
        long seconds = Math.max(1, (settings.passiveCooldown().toMillis() + 999) / 1000);
        this.retryAfter = Map.of("Retry-After", Long.toString(seconds));
    }

    public List<Backend> backends() {
        return backends;
    }

    /**
     * Connects a new session's backend: the balancer's choice first, then, while the failures are of the kind
     * another backend may fix (no request reached the backend) and the upgrade budget lasts, the next ones.
     * Once a backend has answered, its answer is the outcome. With several backends and none left to try, the
     * outcome is 503 with {@code Retry-After}; with one, it is that backend's failure (502 or 504).
     *
     * @param lease given the backend that opened the session, which counts it until the lease is released
     */
    public <S> Outcome<S> connect(HttpServletRequest req, String rawSuffix, Lease lease, Attempt<S> attempt)
            throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + config.upgradeTimeout().toNanos();
        List<Backend> order = order(req, start);
        Outcome<S> last = null;
        for (Backend backend : order) {
            long now = System.nanoTime();
            if (now - deadline >= 0) {
                break;
            }
            if (!backend.acquire(now)) {
                continue;
            }
            URI uri;
            try {
                uri = BackendUri.resolve(backend.target(), rawSuffix, req.getQueryString());
            } catch (BackendUri.RejectedPathException e) {
                backend.abandoned();
                return Outcome.refused(HttpServletResponse.SC_BAD_REQUEST, Map.of(), e.getMessage());
            }
            backend.sessionStarting();
            Outcome<S> outcome;
            try {
                outcome = attempt.connect(uri, deadline);
            } catch (InterruptedException | RuntimeException e) {
                backend.sessionEnded();
                backend.abandoned();
                throw e;
            }
            record(backend, outcome);
            if (outcome.connected()) {
                backend.sessionOpened();
                lease.assign(backend);
                return outcome;
            }
            backend.sessionEnded();
            if (!retryable(outcome) || backends.size() == 1) {
                return outcome;
            }
            LOG.debug("wsbridge route [{}]: backend [{}] failed ({} {}), trying the next", route, backend.target(),
                    outcome.status(), outcome.message());
            last = outcome;
        }
        if (backends.size() == 1 && last != null) {
            return last;
        }
        return Outcome.refused(HttpServletResponse.SC_SERVICE_UNAVAILABLE, retryAfter,
                last == null ? "No backend available" : "No backend could be reached");
    }

    /**
     * Whether another backend may be tried after {@code outcome}: the backend never saw the request (connect
     * refused or timed out, TLS failed), or it took the request and dropped the connection without an HTTP
     * answer (it died with the handshake in flight). Never once it answered, and never after a timeout, which
     * has spent the budget.
     */
    private static boolean retryable(Outcome<?> outcome) {
        return outcome.stage() == Stage.CONNECT
                || (outcome.stage() == Stage.REQUEST && outcome.status() == HttpServletResponse.SC_BAD_GATEWAY);
    }

    /**
     * The backends that may take a new session from {@code req} now, in the order to try them: the balancer's
     * choice first. HTTP requests of a route use it too, so the hash sends a client's polls where its upgrade goes.
     */
    public List<Backend> candidates(HttpServletRequest req) {
        return order(req, System.nanoTime());
    }

    /** The eligible backends at {@code now}, in the order the balancer tries them. */
    List<Backend> order(HttpServletRequest req, long now) {
        List<Backend> eligible = new ArrayList<>(backends.size());
        for (Backend b : backends) {
            if (b.eligible(now)) {
                eligible.add(b);
            }
        }
        if (eligible.isEmpty()) {
            return eligible;
        }
        if (eligible.size() == 1) {
            return eligible;
        }
        return balancer.order(eligible, settings.balancer() == BackendSettings.Balancer.HASH ? key(req) : null);
    }

    private void record(Backend backend, Outcome<?> outcome) {
        String line;
        if (outcome.connected() || outcome.stage() == Stage.ANSWERED) {
            line = backend.answered();
        } else {
            Throwable tls = tlsFailure(outcome.cause());
            String why = tls != null ? "TLS: " + tls.getMessage() : outcome.status() + " " + outcome.message()
                    + (outcome.cause() == null ? "" : ": " + outcome.cause());
            line = backend.failed(System.nanoTime(), why);
            // The first TLS failure in a row says why; a wrong trust store or host name fails every handshake alike.
            if (tls != null && backend.failuresInARow() == 1) {
                LOG.warn("wsbridge route [{}]: TLS handshake with backend [{}] failed: {}", route, backend.target(),
                        tls.getMessage());
            }
        }
        if (line != null) {
            LOG.info("wsbridge route [{}]: {}", route, line);
        }
    }

    private static Throwable tlsFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SSLException) {
                return c;
            }
        }
        return null;
    }

    /** The request's hash key, or null when it has none. */
    private String key(HttpServletRequest req) {
        BackendSettings.HashKey key = settings.hashKey();
        return switch (key.source()) {
            case CLIENT_ADDRESS -> req.getRemoteAddr();
            case HEADER -> req.getHeader(key.name());
            case COOKIE -> cookie(req, key.name());
            case QUERY -> queryParam(req.getQueryString(), key.name());
        };
    }

    private static String cookie(HttpServletRequest req, String name) {
        Cookie[] cookies = req.getCookies();
        if (cookies != null) {
            for (Cookie c : cookies) {
                if (c.getName().equals(name)) {
                    return c.getValue();
                }
            }
        }
        return null;
    }

    /** The raw value of the first {@code name} in the query string; the body is never read for it. */
    static String queryParam(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String n = eq < 0 ? pair : pair.substring(0, eq);
            if (n.equals(name)) {
                return eq < 0 ? "" : pair.substring(eq + 1);
            }
        }
        return null;
    }

    /** Publishes each backend as an MBean, named by context, route and URI. */
    public void register(String contextPath) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        for (Backend b : backends) {
            try {
                ObjectName name = new ObjectName("dev.wsbridge:type=Backend,context="
                        + ObjectName.quote(contextPath.isEmpty() ? "/" : contextPath) + ",route=" + ObjectName.quote(route)
                        + ",backend=" + ObjectName.quote(b.target().toString()));
                server.registerMBean(b, name);
                registered.add(name);
            } catch (JMException e) {
                LOG.warn("wsbridge route [{}]: backend [{}] not published over JMX: {}", route, b.target(), e.toString());
            }
        }
    }

    /** Removes what {@link #register} published. */
    public void unregister() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        for (ObjectName name : registered) {
            try {
                server.unregisterMBean(name);
            } catch (JMException e) {
                LOG.debug("wsbridge route [{}]: {} already gone", route, name);
            }
        }
        registered.clear();
    }

    /** A new lease for one handshake. */
    public static Lease lease() {
        return new Lease();
    }

    /**
     * One session's hold on the backend that opened it: counted among the backend's open sessions from the
     * handshake until {@link #release}, whichever of assign and release comes first.
     */
    public static final class Lease {
        private Backend backend;
        private boolean released;

        synchronized void assign(Backend b) {
            if (released) {
                b.sessionEnded();
            } else {
                backend = b;
            }
        }

        /** The session ended; later calls do nothing. */
        public void release() {
            Backend b;
            synchronized (this) {
                if (released) {
                    return;
                }
                released = true;
                b = backend;
            }
            if (b != null) {
                b.sessionEnded();
            }
        }
    }

    @Override
    public String toString() {
        return "BackendPool[" + route + ", " + backends + "]";
    }
}
