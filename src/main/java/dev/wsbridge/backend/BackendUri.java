package dev.wsbridge.backend;

import dev.wsbridge.config.BackendTarget;
import java.net.URI;

/**
 * Maps the part of a request path after the servlet path onto the backend's base path. The raw
 * (still percent-encoded) path is appended as sent, so the backend sees what the client sent; a path
 * that could leave the base path or change the host is refused instead of being normalised away.
 */
public final class BackendUri {

    private BackendUri() {
    }

    /** A request path or query that must not reach the backend; the message is safe to show the client. */
    public static final class RejectedPathException extends Exception {
        private static final long serialVersionUID = 1L;

        RejectedPathException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The backend URI for a request.
     *
     * @param target    the route's {@code proxyTo}
     * @param rawSuffix the raw request path after the servlet path: empty or starting with {@code /}
     * @param rawQuery  the raw query string, or {@code null}
     */
    public static URI resolve(BackendTarget target, String rawSuffix, String rawQuery) throws RejectedPathException {
        checkSuffix(rawSuffix);
        if (rawQuery != null) {
            checkQuery(rawQuery);
        }
        String base = target.basePath();
        String path = rawSuffix.isEmpty() ? base
                : (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + rawSuffix;
        URI uri;
        try {
            uri = URI.create(target.scheme() + "://" + target.authority() + path + (rawQuery == null ? "" : "?" + rawQuery));
        } catch (IllegalArgumentException e) {
            throw new RejectedPathException("The path [" + rawSuffix + "] does not form a valid backend URI");
        }
        if (!target.contains(uri)) {
            throw new RejectedPathException("The path [" + rawSuffix + "] leaves the backend base path");
        }
        return uri;
    }

    /**
     * The raw path after the servlet path: the request URI with as many leading segments removed as the
     * (decoded) context path and servlet path have. Decoding never changes the number of {@code /}, because
     * both containers refuse an encoded {@code /} in the part they map by default.
     */
    public static String rawSuffix(String rawRequestUri, String contextPath, String servletPath) {
        int skip = count(contextPath + servletPath);
        int i = 0;
        while (skip > 0 && i < rawRequestUri.length()) {
            i = rawRequestUri.indexOf('/', i + 1);
            if (i < 0) {
                return "";
            }
            skip--;
        }
        return skip > 0 ? "" : rawRequestUri.substring(i);
    }

    private static int count(String path) {
        int n = 0;
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) == '/') {
                n++;
            }
        }
        return n;
    }

    private static void checkSuffix(String suffix) throws RejectedPathException {
        if (suffix.isEmpty()) {
            return;
        }
        if (suffix.charAt(0) != '/') {
            throw new RejectedPathException("The path [" + suffix + "] does not start with /");
        }
        int start = 1;
        while (start <= suffix.length()) {
            int end = suffix.indexOf('/', start);
            if (end < 0) {
                end = suffix.length();
            }
            String segment = suffix.substring(start, end);
            boolean last = end == suffix.length();
            if (segment.isEmpty() && !last) {
                throw new RejectedPathException("The path [" + suffix + "] has an empty segment");
            }
            checkSegment(segment, suffix);
            start = end + 1;
        }
    }

    private static void checkSegment(String raw, String suffix) throws RejectedPathException {
        StringBuilder decoded = new StringBuilder(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                int v = i + 2 < raw.length() ? hex(raw.charAt(i + 1), raw.charAt(i + 2)) : -1;
                if (v < 0) {
                    throw new RejectedPathException("The segment [" + raw + "] has a bad percent-encoding in the path [" + suffix + "]");
                }
                decoded.append((char) v);
                i += 2;
            } else if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '"' || c == '<' || c == '>' || c == '^'
                    || c == '`' || c == '{' || c == '|' || c == '}' || c == '#' || c == '?' || c == '[' || c == ']') {
                throw new RejectedPathException("The segment [" + raw + "] is not valid in the path [" + suffix + "]");
            } else {
                decoded.append(c);
            }
        }
        String d = decoded.toString();
        // Servlet containers drop ";params" from a segment before resolving dot segments, so "..;x" is "..".
        int params = d.indexOf(';');
        String name = params < 0 ? d : d.substring(0, params);
        if (name.equals(".") || name.equals("..")) {
            throw new RejectedPathException("The segment [" + raw + "] is a dot segment in the path [" + suffix + "]");
        }
        for (int i = 0; i < d.length(); i++) {
            char c = d.charAt(i);
            if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) {
                throw new RejectedPathException("The segment [" + raw + "] encodes a separator or control character in the path [" + suffix + "]");
            }
            if (c == '%' && i + 2 < d.length() && hex(d.charAt(i + 1), d.charAt(i + 2)) >= 0) {
                throw new RejectedPathException("The segment [" + raw + "] is encoded twice in the path [" + suffix + "]");
            }
        }
    }

    private static void checkQuery(String query) throws RejectedPathException {
        for (int i = 0; i < query.length(); i++) {
            char c = query.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^'
                    || c == '`' || c == '{' || c == '|' || c == '}') {
                throw new RejectedPathException("The query string has a character that is not valid in a URI");
            }
            if (c == '%' && (i + 2 >= query.length() || hex(query.charAt(i + 1), query.charAt(i + 2)) < 0)) {
                throw new RejectedPathException("The query string has a bad percent-encoding");
            }
        }
    }

    private static int hex(char a, char b) {
        int h = Character.digit(a, 16);
        int l = Character.digit(b, 16);
        return h < 0 || l < 0 ? -1 : (h << 4) | l;
    }
}
