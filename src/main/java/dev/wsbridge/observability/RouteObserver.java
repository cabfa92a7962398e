package dev.wsbridge.observability;

import dev.wsbridge.backend.BackendMXBean;
import dev.wsbridge.backend.ForwardedHeaders;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import jakarta.servlet.http.HttpServletRequest;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBucket;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.jetty.util.thread.Scheduler;
import java.lang.management.ManagementFactory;
import javax.management.JMException;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one route shows of its sessions: a {@link SessionRecord} per handshake, the access-log line when it
 * is refused or ends, the route's metrics, and the live sessions the status page lists.
 */
public final class RouteObserver implements RouteMXBean {

    private static final Logger LOG = LoggerFactory.getLogger(RouteObserver.class);

    static final String CLIENT_TO_BACKEND = "client_to_backend";
    static final String BACKEND_TO_CLIENT = "backend_to_client";
    private static final String CLIENT_LEG = "client";
    private static final String BACKEND_LEG = "backend";

    private final String name;
    private final Metrics metrics;
    private final boolean accessLog;
    private final boolean logQuery;
    private final Traffic.Flow clientToBackend;
    private final Traffic.Flow backendToClient;
    private final DistributionDataPoint sessionDuration;
    private final DistributionDataPoint backendHandshake;
    private final Set<SessionRecord> live = ConcurrentHashMap.newKeySet();
    private final AtomicInteger peak = new AtomicInteger();
    private volatile Supplier<List<? extends BackendMXBean>> backends = List::of;
    private volatile Map<String, String> settings = Map.of();
    private volatile ObjectName registered;
    private Scheduler.Task interimTask;
    private boolean closed;

    /**
     * @param messageMetrics whether messages and bytes are counted into the metrics (session counts always are)
     * @param accessLog      whether the access log is written
     * @param logQuery       whether the access log shows the query string
     */
    public RouteObserver(String name, Metrics metrics, boolean messageMetrics, boolean accessLog, boolean logQuery) {
        this.name = name;
        this.metrics = metrics;
        this.accessLog = accessLog;
        this.logQuery = logQuery;
        this.clientToBackend = messageMetrics ? flow(CLIENT_TO_BACKEND) : null;
        this.backendToClient = messageMetrics ? flow(BACKEND_TO_CLIENT) : null;
        this.sessionDuration = metrics.sessionDuration.labelValues(name);
        this.backendHandshake = metrics.backendHandshake.labelValues(name);
        metrics.add(this);
    }

    private Traffic.Flow flow(String direction) {
        return new Traffic.Flow(metrics.messages.labelValues(name, direction, "text"),
                metrics.messages.labelValues(name, direction, "binary"),
                metrics.bytes.labelValues(name, direction, "text"), metrics.bytes.labelValues(name, direction, "binary"),
                metrics.messageSize.labelValues(name, direction), metrics.held.labelValues(name, direction));
    }

    public String name() {
        return name;
    }

