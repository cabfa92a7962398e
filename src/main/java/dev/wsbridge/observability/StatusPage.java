package dev.wsbridge.observability;

import java.util.List;
import java.util.Map;

/** The status page's HTML, from the same maps as its JSON: one section per route, refreshing every 5 seconds. */
final class StatusPage {

    private static final String[] SESSION_COLUMNS = {"id", "client", "user", "path", "subprotocol", "backend",
        "ageSeconds", "idleSeconds", "c2bMessages", "c2bBytes", "b2cMessages", "b2cBytes"};
    private static final String[] SESSION_HEADINGS = {"Session", "Client", "User", "Path", "Subprotocol", "Backend",
        "Age (s)", "Idle (s)", "Client→backend msgs", "Client→backend bytes", "Backend→client msgs",
        "Backend→client bytes"};

    private StatusPage() {
    }

    static String html(List<Map<String, Object>> routes, String contextPath) {
        StringBuilder b = new StringBuilder(8192);
        b.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"refresh\" content=\"5\"><title>wsbridge status</title><style>")
                .append("body{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin:.5em 0 1.5em}")
                .append("th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left}td.n{text-align:right}")
                .append("th{background:#f0f0f0}h2{margin-top:1.5em}</style></head><body>")
                .append("<h1>wsbridge status</h1><p>Refreshes every 5 seconds. As JSON: <a href=\"")
                .append(escape(contextPath)).append("/wsbridge/status?format=json\">status?format=json</a>; metrics: <a href=\"")
                .append(escape(contextPath)).append("/wsbridge/metrics\">metrics</a>.</p>");
        if (routes.isEmpty()) {
            b.append("<p>No route is running.</p>");
        }
        for (Map<String, Object> r : routes) {
            String name = String.valueOf(r.get("route"));
            b.append("<section class=\"route\" id=\"route-").append(escape(name)).append("\"><h2>Route ")
                    .append(escape(name)).append("</h2>");
            b.append("<table class=\"summary\"><tr><th>Sessions open</th><td class=\"n\" id=\"open-").append(escape(name))
                    .append("\">").append(r.get("sessionsOpen")).append("</td></tr><tr><th>Peak</th><td class=\"n\">")
                    .append(r.get("sessionsPeak")).append("</td></tr>");
            row(b, "Handshakes by status", r.get("handshakes"));
            row(b, "Sessions ended by", r.get("sessionsEnded"));
            row(b, "Messages", r.get("messages"));
            row(b, "Message bytes", r.get("messageBytes"));
            b.append("</table>");
            if (r.get("messageSizes") instanceof Map<?, ?> sizes && !sizes.isEmpty()) {
                b.append("<h3>Message sizes</h3><table class=\"sizes\"><tr><th>Direction</th><th>Count</th><th>Bytes</th>");
                Map<?, ?> any = (Map<?, ?>) ((Map<?, ?>) sizes.values().iterator().next()).get("buckets");
                for (Object bound : any.keySet()) {
                    b.append("<th>≤ ").append(escape(String.valueOf(bound))).append("</th>");
                }
                b.append("</tr>");
                for (Map.Entry<?, ?> e : sizes.entrySet()) {
                    Map<?, ?> h = (Map<?, ?>) e.getValue();
                    b.append("<tr><td>").append(escape(String.valueOf(e.getKey()))).append("</td><td class=\"n\">")
                            .append(h.get("count")).append("</td><td class=\"n\">").append(h.get("sum")).append("</td>");
                    for (Object count : ((Map<?, ?>) h.get("buckets")).values()) {
                        b.append("<td class=\"n\">").append(count).append("</td>");
                    }
                    b.append("</tr>");
                }
                b.append("</table>");
            }
            b.append("<h3>Backends</h3><table class=\"backends\"><tr><th>URI</th><th>State</th><th>Weight</th>")
                    .append("<th>Open sessions</th><th>Handshakes</th><th>Failures</th></tr>");
            for (Object o : (List<?>) r.get("backends")) {
                Map<?, ?> m = (Map<?, ?>) o;
                b.append("<tr><td>").append(escape(String.valueOf(m.get("uri")))).append("</td><td>")
                        .append(escape(String.valueOf(m.get("state")))).append("</td><td class=\"n\">").append(m.get("weight"))
                        .append("</td><td class=\"n\">").append(m.get("openSessions")).append("</td><td class=\"n\">")
                        .append(m.get("handshakes")).append("</td><td class=\"n\">").append(m.get("failures"))
                        .append("</td></tr>");
            }
            b.append("</table><h3>Live sessions</h3><table class=\"sessions\"><tr>");
            for (String h : SESSION_HEADINGS) {
                b.append("<th>").append(escape(h)).append("</th>");
            }
            b.append("</tr>");
            for (Object o : (List<?>) r.get("liveSessions")) {
                Map<?, ?> m = (Map<?, ?>) o;
                b.append("<tr id=\"session-").append(escape(String.valueOf(m.get("id")))).append("\">");
                for (String c : SESSION_COLUMNS) {
                    Object v = m.get(c);
                    b.append(v instanceof Number ? "<td class=\"n\">" : "<td>").append(v == null ? "-" : escape(String.valueOf(v)))
                            .append("</td>");
                }
                b.append("</tr>");
            }
            b.append("</table><details><summary>Settings</summary><table class=\"settings\">");
            for (Map.Entry<?, ?> e : ((Map<?, ?>) r.get("settings")).entrySet()) {
                b.append("<tr><th>").append(escape(String.valueOf(e.getKey()))).append("</th><td>")
                        .append(escape(String.valueOf(e.getValue()))).append("</td></tr>");
            }
            b.append("</table></details></section>");
        }
        return b.append("</body></html>").toString();
    }

    private static void row(StringBuilder b, String heading, Object value) {
        b.append("<tr><th>").append(escape(heading)).append("</th><td>").append(escape(words(value)))
                .append("</td></tr>");
    }

    /** A figure map as words: {@code 101: 3, 503: 1}; nested, {@code client_to_backend: text 2, binary 1}. */
    private static String words(Object value) {
        if (!(value instanceof Map<?, ?> map)) {
            return String.valueOf(value);
        }
        if (map.isEmpty()) {
            return "none";
        }
        StringBuilder b = new StringBuilder();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (b.length() > 0) {
                b.append(e.getValue() instanceof Map ? "; " : ", ");
            }
            if (e.getValue() instanceof Map<?, ?> inner) {
                b.append(e.getKey()).append(": ");
                StringBuilder i = new StringBuilder();
                inner.forEach((k, v) -> i.append(i.length() > 0 ? ", " : "").append(k).append(' ').append(v));
                b.append(i);
            } else {
                b.append(e.getKey()).append(": ").append(e.getValue());
            }
        }
        return b.toString();
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
