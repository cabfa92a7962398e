package dev.wsbridge.server;

import dev.wsbridge.config.BridgeConfig;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Base64;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Map;

/**
 * The checks a client handshake passes before the backend is contacted (RFC 6455 §4.2.1), each failing
 * with the HTTP status a client can act on.
 */
final class HandshakeCheck {

    /** A refusal: status, headers and a one-line plain-text body. */
    record Refusal(int status, Map<String, String> headers, String message) {
    }

    private HandshakeCheck() {
    }

    /** The refusal for {@code req}, or {@code null} when it may go on to the backend. */
    static Refusal check(HttpServletRequest req, BridgeConfig config) {
        if (!hasToken(req, "Upgrade", "websocket")) {
            return new Refusal(426, Map.of("Upgrade", "websocket", "Connection", "Upgrade"),
                    "This route takes WebSocket connections only");
        }
        if (!"GET".equals(req.getMethod())) {
            return new Refusal(HttpServletResponse.SC_BAD_REQUEST, Map.of(), "A WebSocket handshake must be a GET");
        }
        if (!hasToken(req, "Connection", "upgrade")) {
            return new Refusal(HttpServletResponse.SC_BAD_REQUEST, Map.of(), "Connection header must include Upgrade");
        }
        if (!"13".equals(single(req, "Sec-WebSocket-Version"))) {
            return new Refusal(426, Map.of("Sec-WebSocket-Version", "13"), "Only WebSocket version 13 is supported");
        }
        if (!isValidKey(single(req, "Sec-WebSocket-Key"))) {
            return new Refusal(HttpServletResponse.SC_BAD_REQUEST, Map.of(), "Sec-WebSocket-Key is missing or invalid");
        }
        if (!req.isSecure() && !config.allowPlainWs()) {
            return new Refusal(HttpServletResponse.SC_FORBIDDEN, Map.of(), "This route requires wss:// (WebSocket over TLS)");
        }
        String origin = single(req, "Origin");
        if (origin != null && !isSameHost(origin, req) && !config.isOriginListed(origin)) {
            return new Refusal(HttpServletResponse.SC_FORBIDDEN, Map.of(), "Origin not allowed");
        }
        return null;
    }

    private static boolean hasToken(HttpServletRequest req, String header, String token) {
        Enumeration<String> values = req.getHeaders(header);
        while (values != null && values.hasMoreElements()) {
            for (String t : values.nextElement().split(",")) {
                if (t.trim().equalsIgnoreCase(token)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The header's value when it appears exactly once, else {@code null}. */
    private static String single(HttpServletRequest req, String header) {
        Enumeration<String> values = req.getHeaders(header);
        if (values == null || !values.hasMoreElements()) {
            return null;
        }
        String v = values.nextElement();
        return values.hasMoreElements() ? null : v.trim();
    }

    private static boolean isValidKey(String key) {
        if (key == null || key.length() != 24) {
            return false;
        }
        try {
            return Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether the browser's origin names the host (and port) the request was sent to. */
    static boolean isSameHost(String origin, HttpServletRequest req) {
        String host = req.getHeader("Host");
        if (host == null) {
            return false;
        }
        try {
            URI o = new URI(origin);
            if (o.getHost() == null || o.getScheme() == null) {
                return false;
            }
            int originPort = o.getPort() >= 0 ? o.getPort() : defaultPort(o.getScheme());
            URI h = new URI("x://" + host.trim());
            int hostPort = h.getPort() >= 0 ? h.getPort() : req.isSecure() ? 443 : 80;
            return h.getHost() != null && o.getHost().equalsIgnoreCase(h.getHost()) && originPort == hostPort;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static int defaultPort(String scheme) {
        String s = scheme.toLowerCase(Locale.ROOT);
        return s.equals("https") || s.equals("wss") ? 443 : 80;
    }
}
