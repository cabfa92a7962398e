package dev.wsbridge.backend;

import dev.wsbridge.config.IdentitySettings;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Header hygiene in one place, for the WebSocket handshake and the HTTP leg alike: which client headers reach
 * the backend, and what is added on the way. RFC 7230 §6.1 hop-by-hop headers are dropped, and so is every
 * header the client's {@code Connection} header names. Where the request came from is told in
 * {@code X-Forwarded-*} headers, an RFC 7239 {@code Forwarded} element or both ({@link IdentitySettings}); who
 * the container authenticated, in the configured user and client-certificate headers. The client's own copies
 * of every header the bridge sets are dropped, so nobody can claim an identity the container did not establish.
 */
public final class ForwardedHeaders {

    /** Lower-case names never copied from the client: hop-by-hop, handshake and framing headers. */
    public static final Set<String> NOT_FORWARDED = Set.of(
            "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
            "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect",
            "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept",
            "sec-websocket-protocol", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
            "x-forwarded-port", "forwarded");

    /** Lower-case names of backend refusal headers that are passed back to the client with the status. */
    public static final Set<String> RELAYED_ON_REFUSAL = Set.of("www-authenticate", "retry-after");

    /** The Servlet request attribute holding the client's certificate chain, when the container's TLS took one. */
    private static final String CERTIFICATES = "jakarta.servlet.request.X509Certificate";

    /** RFC 7230 {@code tchar}: a {@code Forwarded} value made only of these needs no quotes. */
    private static final String TCHAR = "!#$%&'*+-.^_`|~";

    private final IdentitySettings identity;
    /** Lower-case names of the identity headers: never taken from the client. */
    private final Set<String> identityHeaders;

    public ForwardedHeaders(IdentitySettings identity) {
        this.identity = identity;
        Set<String> names = new HashSet<>();
        for (String h : new String[] {identity.userHeader(), identity.certSubjectHeader(), identity.certHeader()}) {
            if (h != null) {
                names.add(h.toLowerCase(Locale.ROOT));
            }
        }
        identityHeaders = Set.copyOf(names);
    }

    /** The headers to send to the backend for {@code req}, the upgrade request or a plain HTTP request. */
    public Map<String, List<String>> of(HttpServletRequest req) {
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
            if (NOT_FORWARDED.contains(lower) || named.contains(lower) || identityHeaders.contains(lower)) {
                continue;
            }
            out.computeIfAbsent(name, k -> new ArrayList<>()).addAll(values(req, name));
        }
        String remote = req.getRemoteAddr();
        String proto = req.isSecure() ? "https" : "http";
        String host = req.getHeader("Host");
        if (identity.xForwarded()) {
            List<String> xff = values(req, "X-Forwarded-For");
            String chain = xff.isEmpty() ? remote : String.join(", ", xff) + ", " + remote;
            out.put("X-Forwarded-For", List.of(chain));
            out.put("X-Forwarded-Proto", List.of(proto));
            if (host != null) {
                out.put("X-Forwarded-Host", List.of(host));
            }
            out.put("X-Forwarded-Port", List.of(Integer.toString(req.getServerPort())));
        }
        if (identity.forwarded()) {
            StringBuilder element = new StringBuilder("for=").append(node(remote)).append(";proto=").append(proto);
            if (host != null) {
                element.append(";host=").append(value(host));
            }
            List<String> chain = values(req, "Forwarded");
            out.put("Forwarded", List.of(chain.isEmpty() ? element.toString()
                    : String.join(", ", chain) + ", " + element));
        }
        identity(req, out);
        return out;
    }

    /** Adds who the container authenticated: the user's name and the client certificate, each when there is one. */
    private void identity(HttpServletRequest req, Map<String, List<String>> out) {
        String user = req.getRemoteUser();
        if (identity.userHeader() != null && user != null) {
            out.put(identity.userHeader(), List.of(printable(user)));
        }
        if (identity.certSubjectHeader() == null && identity.certHeader() == null) {
            return;
        }
        Object chain = req.getAttribute(CERTIFICATES);
        if (!(chain instanceof X509Certificate[] certs) || certs.length == 0) {
            return;
        }
        if (identity.certSubjectHeader() != null) {
            out.put(identity.certSubjectHeader(), List.of(printable(certs[0].getSubjectX500Principal().getName())));
        }
        if (identity.certHeader() != null) {
            try {
                String pem = "-----BEGIN CERTIFICATE-----\n"
                        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(certs[0].getEncoded())
                        + "\n-----END CERTIFICATE-----\n";
                out.put(identity.certHeader(), List.of(URLEncoder.encode(pem, StandardCharsets.UTF_8).replace("+", "%20")));
            } catch (CertificateEncodingException e) {
                // A certificate the container accepted but that cannot be encoded again: send its subject only.
            }
        }
    }

    /**
     * A header value safe to send: visible ASCII and spaces as they are, anything else (control characters,
     * which could split the header, and non-ASCII) and {@code %} itself as UTF-8 percent-escapes.
     */
    static String printable(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean plain = c >= 0x20 && c < 0x7f && c != '%';
            if (plain && out == null) {
                continue;
            }
            if (out == null) {
                out = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (plain) {
                out.append(c);
            } else {
                int end = Character.isHighSurrogate(c) && i + 1 < s.length() ? i + 2 : i + 1;
                for (byte b : s.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
                    out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
                }
                i = end - 1;
            }
        }
        return out == null ? s : out.toString();
    }

    /** RFC 7239 §6 node: an IPv6 address in brackets and quotes, anything else as a value. */
    static String node(String address) {
        return address.indexOf(':') >= 0 && !address.startsWith("[") ? "\"[" + address + "]\"" : value(address);
    }

    /** An RFC 7239 value: a token as it is, anything else quoted (with {@code "} and {@code \\} escaped). */
    private static String value(String v) {
        boolean token = !v.isEmpty();
        for (int i = 0; i < v.length() && token; i++) {
            char c = v.charAt(i);
            token = c < 0x7f && (Character.isLetterOrDigit(c) || TCHAR.indexOf(c) >= 0);
        }
        return token ? v : "\"" + printable(v).replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
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
