package dev.wsbridge.observability;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import jakarta.servlet.ServletContext;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The metrics of every route of one web application, in one Prometheus registry kept as a context attribute:
 * each family is registered once and carries the route as a label, never a session or a path. Counting goes
 * through the Prometheus Java client's own counters and histograms; the live figures (sessions open, backend
 * state) are read from the routes when scraped.
 */
public final class Metrics {

    private static final String ATTRIBUTE = Metrics.class.getName();
    /** Message sizes: 64 B to 16 MiB, by fours. */
    private static final double[] SIZE_BOUNDS = {64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216};
    /** Session lifetimes: a second to a day. */
    private static final double[] DURATION_BOUNDS = {1, 10, 60, 300, 1800, 3600, 14400, 86400};
    /** Backend handshakes: a millisecond to the longest sensible upgrade timeout. */
    private static final double[] HANDSHAKE_BOUNDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Map<String, RouteObserver> routes = new ConcurrentHashMap<>();

    final Counter handshakes;
    final Counter messages;
    final Counter bytes;
    final Histogram messageSize;
    final Histogram sessionDuration;
    final Histogram backendHandshake;
    final Counter sessionsEnded;
    final Counter closeCodes;
    final Counter held;
    final Counter httpRequests;

    private Metrics() {
        handshakes = Counter.builder().name("wsbridge_handshakes_total")
                .help("WebSocket handshakes answered, by the status the client got (101: a session opened)")
                .labelNames("route", "status").withoutExemplars().register(registry);
        messages = Counter.builder().name("wsbridge_messages_total")
                .help("WebSocket data messages relayed, by direction and type")
                .labelNames("route", "direction", "type").withoutExemplars().register(registry);
        bytes = Counter.builder().name("wsbridge_message_bytes_total")
                .help("Payload bytes of WebSocket data messages relayed, by direction and type")
                .labelNames("route", "direction", "type").withoutExemplars().register(registry);
        messageSize = Histogram.builder().name("wsbridge_message_size_bytes")
                .help("Sizes of the WebSocket data messages relayed, by direction").unit(Unit.BYTES)
                .labelNames("route", "direction").classicOnly().classicUpperBounds(SIZE_BOUNDS).withoutExemplars()
                .register(registry);
        sessionDuration = Histogram.builder().name("wsbridge_session_duration_seconds")
                .help("Lifetimes of ended sessions, from the client's 101 to the release of both legs").unit(Unit.SECONDS)
                .labelNames("route").classicOnly().classicUpperBounds(DURATION_BOUNDS).withoutExemplars()
                .register(registry);
        backendHandshake = Histogram.builder().name("wsbridge_backend_handshake_seconds")
                .help("Time from connecting a backend to its answer to the upgrade (connect, TLS and upgrade), for"
                        + " every backend tried").unit(Unit.SECONDS)
                .labelNames("route").classicOnly().classicUpperBounds(HANDSHAKE_BOUNDS).withoutExemplars()
                .register(registry);
        sessionsEnded = Counter.builder().name("wsbridge_sessions_ended_total")
                .help("Sessions ended, by what ended them: client, backend, idle, limit, shutdown or error")
                .labelNames("route", "ended_by").withoutExemplars().register(registry);
        closeCodes = Counter.builder().name("wsbridge_close_codes_total")
                .help("Close codes of ended sessions' legs (the first close frame sent or received on the leg; 1006:"
                        + " dropped without one)")
                .labelNames("route", "leg", "code").withoutExemplars().register(registry);
        held = Counter.builder().name("wsbridge_backpressure_seconds_total")
                .help("Time a direction's reader waited for its write to the other leg (backpressure), by direction")
                .unit(Unit.SECONDS).labelNames("route", "direction").withoutExemplars().register(registry);
        httpRequests = Counter.builder().name("wsbridge_http_requests_total")
                .help("Plain HTTP requests proxied on the route, by the status the client got")
                .labelNames("route", "status").withoutExemplars().register(registry);
        GaugeWithCallback.builder().name("wsbridge_sessions_open").help("Sessions open now")
                .labelNames("route").callback(cb -> routes.forEach((name, r) -> cb.call(r.open(), name)))
                .register(registry);
        GaugeWithCallback.builder().name("wsbridge_sessions_peak").help("Most sessions open at once since the route started")
                .labelNames("route").callback(cb -> routes.forEach((name, r) -> cb.call(r.peak(), name)))
                .register(registry);
        GaugeWithCallback.builder().name("wsbridge_backend_up")
                .help("Whether a backend takes new sessions (1) or not (0: down, failing its check, or drained)")
                .labelNames("route", "backend")
                .callback(cb -> routes.forEach((name, r) -> r.backends().forEach(b -> cb.call(
                        "up".equals(b.getState()) || "trial".equals(b.getState()) ? 1 : 0, name, b.getUri()))))
                .register(registry);
        GaugeWithCallback.builder().name("wsbridge_backend_sessions").help("Sessions open on a backend")
                .labelNames("route", "backend")
                .callback(cb -> routes.forEach((name, r) -> r.backends().forEach(b -> cb.call(
                        b.getOpenSessions(), name, b.getUri()))))
                .register(registry);
    }

    /** The metrics of {@code context}'s routes, made on first use. */
    public static Metrics of(ServletContext context) {
        synchronized (Metrics.class) {
            Object m = context.getAttribute(ATTRIBUTE);
            if (m instanceof Metrics metrics) {
                return metrics;
            }
            Metrics metrics = new Metrics();
            context.setAttribute(ATTRIBUTE, metrics);
            return metrics;
        }
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** The routes of the application, by name. */
    public Map<String, RouteObserver> routes() {
        return routes;
    }

    void add(RouteObserver route) {
        routes.put(route.name(), route);
    }

    void remove(RouteObserver route) {
        routes.remove(route.name(), route);
    }
}
