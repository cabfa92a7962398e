package dev.wsbridge.config;

import java.time.Duration;

/**
 * The settings of a route's HTTP leg: every request on the route that is not a WebSocket upgrade is
 * proxied to the backend over HTTP ({@code ws://} becomes {@code http://}, {@code wss://} {@code https://}).
 *
 * @param enabled        whether such requests are proxied at all (else they get 426)
 * @param idleTimeout    no byte moving for this long ends the exchange
 * @param timeout        the longest an exchange may take in all; {@link Duration#ZERO} for no limit
 * @param maxConnections most connections open to the backend at once
 * @param preserveHost   send the client's {@code Host} rather than the backend's
 * @param cookiePaths    {@code Set-Cookie} path rewrites
 * @param cookieDomains  {@code Set-Cookie} domain rewrites
 */
public record HttpSettings(boolean enabled, Duration idleTimeout, Duration timeout, int maxConnections,
        boolean preserveHost, ReverseMap cookiePaths, ReverseMap cookieDomains) {

    @Override
    public String toString() {
        return "HttpSettings[enabled=" + enabled + ", idleTimeout=" + idleTimeout + ", timeout="
                + (timeout.isZero() ? "none" : timeout) + ", maxConnections=" + maxConnections + ", preserveHost="
                + preserveHost + ", cookiePaths=" + cookiePaths + ", cookieDomains=" + cookieDomains + "]";
    }
}
