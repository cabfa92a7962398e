package dev.wsbridge.config;

import java.net.URI;
import java.util.Locale;

/**
 * The parsed {@code proxyTo}: scheme, host, port and base path of the backend.
 *
 * @param scheme   {@code ws} or {@code wss}
 * @param host     the backend host
 * @param port     the explicit port, or -1 for the scheme's default
 * @param basePath the raw base path, starting with {@code /}
 */
public record BackendTarget(String scheme, String host, int port, String basePath) {

    /** The authority as it appears in a URI: host, and port when one was given. */
    public String authority() {
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return port < 0 ? h : h + ":" + port;
    }

    /** The port a connection goes to: explicit, or 80/443 by scheme. */
    public int effectivePort() {
        return port >= 0 ? port : scheme.equals("wss") ? 443 : 80;
    }

    /** Whether {@code uri} points at this target's host and port, under its base path. */
    public boolean contains(URI uri) {
        if (uri.getHost() == null || !uri.getHost().toLowerCase(Locale.ROOT).equals(host.toLowerCase(Locale.ROOT))) {
            return false;
        }
        int p = uri.getPort() >= 0 ? uri.getPort() : "wss".equals(uri.getScheme()) ? 443 : 80;
        String prefix = basePath.endsWith("/") ? basePath : basePath + "/";
        String path = uri.normalize().getRawPath();
        return p == effectivePort() && scheme.equals(uri.getScheme()) && uri.getRawUserInfo() == null
                && (path.equals(basePath) || path.startsWith(prefix));
    }

    @Override
    public String toString() {
        return scheme + "://" + authority() + basePath;
    }
}
