package dev.wsbridge.backend;

import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Header hygiene in one place: which client handshake headers reach the backend, and the
 * {@code X-Forwarded-*} headers added on the way (RFC 7230 §6.1 hop-by-hop headers are dropped, and so is
 * every header the client's {@code Connection} header names).
 */
public final class ForwardedHeaders {

    /** Lower-case names never copied from the client: hop-by-hop, handshake and framing headers. */
    public static final Set<String> NOT_FORWARDED = Set.of(
            "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
            "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect",
            "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept",
            "sec-websocket-protocol", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
            "x-forwarded-port");

    /** Lower-case names of backend refusal headers that are passed back to the client with the status. */
    public static final Set<String> RELAYED_ON_REFUSAL = Set.of("www-authenticate", "retry-after");

    private ForwardedHeaders() {
    }

    /** The headers to send to the backend with the upgrade request. */
    public static Map<String, List<String>> of(HttpServletRequest req) {
        Set<String> named = new HashSet<>();
        for (String v : values(req, "Connection")) {
            for (String token : v.split(",")) {
                named.add(token.trim().toLowerCase(Locale.ROOT));
            }
        }
        Map<String, List<String>> out = new LinkedHashMap<>();
        Enumeration<String> names = req.getHeaderNames();
        while (names.hasMoreElements()) {
            String name = names.nextElement();
            String lower = name.toLowerCase(Locale.ROOT);
            if (NOT_FORWARDED.contains(lower) || named.contains(lower)) {
                continue;
            }
            out.computeIfAbsent(name, k -> new ArrayList<>()).addAll(values(req, name));
        }
        String remote = req.getRemoteAddr();
        List<String> xff = values(req, "X-Forwarded-For");
        String chain = xff.isEmpty() ? remote : String.join(", ", xff) + ", " + remote;
        out.put("X-Forwarded-For", List.of(chain));
        out.put("X-Forwarded-Proto", List.of(req.isSecure() ? "https" : "http"));
        String host = req.getHeader("Host");
        if (host != null) {
            out.put("X-Forwarded-Host", List.of(host));
        }
        out.put("X-Forwarded-Port", List.of(Integer.toString(req.getServerPort())));
        return out;
    }

    /** The subprotocols the client offered, in order. */
    public static List<String> subprotocols(HttpServletRequest req) {
        List<String> out = new ArrayList<>();
        for (String v : values(req, "Sec-WebSocket-Protocol")) {
            for (String token : v.split(",")) {
                String t = token.trim();
                if (!t.isEmpty()) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    /** Every value of the request's header {@code name}, in order; empty when it has none. */
    public static List<String> values(HttpServletRequest req, String name) {
        Enumeration<String> e = req.getHeaders(name);
        return e == null ? List.of() : Collections.list(e);
    }
}
