package dev.wsbridge.http;

import dev.wsbridge.config.BackendTarget;
import dev.wsbridge.config.HttpSettings;
import dev.wsbridge.config.ReverseMap;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * httpd's {@code ProxyPassReverse}, {@code ProxyPassReverseCookiePath} and {@code ProxyPassReverseCookieDomain}
 * for one request: response headers that name the backend are rewritten to name the route as the client
 * reached it.
 *
 * <ul>
 * <li>{@code Location}, {@code Content-Location} and {@code URI}: an absolute URL on the backend's scheme, host
 * and port under its base path becomes the client's scheme, {@code Host} and the route's path (context path and
 * servlet path); a path-absolute reference under the base path ({@code /login}, RFC 7231 §7.1.2 allows it) gets
 * the route's path and stays relative; anything else (other hosts, relative paths) is left alone.</li>
 * <li>{@code Set-Cookie}: its {@code Path} and {@code Domain} attributes per the route's {@link ReverseMap}s.</li>
 * </ul>
 */
final class ReverseRewrite {

    private final String backendScheme;
    private final String backendHost;
    private final int backendPort;
    /** The backend base path without its trailing slash: empty for {@code /}. */
    private final String backendBase;
    private final String clientScheme;
    private final String clientAuthority;
    /** The raw context path and servlet path the client used: empty for a route on {@code /*} in the root context. */
    private final String routeBase;
    private final ReverseMap cookiePaths;
    private final ReverseMap cookieDomains;

    /**
     * @param target          the route's {@code proxyTo}
     * @param clientScheme    {@code http} or {@code https}, as the client connected
     * @param clientAuthority the {@code Host} the client sent
     * @param routeBase       the raw request path before the part that is appended to the backend base path
     */
    ReverseRewrite(BackendTarget target, HttpSettings settings, String clientScheme, String clientAuthority,
            String routeBase) {
        this.backendScheme = target.scheme().equals("wss") ? "https" : "http";
        this.backendHost = target.host().toLowerCase(Locale.ROOT);
        this.backendPort = target.effectivePort();
        String base = target.basePath();
        this.backendBase = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.clientScheme = clientScheme;
        this.clientAuthority = clientAuthority;
        this.routeBase = routeBase.endsWith("/") ? routeBase.substring(0, routeBase.length() - 1) : routeBase;
        this.cookiePaths = settings.cookiePaths();
        this.cookieDomains = settings.cookieDomains();
    }

    /** The value the client gets for a response header of the lower-case {@code name}. */
    String header(String name, String value) {
        return switch (name) {
            case "location", "content-location", "uri" -> url(value);
            case "set-cookie" -> setCookie(value);
            default -> value;
        };
    }

    /** A URL reference from the backend, pointed at the route when it points into the backend's base. */
    String url(String value) {
        URI uri;
        try {
            uri = new URI(value.trim());
        } catch (URISyntaxException e) {
            return value;
        }
        String path = uri.getRawPath();
        if (uri.isOpaque() || path == null || !under(path)) {
            return value;
        }
        String rest = route(path) + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery())
                + (uri.getRawFragment() == null ? "" : "#" + uri.getRawFragment());
        if (uri.getRawAuthority() == null) {
            return uri.getScheme() == null && path.startsWith("/") ? rest : value;
        }
        String scheme = uri.getScheme() == null ? backendScheme : uri.getScheme().toLowerCase(Locale.ROOT);
        int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        if (!scheme.equals(backendScheme) || uri.getHost() == null || uri.getRawUserInfo() != null
                || !uri.getHost().toLowerCase(Locale.ROOT).equals(backendHost) || port != backendPort) {
            return value;
        }
        return (uri.getScheme() == null ? "" : clientScheme + ":") + "//" + clientAuthority + rest;
    }

    /** Whether a raw backend path is the base path or under it. */
    private boolean under(String path) {
        return backendBase.isEmpty() ? path.startsWith("/") : path.equals(backendBase) || path.startsWith(backendBase + "/");
    }

    /** The route's path for a backend path under the base path. */
    private String route(String path) {
        String mapped = routeBase + path.substring(backendBase.length());
        return mapped.isEmpty() ? "/" : mapped;
    }

    /** A {@code Set-Cookie} value with its {@code Path} and {@code Domain} rewritten; other attributes as sent. */
    String setCookie(String value) {
        String[] parts = value.split(";", -1);
        StringBuilder out = new StringBuilder(parts[0]);
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i];
            int eq = part.indexOf('=');
            String name = (eq < 0 ? part : part.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
            String attr = eq < 0 ? "" : part.substring(eq + 1).trim();
            if (name.equals("path")) {
                part = " Path=" + cookiePath(attr);
            } else if (name.equals("domain")) {
                String domain = cookieDomain(attr);
                if (domain == null) {
                    continue;
                }
                part = " Domain=" + domain;
            }
            out.append(';').append(part);
        }
        return out.toString();
    }

    private String cookiePath(String path) {
        switch (cookiePaths.mode()) {
            case OFF:
                return path;
            case AUTO:
                if (!path.startsWith("/")) {
                    return path;
                }
                if ((backendBase + "/").startsWith(path.endsWith("/") ? path : path + "/")) {
                    // A cookie for the base path or above (such as /) is one for all of the route: its path,
                    // without a trailing slash, so that it also covers the route's bare path.
                    return routeBase.isEmpty() ? "/" : routeBase;
                }
                return under(path) ? route(path) : path;
            default:
                for (ReverseMap.Pair pair : cookiePaths.pairs()) {
                    if (path.startsWith(pair.from())) {
                        String rest = path.substring(pair.from().length());
                        return pair.to().endsWith("/") && rest.startsWith("/") ? pair.to() + rest.substring(1) : pair.to() + rest;
                    }
                }
                return path;
        }
    }

    /** The domain to send, or null to drop the attribute (the cookie then belongs to the host the client used). */
    private String cookieDomain(String domain) {
        String bare = (domain.startsWith(".") ? domain.substring(1) : domain).toLowerCase(Locale.ROOT);
        switch (cookieDomains.mode()) {
            case OFF:
                return domain;
            case AUTO:
                return bare.equals(backendHost) ? null : domain;
            default:
                for (ReverseMap.Pair pair : cookieDomains.pairs()) {
                    String from = pair.from().startsWith(".") ? pair.from().substring(1) : pair.from();
                    if (bare.equals(from)) {
                        return pair.to();
                    }
                }
                return domain;
        }
    }
}