    /**
     * Writes an interim access-log line every {@code intervalMillis} for each session open at least that long,
     * on {@code scheduler}, until {@link #close}.
     */
    public void interimLines(Scheduler scheduler, long intervalMillis) {
        if (!accessLog || intervalMillis <= 0) {
            return;
        }
        synchronized (this) {
            if (!closed) {
                interimTask = scheduler.schedule(() -> {
                    for (SessionRecord r : live) {
                        if (r.durationMillis() >= intervalMillis) {
                            AccessLog.interim(r);
                        }
                    }
                    interimLines(scheduler, intervalMillis);
                }, intervalMillis, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** The route's backends, for the backend gauges and the status page. */
    public void backends(Supplier<List<? extends BackendMXBean>> backends) {
        this.backends = backends;
    }

    List<? extends BackendMXBean> backends() {
        return backends.get();
    }

    /** A WebSocket handshake arrived: its record, with who sent it and where. */
    public SessionRecord handshake(HttpServletRequest req) {
        List<String> chain = ForwardedHeaders.values(req, "X-Forwarded-For");
        String path = req.getRequestURI();
        if (logQuery && req.getQueryString() != null) {
            path = path + "?" + req.getQueryString();
        }
        return new SessionRecord(name, req.getRemoteAddr(), chain.isEmpty() ? null : String.join(", ", chain),
                req.getRemoteUser(), path, clientToBackend, backendToClient);
    }

    /** The handshake was refused with {@code status}: counted and logged. */
    public void refused(SessionRecord r, int status, String reason) {
        r.refused(status, reason);
        metrics.handshakes.labelValues(name, Integer.toString(status)).inc();
        if (accessLog) {
            AccessLog.write(r);
        }
    }

    /** A backend answered (or failed to) after {@code nanos}. */
    public void backendAnswered(long nanos) {
        backendHandshake.observe(nanos / 1e9);
    }

    /** The client was answered 101: the session is open. */
    public void opened(SessionRecord r, String subprotocol) {
        r.answered(101, subprotocol);
        metrics.handshakes.labelValues(name, "101").inc();
        live.add(r);
        peak.accumulateAndGet(live.size(), Math::max);
    }

    /** The session's legs are both released: counted and logged, once, if the client had been answered 101. */
    public void ended(SessionRecord r) {
        r.ended();
        if (!live.remove(r)) {
            // Refused, and logged as such, before the client was answered 101.
            return;
        }
        Ending by = r.endedBy();
        metrics.sessionsEnded.labelValues(name, by == null ? "-" : by.word()).inc();
        sessionDuration.observe(r.durationMillis() / 1e3);
        closeCode(CLIENT_LEG, r.clientCloseCode());
        closeCode(BACKEND_LEG, r.backendCloseCode());
        if (accessLog) {
            AccessLog.write(r);
        }
    }

    private void closeCode(String leg, int code) {
        if (code != SessionRecord.NONE) {
            CounterDataPoint c = metrics.closeCodes.labelValues(name, leg, Integer.toString(code));
            c.inc();
        }
    }

    /** A plain HTTP request on the route was answered with {@code status}. */
    public void httpAnswered(int status) {
        metrics.httpRequests.labelValues(name, Integer.toString(status)).inc();
    }

    /** The sessions open now. */
    public Set<SessionRecord> live() {
        return Collections.unmodifiableSet(live);
    }

    int open() {
        return live.size();
    }

    int peak() {
        return peak.get();
    }

    /** The route's settings as the status page shows them. */
    public void settings(Map<String, String> settings) {
        this.settings = Map.copyOf(settings);
    }

    /**
     * The route as the status page and JMX show it: settings, counters, message sizes, backends and the live
     * sessions (the {@code liveLimit} oldest), in maps and lists of strings and numbers.
     */
    public Map<String, Object> status(int liveLimit) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("route", name);
        out.put("settings", new TreeMap<>(settings));
        out.put("sessionsOpen", open());
        out.put("sessionsPeak", peak());
        out.put("handshakes", counts(metrics.handshakes.collect().getDataPoints(), "status"));
        out.put("sessionsEnded", counts(metrics.sessionsEnded.collect().getDataPoints(), "ended_by"));
        out.put("messages", byDirection(metrics.messages.collect().getDataPoints()));
        out.put("messageBytes", byDirection(metrics.bytes.collect().getDataPoints()));
        Map<String, Object> sizes = new LinkedHashMap<>();
        for (HistogramSnapshot.HistogramDataPointSnapshot h : metrics.messageSize.collect().getDataPoints()) {
            if (name.equals(h.getLabels().get("route"))) {
                Map<String, Object> buckets = new LinkedHashMap<>();
                for (ClassicHistogramBucket b : h.getClassicBuckets()) {
                    // Each bucket's own count: the client's snapshot holds them so (the text format sums them up).
                    buckets.put(Double.isInfinite(b.getUpperBound()) ? "+Inf" : Long.toString((long) b.getUpperBound()),
                            b.getCount());
                }
                sizes.put(h.getLabels().get("direction"), Map.of("count", h.getCount(), "sum", (long) h.getSum(),
                        "buckets", buckets));
            }
        }
        out.put("messageSizes", sizes);
        List<Map<String, Object>> backendList = new ArrayList<>();
        for (BackendMXBean b : backends()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("uri", b.getUri());
            m.put("state", b.getState());
            m.put("weight", b.getWeight());
            m.put("openSessions", b.getOpenSessions());
            m.put("handshakes", b.getHandshakes());
            m.put("failures", b.getFailures());
            backendList.add(m);
        }
        out.put("backends", backendList);
        long now = System.nanoTime();
        List<SessionRecord> sessions = new ArrayList<>(live);
        sessions.sort(Comparator.comparingLong(SessionRecord::startMillis));
        List<Map<String, Object>> rows = new ArrayList<>();
        for (SessionRecord r : sessions.subList(0, Math.min(liveLimit, sessions.size()))) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", r.id());
            m.put("client", r.client());
            m.put("user", r.user());
            m.put("path", r.path());
            m.put("subprotocol", r.subprotocol());
            m.put("backend", r.backend());
            m.put("ageSeconds", r.durationMillis() / 1000);
            long last = Math.max(r.clientToBackend().lastMessageNanos(), r.backendToClient().lastMessageNanos());
            m.put("idleSeconds", (now - last) / 1_000_000_000L);
            m.put("c2bMessages", r.clientToBackend().messages());
            m.put("c2bBytes", r.clientToBackend().bytes());
            m.put("b2cMessages", r.backendToClient().messages());
            m.put("b2cBytes", r.backendToClient().bytes());
            rows.add(m);
        }
        out.put("liveSessions", rows);
        return out;
    }

    /** This route's values of a counter, by one label. */
    private Map<String, Long> counts(List<CounterSnapshot.CounterDataPointSnapshot> points, String label) {
        Map<String, Long> out = new TreeMap<>();
        for (CounterSnapshot.CounterDataPointSnapshot p : points) {
            if (name.equals(p.getLabels().get("route"))) {
                out.merge(p.getLabels().get(label), (long) p.getValue(), Long::sum);
            }
        }
        return out;
    }

    /** This route's values of a counter by direction and type. */
    private Map<String, Map<String, Long>> byDirection(List<CounterSnapshot.CounterDataPointSnapshot> points) {
        Map<String, Map<String, Long>> out = new TreeMap<>();
        for (CounterSnapshot.CounterDataPointSnapshot p : points) {
            if (name.equals(p.getLabels().get("route"))) {
                out.computeIfAbsent(p.getLabels().get("direction"), k -> new TreeMap<>())
                        .merge(p.getLabels().get("type"), (long) p.getValue(), Long::sum);
            }
        }
        return out;
    }

    // ---- JMX ----

    /** Publishes the route as an MBean, named by context and route; {@link #close} removes it. */
    public void register(String contextPath) {
        try {
            ObjectName objectName = new ObjectName("dev.wsbridge:type=Route,context="
                    + ObjectName.quote(contextPath.isEmpty() ? "/" : contextPath) + ",route=" + ObjectName.quote(name));
            ManagementFactory.getPlatformMBeanServer().registerMBean(this, objectName);
            registered = objectName;
        } catch (JMException e) {
            LOG.warn("wsbridge route [{}] not published over JMX: {}", name, e.toString());
        }
    }

    @Override
    public int getSessionsOpen() {
        return open();
    }

    @Override
    public int getSessionsPeak() {
        return peak();
    }

    @Override
    public Map<String, Long> getHandshakes() {
        return counts(metrics.handshakes.collect().getDataPoints(), "status");
    }

    @Override
    public Map<String, Long> getSessionsEnded() {
        return counts(metrics.sessionsEnded.collect().getDataPoints(), "ended_by");
    }

    @Override
    public long getMessagesClientToBackend() {
        return total(metrics.messages.collect().getDataPoints(), CLIENT_TO_BACKEND);
    }

    @Override
    public long getMessagesBackendToClient() {
        return total(metrics.messages.collect().getDataPoints(), BACKEND_TO_CLIENT);
    }

    @Override
    public long getBytesClientToBackend() {
        return total(metrics.bytes.collect().getDataPoints(), CLIENT_TO_BACKEND);
    }

    @Override
    public long getBytesBackendToClient() {
        return total(metrics.bytes.collect().getDataPoints(), BACKEND_TO_CLIENT);
    }

    private long total(List<CounterSnapshot.CounterDataPointSnapshot> points, String direction) {
        Map<String, Long> byType = byDirection(points).get(direction);
        return byType == null ? 0 : byType.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The route stops: it leaves the metrics and JMX. */
    public void close() {
        synchronized (this) {
            closed = true;
            if (interimTask != null) {
                interimTask.cancel();
            }
        }
        metrics.remove(this);
        ObjectName objectName = registered;
        registered = null;
        if (objectName != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(objectName);
            } catch (JMException e) {
                LOG.debug("wsbridge route [{}]: {} already gone", name, objectName);
            }
        }
    }
}
