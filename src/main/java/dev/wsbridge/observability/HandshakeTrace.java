package dev.wsbridge.observability;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Headers as the troubleshooting trace shows them: the values of the headers that say how a handshake went,
 * and only the names of all others, so cookies, credentials and tokens never reach a log.
 */
public final class HandshakeTrace {

    /** Lower-case names of the headers whose values are shown. */
    static final Set<String> SHOWN = Set.of("host", "origin", "user-agent", "upgrade", "connection",
            "sec-websocket-version", "sec-websocket-protocol", "sec-websocket-extensions", "x-forwarded-for",
            "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "forwarded", "via", "content-type",
            "content-length", "retry-after", "server", "date");

    private HandshakeTrace() {
    }

    /** {@code Name: value} for the shown headers, {@code Name: (n bytes)} for the others, separated by {@code "; "}. */
    public static String headers(Map<String, List<String>> headers) {
        StringBuilder b = new StringBuilder();
        headers.forEach((name, values) -> {
            for (String v : values) {
                if (b.length() > 0) {
                    b.append("; ");
                }
                b.append(name).append(": ");
                if (SHOWN.contains(name.toLowerCase(Locale.ROOT))) {
                    b.append(v);
                } else {
                    b.append('(').append(v == null ? 0 : v.length()).append(" chars hidden)");
                }
            }
        });
        return b.toString();
    }

    /** The request's headers, as {@link #headers(Map)} shows them. */
    public static String headers(HttpServletRequest req) {
        Map<String, List<String>> all = new LinkedHashMap<>();
        Enumeration<String> names = req.getHeaderNames();
        while (names != null && names.hasMoreElements()) {
            String name = names.nextElement();
            Enumeration<String> values = req.getHeaders(name);
            all.put(name, values == null ? List.of() : Collections.list(values));
        }
        return headers(all);
    }
}
