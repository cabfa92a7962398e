package dev.wsbridge.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A route's backends and how it chooses among them: the members of {@code proxyTo}, the balancer, passive and
 * active health, and TLS toward {@code wss://} backends.
 *
 * @param members               the backends in {@code proxyTo} order, at least one
 * @param balancer              how a new session's backend is chosen
 * @param hashKey               what {@link Balancer#HASH} hashes
 * @param passiveFailures       consecutive failed connections that take a backend out; 0 turns passive health off
 * @param passiveCooldown       how long a backend taken out stays out before one trial handshake
 * @param check                 the active health check, or {@code null} when off
 * @param tls                   TLS toward {@code wss://} backends
 */
public record BackendSettings(List<BackendMember> members, Balancer balancer, HashKey hashKey, int passiveFailures,
        Duration passiveCooldown, HealthCheck check, Tls tls) {

    public BackendSettings {
        members = List.copyOf(members);
        if (members.isEmpty()) {
            throw new IllegalArgumentException("no backend");
        }
    }

    /** The balancers {@code balancer} names. */
    public enum Balancer {
        /** Weighted round robin, smooth: a backend of weight 3 gets three of every six sessions, not three in a row. */
        ROUND_ROBIN("roundRobin"),
        /** The backend with the fewest live sessions (handshakes in progress included) per unit of weight. */
        LEAST_SESSIONS("leastSessions"),
        /** Weighted rendezvous hash of {@code hashKey}: one key, one backend, while that backend is in. */
        HASH("hash");

        private final String param;

        Balancer(String param) {
            this.param = param;
        }

        /** The init-param value. */
        public String param() {
            return param;
        }

        static Balancer of(String value) {
            for (Balancer b : values()) {
                if (b.param.equals(value)) {
                    return b;
                }
            }
            return null;
        }
    }

    /**
     * What {@code hash} hashes: the client's address, or a request header, cookie or query parameter.
     *
     * @param source where the key comes from
     * @param name   the header, cookie or query parameter name; empty for the client address
     */
    public record HashKey(Source source, String name) {

        public enum Source { CLIENT_ADDRESS, HEADER, COOKIE, QUERY }

        @Override
        public String toString() {
            return switch (source) {
                case CLIENT_ADDRESS -> "clientAddress";
                case HEADER -> "header:" + name;
                case COOKIE -> "cookie:" + name;
                case QUERY -> "query:" + name;
            };
        }
    }

    /**
     * An active health check, run on every backend of the route on its own timer.
     *
     * @param websocket a WebSocket handshake (closed at once) rather than an HTTP GET
     * @param path      the raw path (and query) checked on each backend's host and port
     * @param interval  time between two checks of one backend
     * @param timeout   time a check gets to be answered
     * @param rise      consecutive passed checks that put a backend that is out back in
     * @param fall      consecutive failed checks that take a backend out
     */
    public record HealthCheck(boolean websocket, String path, Duration interval, Duration timeout, int rise, int fall) {
    }

    /**
     * TLS toward {@code wss://} backends.
     *
     * @param trustStore           trusted certificates, or {@code null} for the JVM's default trust store
     * @param trustStorePassword   its password, or {@code null}
     * @param trustStoreType       its type ({@code PKCS12}, {@code JKS})
     * @param keyStore             the client certificate and key for mutual TLS, or {@code null}
     * @param keyStorePassword     its password (also the key's), or {@code null}
     * @param keyStoreType         its type
     * @param hostnameVerification whether the backend's certificate must name the host of {@code proxyTo}
     */
    public record Tls(Path trustStore, String trustStorePassword, String trustStoreType, Path keyStore,
            String keyStorePassword, String keyStoreType, boolean hostnameVerification) {

        /** Whether this is what a backend client gets with no TLS init-param set. */
        public boolean isDefault() {
            return trustStore == null && keyStore == null && hostnameVerification;
        }

        @Override
        public String toString() {
            return "Tls[trustStore=" + trustStore + ", keyStore=" + keyStore + ", hostnameVerification="
                    + hostnameVerification + "]";
        }
    }

    @Override
    public String toString() {
        return "balancer=" + balancer.param() + (balancer == Balancer.HASH ? " on " + hashKey : "")
                + ", passiveHealth=" + (passiveFailures == 0 ? "off" : passiveFailures + " failures, " + passiveCooldown)
                + ", healthCheck=" + (check == null ? "off" : check) + ", " + tls;
    }
}
