package dev.wsbridge.observability;

import io.prometheus.metrics.exporter.servlet.jakarta.PrometheusMetricsServlet;
import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.UnavailableException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.eclipse.jetty.util.ajax.JSON;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin pages of the application's routes, mapped to {@code /wsbridge/*}: {@code /metrics} in the
 * Prometheus text format (by the Prometheus Java client's own servlet), {@code /status} as a page that
 * refreshes itself and {@code /status?format=json}. They answer only the addresses in {@code allowFrom}
 * (the loopback addresses by default); others get {@code 403}.
 */
public final class AdminServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(AdminServlet.class);

    /** Addresses and CIDR ranges that may read the pages, comma-separated, or {@code *}. Default the loopback addresses. */
    public static final String ALLOW_FROM = "allowFrom";
    /** Most live sessions listed per route on the status page (the oldest first). Default 500. */
    public static final String STATUS_SESSIONS = "statusSessions";

    private transient AdminAccess access;
    private transient int statusSessions;
    private transient Metrics metrics;
    private transient PrometheusMetricsServlet exporter;

    @Override
    public void init(ServletConfig config) throws ServletException {
        super.init(config);
        UnaryOperator<String> params = name -> {
            String v = config.getServletContext().getInitParameter(name);
            return v != null ? v : config.getInitParameter(name);
        };
        try {
            check(params);
        } catch (IllegalArgumentException e) {
            LOG.error("wsbridge admin pages not started: {}", e.getMessage());
            throw new UnavailableException(e.getMessage());
        }
        access = AdminAccess.parse(ALLOW_FROM, value(params, ALLOW_FROM, AdminAccess.LOOPBACK));
        statusSessions = count(value(params, STATUS_SESSIONS, "500"));
        metrics = Metrics.of(config.getServletContext());
        exporter = new PrometheusMetricsServlet(metrics.registry());
        exporter.init(config);
    }

    /**
     * Checks the admin servlet's init-params ({@code params}: a context-param of a name over the init-param).
     *
     * @throws IllegalArgumentException naming the first bad one
     */
    public static void check(UnaryOperator<String> params) {
        AdminAccess.parse(ALLOW_FROM, value(params, ALLOW_FROM, AdminAccess.LOOPBACK));
        count(value(params, STATUS_SESSIONS, "500"));
    }

    private static String value(UnaryOperator<String> params, String name, String fallback) {
        String v = params.apply(name);
        return v == null ? fallback : v.trim();
    }

    private static int count(String v) {
        if (v.matches("[0-9]{1,7}")) {
            return Integer.parseInt(v);
        }
        throw new IllegalArgumentException("init-param [" + STATUS_SESSIONS + "] has value [" + v
                + "]; expected a whole number, 0 or more");
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
        if (!access.allows(req.getRemoteAddr())) {
            resp.sendError(HttpServletResponse.SC_FORBIDDEN, "The wsbridge admin pages answer only " + ALLOW_FROM);
            return;
        }
        String page = req.getPathInfo() == null ? "" : req.getPathInfo();
        switch (page) {
            case "/metrics" -> exporter.service(req, resp);
            case "/status" -> status(req, resp);
            default -> resp.sendError(HttpServletResponse.SC_NOT_FOUND);
        }
    }

    private void status(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        List<Map<String, Object>> routes = new ArrayList<>();
        for (RouteObserver r : new TreeMap<>(metrics.routes()).values()) {
            routes.add(r.status(statusSessions));
        }
        resp.setHeader("Cache-Control", "no-store");
        if ("json".equals(req.getParameter("format"))) {
            resp.setContentType("application/json;charset=utf-8");
            resp.getWriter().write(new JSON().toJSON(Map.of("routes", routes)));
            return;
        }
        resp.setContentType("text/html;charset=utf-8");
        resp.getWriter().write(StatusPage.html(routes, req.getContextPath()));
    }
}
