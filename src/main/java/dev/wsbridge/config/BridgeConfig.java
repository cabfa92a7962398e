package dev.wsbridge.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The settings of one route (one servlet declaration), parsed and validated once at init. Every
 * setting is an init-param named by a constant here; {@link #DEFAULTS} is the one place defaults live.
 */
public final class BridgeConfig {

    /**
     * Backend base URI, {@code ws://} or {@code wss://}; the request path after the servlet path is appended. A
     * comma-separated list makes several backends, each with an optional {@code weight=N}. Required.
     */
    public static final String PROXY_TO = "proxyTo";
    /** Accept upgrades that did not arrive over TLS ({@code true}/{@code false}); for development only. Default false. */
    public static final String ALLOW_PLAIN_WS = "allowPlainWs";
    /** Comma-separated browser origins allowed besides the request's own host, or {@code *} for any. Default none. */
    public static final String ALLOWED_ORIGINS = "allowedOrigins";
    /** Largest message in either direction, in bytes; a bigger one closes its sender with 1009. Default 64MiB. */
    public static final String MAX_MESSAGE_SIZE = "maxMessageSize";
    /** Largest message from the client; a bigger one closes the client with 1009. Default: {@code maxMessageSize}. */
    public static final String MAX_CLIENT_MESSAGE_SIZE = "maxClientMessageSize";
    /** Largest message from the backend; a bigger one closes the client with 1014 and the backend with 1009. Default: {@code maxMessageSize}. */
    public static final String MAX_BACKEND_MESSAGE_SIZE = "maxBackendMessageSize";
    /** Most messages a client may send in one second ({@code 0}: no limit); over it the client gets 1008. Default 0. */
    public static final String MAX_CLIENT_MESSAGE_RATE = "maxClientMessageRate";
    /** Longest a session may last ({@code 0}: no limit); then 1001 on both legs. Default 0. */
    public static final String MAX_SESSION_LIFETIME = "maxSessionLifetime";
    /** The close code sent on undeploy or shutdown: 1001 (going away) or 1012 (service restart: reconnect). Default 1001. */
    public static final String SHUTDOWN_CLOSE_CODE = "shutdownCloseCode";

    // permessage-deflate (RFC 7692), negotiated per hop (see DeflateSettings).
    /** Accept a client's permessage-deflate offer ({@code true}/{@code false}). Default true. */
    public static final String CLIENT_DEFLATE = "clientDeflate";
    /** Offer permessage-deflate to the backend ({@code true}/{@code false}). Default false. */
    public static final String BACKEND_DEFLATE = "backendDeflate";
    /** Let each side keep its compression context between messages ({@code true}/{@code false}), about 300 KiB of native memory per session. Default false. */
    public static final String DEFLATE_CONTEXT_TAKEOVER = "deflateContextTakeover";
    /** Largest LZ77 window, in bits (8 to 15), that the client is asked to compress with, where it lets us ask. Default 15. */
    public static final String DEFLATE_WINDOW_BITS = "deflateWindowBits";
    /** Messages to the client shorter than this, in bytes, are sent uncompressed. Default 64. */
    public static final String DEFLATE_MIN_SIZE = "deflateMinSize";
    /** Time to open the TCP (and TLS) connection to the backend; past it the client gets 504. Default 5s. */
    public static final String CONNECT_TIMEOUT = "connectTimeout";
    /** Time for the backend to answer the upgrade, connecting included; past it the client gets 504. Default 15s. */
    public static final String UPGRADE_TIMEOUT = "upgradeTimeout";
    /** A session with no traffic on a leg for this long is closed with 1001 on both legs. Default 1h. */
    public static final String IDLE_TIMEOUT = "idleTimeout";
    /** A client quiet this long is sent a ping ({@code 0}: no pings), so idle timers on the way see traffic. Default 30s. */
    public static final String CLIENT_PING_INTERVAL = "clientPingInterval";
    /** A client that sends nothing for this long after a ping is taken for dead: 1001 to the backend. Default 15s. */
    public static final String CLIENT_PING_TIMEOUT = "clientPingTimeout";
    /** A backend quiet this long is sent a ping ({@code 0}: no pings). Default 0. */
    public static final String BACKEND_PING_INTERVAL = "backendPingInterval";
    /** A backend that sends nothing for this long after a ping is taken for dead: 1014 to the client. Default 15s. */
    public static final String BACKEND_PING_TIMEOUT = "backendPingTimeout";
    /**
     * Forward pings and pongs across the bridge ({@code true}/{@code false}) instead of answering them on each hop,
     * so a backend that pings its clients hears their pongs. Default false.
     */
    public static final String FORWARD_PINGS = "forwardPings";
    /** Time a leg gets to answer a close before its connection is dropped. Default 5s. */
    public static final String CLOSE_TIMEOUT = "closeTimeout";
    /**
     * On undeploy or shutdown, time a message in progress (in either direction) gets to finish before its
     * session is closed with 1001; sessions with none in progress close at once. Default 2s.
     */
    public static final String DRAIN_TIMEOUT = "drainTimeout";
    /** Most open sessions on this route; past it the client gets 503 with Retry-After. Default 10000. */
    public static final String MAX_SESSIONS = "maxSessions";
    /**
     * Heap that must be left after the last garbage collection for a new session to be taken, as a size or a
     * percentage of the maximum heap ({@code 0} turns the guard off); short of it the client gets 503 with
     * Retry-After. Default 10%.
     */
    public static final String MIN_FREE_HEAP = "minFreeHeap";
    /** Direct buffer memory to keep free, as a size or a percentage of the JVM's limit; short of it 503. Default 10%. */
    public static final String MIN_FREE_DIRECT_MEMORY = "minFreeDirectMemory";
    /** Most handshakes waiting for the backend at once, each holding a request thread; past it 503. Default 64. */
    public static final String MAX_PENDING_HANDSHAKES = "maxPendingHandshakes";
    /**
     * Most handshakes waiting for one of the {@code maxPendingHandshakes} to finish, each holding a request
     * thread; past it 503 ({@code 0}: refuse at once). Default 200.
     */
    public static final String MAX_QUEUED_HANDSHAKES = "maxQueuedHandshakes";
    /**
     * Longest the handshake queue may stand still (no pending handshake answered or started): then the queued
     * handshakes get 503 and new ones get it without queueing. Default 5s.
     */
    public static final String HANDSHAKE_QUEUE_TIMEOUT = "handshakeQueueTimeout";
    /**
     * Gather the client's small frames (under 1 KiB) into one write to the backend ({@code true}/{@code false}):
     * more messages per second under load, at the cost of one thread hand-off per write. Default false.
     */
    public static final String BACKEND_BATCHING = "backendBatching";

    // ---------------------------------------------------------------- several backends, health, backend TLS
    /** How a new session's backend is chosen: {@code roundRobin}, {@code leastSessions} or {@code hash}. Default roundRobin. */
    public static final String BALANCER = "balancer";
    /**
     * What {@code balancer=hash} hashes: {@code clientAddress}, {@code header:NAME}, {@code cookie:NAME} or
     * {@code query:NAME}; a request without it is balanced round robin. Default clientAddress.
     */
    public static final String HASH_KEY = "hashKey";
    /** Consecutive failed backend connections that take a backend out of rotation; 0 turns this off. Default 3. */
    public static final String PASSIVE_HEALTH_FAILURES = "passiveHealthFailures";
    /** How long a backend taken out by failed connections stays out before one trial handshake. Default 10s. */
    public static final String PASSIVE_HEALTH_COOLDOWN = "passiveHealthCooldown";
    /** Path (and query) of the active health check on each backend, such as {@code /health}; empty: no check. Default none. */
    public static final String HEALTH_CHECK_PATH = "healthCheckPath";
    /** The active check: {@code http} (a GET answered 2xx or 3xx) or {@code websocket} (a handshake answered 101). Default http. */
    public static final String HEALTH_CHECK_TYPE = "healthCheckType";
    /** Time between two active checks of one backend. Default 5s. */
    public static final String HEALTH_CHECK_INTERVAL = "healthCheckInterval";
    /** Time an active check gets to be answered; past it the check failed. Default 2s. */
    public static final String HEALTH_CHECK_TIMEOUT = "healthCheckTimeout";
    /** Consecutive passed checks that put a backend the check took out back in. Default 2. */
    public static final String HEALTH_CHECK_RISE = "healthCheckRise";
    /** Consecutive failed checks that take a backend out. Default 3. */
    public static final String HEALTH_CHECK_FALL = "healthCheckFall";
    /** Key store file of the certificates trusted for {@code wss://} backends; empty: the JVM's trust store. Default none. */
    public static final String BACKEND_TRUST_STORE = "backendTrustStore";
    /** Password of {@code backendTrustStore} (a {@code ${env:NAME}} placeholder keeps it out of web.xml). Default none. */
    public static final String BACKEND_TRUST_STORE_PASSWORD = "backendTrustStorePassword";
    /** Type of {@code backendTrustStore}: {@code PKCS12} or {@code JKS}. Default PKCS12. */
    public static final String BACKEND_TRUST_STORE_TYPE = "backendTrustStoreType";
    /** Key store file with the client certificate and key shown to {@code wss://} backends (mutual TLS). Default none. */
    public static final String BACKEND_KEY_STORE = "backendKeyStore";
    /** Password of {@code backendKeyStore} and of the key in it. Default none. */
    public static final String BACKEND_KEY_STORE_PASSWORD = "backendKeyStorePassword";
    /** Type of {@code backendKeyStore}: {@code PKCS12} or {@code JKS}. Default PKCS12. */
    public static final String BACKEND_KEY_STORE_TYPE = "backendKeyStoreType";
    /** Whether a {@code wss://} backend's certificate must name the host in {@code proxyTo} ({@code true}/{@code false}). Default true. */
    public static final String BACKEND_HOSTNAME_VERIFICATION = "backendHostnameVerification";
    // ---------------------------------------------------------------- end of several backends
    // HTTP on the route: every request that is not a WebSocket upgrade (see HttpSettings).
    /** Proxy requests that are not WebSocket upgrades to the backend over HTTP ({@code true}/{@code false}); false answers them 426. Default true. */
    public static final String HTTP_PROXY = "httpProxy";
    /** An HTTP exchange with the backend during which no byte moves for this long ends: 504 if nothing was answered yet. Default 60s. */
    public static final String HTTP_IDLE_TIMEOUT = "httpIdleTimeout";
    /** Longest an HTTP exchange with the backend may take in all ({@code 0}: no limit, for event streams and long downloads); then 504. Default 0. */
    public static final String HTTP_TIMEOUT = "httpTimeout";
    /** Most HTTP connections open to the backend at once; further requests wait for one (each long-poll or event stream holds one). Default 10000. */
    public static final String HTTP_MAX_CONNECTIONS = "httpMaxConnections";
    /** Send the client's {@code Host} to the backend over HTTP ({@code true}/{@code false}) rather than the backend's own. Default false. */
    public static final String PRESERVE_HOST = "preserveHost";
    /** {@code Set-Cookie} path rewrites: {@code auto} (the backend base path becomes the route's), {@code off}, or {@code FROM TO} pairs. Default auto. */
    public static final String REVERSE_COOKIE_PATH = "reverseCookiePath";
    /** {@code Set-Cookie} domain rewrites: {@code auto} (a domain naming the backend host is dropped), {@code off}, or {@code FROM TO} pairs. Default auto. */
    public static final String REVERSE_COOKIE_DOMAIN = "reverseCookieDomain";

    // Identity: what the backend is told about the client.
    /**
     * Which headers tell the backend where the request came from: {@code x-forwarded} ({@code X-Forwarded-For},
     * {@code -Proto}, {@code -Host}, {@code -Port}), {@code rfc7239} ({@code Forwarded}) or {@code both}; the
     * client's own copies of the headers not chosen are dropped. Default x-forwarded.
     */
    public static final String FORWARDED_HEADERS = "forwardedHeaders";
    /** Header carrying the name of the user the container authenticated; empty: none. The client's copies are always dropped. Default X-Forwarded-User. */
    public static final String USER_HEADER = "userHeader";
    /** Header carrying the subject of the client certificate the container's TLS took; empty: none. The client's copies are always dropped. Default X-SSL-Client-DN. */
    public static final String CLIENT_CERT_SUBJECT_HEADER = "clientCertSubjectHeader";
    /** Header carrying that client certificate itself, PEM, URL-encoded; empty: none. The client's copies are always dropped. Default none. */
    public static final String CLIENT_CERT_HEADER = "clientCertHeader";

    // Observability: the access log and the metrics.
    /** Write one access-log line per session and per refused handshake ({@code true}/{@code false}). Default true. */
    public static final String ACCESS_LOG = "accessLog";
    /** Show the query string in the access log's {@code path} ({@code true}/{@code false}); tokens often ride in it. Default false. */
    public static final String ACCESS_LOG_QUERY = "accessLogQuery";
    /** Also write a line every this long for each session open that long ({@code 0}: only at the end). Default 0. */
    public static final String ACCESS_LOG_INTERVAL = "accessLogInterval";
    /** Count every message and its bytes into the metrics ({@code true}/{@code false}); session figures are kept either way. Default true. */
    public static final String MESSAGE_METRICS = "messageMetrics";

    /** Every init-param with its default, in README order; {@code null} means required. */
    public static final Map<String, String> DEFAULTS;

    static {
        Map<String, String> d = new LinkedHashMap<>();
        d.put(PROXY_TO, null);
        d.put(ALLOW_PLAIN_WS, "false");
        d.put(ALLOWED_ORIGINS, "");
        d.put(MAX_MESSAGE_SIZE, "64MiB");
        d.put(MAX_CLIENT_MESSAGE_SIZE, "");
        d.put(MAX_BACKEND_MESSAGE_SIZE, "");
        d.put(MAX_CLIENT_MESSAGE_RATE, "0");
        d.put(MAX_SESSION_LIFETIME, "0");
        d.put(SHUTDOWN_CLOSE_CODE, "1001");
        d.put(CLIENT_DEFLATE, "true");
        d.put(BACKEND_DEFLATE, "false");
        d.put(DEFLATE_CONTEXT_TAKEOVER, "false");
        d.put(DEFLATE_WINDOW_BITS, "15");
        d.put(DEFLATE_MIN_SIZE, "64");
        d.put(CONNECT_TIMEOUT, "5s");
        d.put(UPGRADE_TIMEOUT, "15s");
        d.put(IDLE_TIMEOUT, "1h");
        d.put(CLIENT_PING_INTERVAL, "30s");
        d.put(CLIENT_PING_TIMEOUT, "15s");
        d.put(BACKEND_PING_INTERVAL, "0");
        d.put(BACKEND_PING_TIMEOUT, "15s");
        d.put(FORWARD_PINGS, "false");
        d.put(CLOSE_TIMEOUT, "5s");
        d.put(DRAIN_TIMEOUT, "2s");
        d.put(MAX_SESSIONS, "10000");
        d.put(MIN_FREE_HEAP, "10%");
        d.put(MIN_FREE_DIRECT_MEMORY, "10%");
        d.put(MAX_PENDING_HANDSHAKES, "64");
        d.put(MAX_QUEUED_HANDSHAKES, "200");
        d.put(HANDSHAKE_QUEUE_TIMEOUT, "5s");
        d.put(BACKEND_BATCHING, "false");
        d.put(BALANCER, "roundRobin");
        d.put(HASH_KEY, "clientAddress");
        d.put(PASSIVE_HEALTH_FAILURES, "3");
        d.put(PASSIVE_HEALTH_COOLDOWN, "10s");
        d.put(HEALTH_CHECK_PATH, "");
        d.put(HEALTH_CHECK_TYPE, "http");
        d.put(HEALTH_CHECK_INTERVAL, "5s");
        d.put(HEALTH_CHECK_TIMEOUT, "2s");
        d.put(HEALTH_CHECK_RISE, "2");
        d.put(HEALTH_CHECK_FALL, "3");
        d.put(BACKEND_TRUST_STORE, "");
        d.put(BACKEND_TRUST_STORE_PASSWORD, "");
        d.put(BACKEND_TRUST_STORE_TYPE, "PKCS12");
        d.put(BACKEND_KEY_STORE, "");
        d.put(BACKEND_KEY_STORE_PASSWORD, "");
        d.put(BACKEND_KEY_STORE_TYPE, "PKCS12");
        d.put(BACKEND_HOSTNAME_VERIFICATION, "true");
        d.put(HTTP_PROXY, "true");
        d.put(HTTP_IDLE_TIMEOUT, "60s");
        d.put(HTTP_TIMEOUT, "0");
        d.put(HTTP_MAX_CONNECTIONS, "10000");
        d.put(PRESERVE_HOST, "false");
        d.put(REVERSE_COOKIE_PATH, "auto");
        d.put(REVERSE_COOKIE_DOMAIN, "auto");
        d.put(FORWARDED_HEADERS, "x-forwarded");
        d.put(USER_HEADER, "X-Forwarded-User");
        d.put(CLIENT_CERT_SUBJECT_HEADER, "X-SSL-Client-DN");
        d.put(CLIENT_CERT_HEADER, "");
        d.put(ACCESS_LOG, "true");
        d.put(ACCESS_LOG_QUERY, "false");
        d.put(ACCESS_LOG_INTERVAL, "0");
        d.put(MESSAGE_METRICS, "true");
        DEFAULTS = Collections.unmodifiableMap(d);
    }

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(env|sys):([^}:]+)(?::-([^}]*))?}");
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})(ms|s|m|h)");
    private static final Pattern WHOLE = Pattern.compile("[0-9]{1,10}");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,12})(B|KiB|MiB|GiB)?");
    private static final Pattern PERCENT = Pattern.compile("([0-9]{1,2})%");

    private final BackendTarget proxyTo;
    private final boolean allowPlainWs;
    private final Set<String> allowedOrigins;
    private final boolean anyOrigin;
    private final long maxMessageSize;
    private final long maxClientMessageSize;
    private final long maxBackendMessageSize;
    private final int maxClientMessageRate;
    private final Duration maxSessionLifetime;
    private final int shutdownCloseCode;
    private final DeflateSettings deflate;
    private final Duration connectTimeout;
    private final Duration upgradeTimeout;
    private final Duration idleTimeout;
    private final Duration closeTimeout;
    private final Duration clientPingInterval;
    private final Duration clientPingTimeout;
    private final Duration backendPingInterval;
    private final Duration backendPingTimeout;
    private final boolean forwardPings;
    private final Duration drainTimeout;
    private final int maxSessions;
    private final HeapReserve minFreeHeap;
    private final HeapReserve minFreeDirectMemory;
    private final int maxPendingHandshakes;
    private final int maxQueuedHandshakes;
    private final Duration handshakeQueueTimeout;
    private final boolean backendBatching;
    private final BackendSettings backends;
    private final HttpSettings http;
    private final IdentitySettings identity;
    private final boolean accessLog;
    private final boolean accessLogQuery;
    private final boolean messageMetrics;
    private final Duration accessLogInterval;

    private BridgeConfig(Parser p) {
        backends = p.backendSettings();
        proxyTo = backends.members().get(0).target();
        allowPlainWs = p.bool(ALLOW_PLAIN_WS);
        List<String> origins = p.origins(ALLOWED_ORIGINS);
        anyOrigin = origins.contains("*");
        allowedOrigins = Set.copyOf(origins);
        maxMessageSize = p.size(MAX_MESSAGE_SIZE);
        maxClientMessageSize = p.raw(MAX_CLIENT_MESSAGE_SIZE).isEmpty() ? maxMessageSize : p.size(MAX_CLIENT_MESSAGE_SIZE);
        maxBackendMessageSize = p.raw(MAX_BACKEND_MESSAGE_SIZE).isEmpty() ? maxMessageSize : p.size(MAX_BACKEND_MESSAGE_SIZE);
        maxClientMessageRate = p.count(MAX_CLIENT_MESSAGE_RATE);
        maxSessionLifetime = durationOrNone(p, MAX_SESSION_LIFETIME);
        shutdownCloseCode = p.closeCode(SHUTDOWN_CLOSE_CODE);
        deflate = deflate(p);
        connectTimeout = p.duration(CONNECT_TIMEOUT);
        upgradeTimeout = p.duration(UPGRADE_TIMEOUT);
        idleTimeout = p.duration(IDLE_TIMEOUT);
        closeTimeout = p.duration(CLOSE_TIMEOUT);
        clientPingInterval = durationOrNone(p, CLIENT_PING_INTERVAL);
        clientPingTimeout = p.duration(CLIENT_PING_TIMEOUT);
        backendPingInterval = durationOrNone(p, BACKEND_PING_INTERVAL);
        backendPingTimeout = p.duration(BACKEND_PING_TIMEOUT);
        forwardPings = p.bool(FORWARD_PINGS);
        drainTimeout = p.duration(DRAIN_TIMEOUT);
        maxSessions = p.positiveInt(MAX_SESSIONS);
        minFreeHeap = p.heapReserve(MIN_FREE_HEAP);
        minFreeDirectMemory = p.heapReserve(MIN_FREE_DIRECT_MEMORY);
        maxPendingHandshakes = p.positiveInt(MAX_PENDING_HANDSHAKES);
        maxQueuedHandshakes = p.count(MAX_QUEUED_HANDSHAKES);
        handshakeQueueTimeout = p.duration(HANDSHAKE_QUEUE_TIMEOUT);
        backendBatching = p.bool(BACKEND_BATCHING);
        http = new HttpSettings(p.bool(HTTP_PROXY), p.duration(HTTP_IDLE_TIMEOUT),
                durationOrNone(p, HTTP_TIMEOUT),
                p.positiveInt(HTTP_MAX_CONNECTIONS), p.bool(PRESERVE_HOST),
                ReverseMap.parse(REVERSE_COOKIE_PATH, p.raw(REVERSE_COOKIE_PATH), ReverseMap.Kind.PATH),
                ReverseMap.parse(REVERSE_COOKIE_DOMAIN, p.raw(REVERSE_COOKIE_DOMAIN), ReverseMap.Kind.DOMAIN));
        identity = p.identity();
        accessLog = p.bool(ACCESS_LOG);
        accessLogQuery = p.bool(ACCESS_LOG_QUERY);
        accessLogInterval = durationOrNone(p, ACCESS_LOG_INTERVAL);
        messageMetrics = p.bool(MESSAGE_METRICS);
    }

    /** The permessage-deflate params, read together. */
    private static DeflateSettings deflate(Parser p) {
        String bits = p.raw(DEFLATE_WINDOW_BITS);
        if (!bits.matches("[0-9]{1,2}") || Integer.parseInt(bits) < 8 || Integer.parseInt(bits) > 15) {
            throw Parser.bad(DEFLATE_WINDOW_BITS, bits, "a whole number from 8 to 15");
        }
        return new DeflateSettings(p.bool(CLIENT_DEFLATE), p.bool(BACKEND_DEFLATE), p.bool(DEFLATE_CONTEXT_TAKEOVER),
                Integer.parseInt(bits), p.count(DEFLATE_MIN_SIZE));
    }

    /** A duration, or {@code 0} for none ({@link Duration#ZERO}). */
    private static Duration durationOrNone(Parser p, String name) {
        String v = p.raw(name);
        if ("0".equals(v)) {
            return Duration.ZERO;
        }
        try {
            return p.duration(name);
        } catch (ConfigException e) {
            throw Parser.bad(name, v, "a duration such as 500ms, 30s, 5m or 1h, or 0 for no limit");
        }
    }

    /**
     * Parses every init-param of a route.
     *
     * @param source raw values (context-param over init-param)
     * @param env    environment lookup for {@code ${env:NAME}} placeholders
     * @param sys    system property lookup for {@code ${sys:name}} placeholders
     * @throws ConfigException naming the first bad or missing param
     */
    public static BridgeConfig parse(ParamSource source, UnaryOperator<String> env, UnaryOperator<String> sys) {
        return new BridgeConfig(new Parser(source, env, sys));
    }

    /** Parses with the real environment and system properties. */
    public static BridgeConfig parse(ParamSource source) {
        return parse(source, System::getenv, System::getProperty);
    }

    public BackendTarget proxyTo() {
        return proxyTo;
    }

    public boolean allowPlainWs() {
        return allowPlainWs;
    }

    /** Whether a browser {@code Origin} that is not the request's own host may connect. */
    public boolean isOriginListed(String origin) {
        return anyOrigin || allowedOrigins.contains(origin.toLowerCase(Locale.ROOT));
    }

    public long maxMessageSize() {
        return maxMessageSize;
    }

    /** Largest message from the client, in bytes. */
    public long maxClientMessageSize() {
        return maxClientMessageSize;
    }

    /** Largest message from the backend, in bytes. */
    public long maxBackendMessageSize() {
        return maxBackendMessageSize;
    }

    /** Most messages a client may send in one second; 0 for no limit. */
    public int maxClientMessageRate() {
        return maxClientMessageRate;
    }

    /** Longest a session may last; {@link Duration#ZERO} for no limit. */
    public Duration maxSessionLifetime() {
        return maxSessionLifetime;
    }

    /** The close code of undeploy and shutdown: 1001 or 1012. */
    public int shutdownCloseCode() {
        return shutdownCloseCode;
    }

    /** How permessage-deflate is negotiated on each leg. */
    public DeflateSettings deflate() {
        return deflate;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration upgradeTimeout() {
        return upgradeTimeout;
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }

    public Duration closeTimeout() {
        return closeTimeout;
    }

    /** Quiet time before a keep-alive ping to the client; {@link Duration#ZERO} for none. */
    public Duration clientPingInterval() {
        return clientPingInterval;
    }

    public Duration clientPingTimeout() {
        return clientPingTimeout;
    }

    /** Quiet time before a keep-alive ping to the backend; {@link Duration#ZERO} for none. */
    public Duration backendPingInterval() {
        return backendPingInterval;
    }

    public Duration backendPingTimeout() {
        return backendPingTimeout;
    }

    /** Whether pings and pongs cross the bridge rather than being answered on each hop. */
    public boolean forwardPings() {
        return forwardPings;
    }

    public Duration drainTimeout() {
        return drainTimeout;
    }

    public int maxSessions() {
        return maxSessions;
    }

    public int maxPendingHandshakes() {
        return maxPendingHandshakes;
    }

    public HeapReserve minFreeHeap() {
        return minFreeHeap;
    }

    /** Direct (off-heap) buffer memory that must be left for a new session: {@link #MIN_FREE_DIRECT_MEMORY}. */
    public HeapReserve minFreeDirectMemory() {
        return minFreeDirectMemory;
    }

    public int maxQueuedHandshakes() {
        return maxQueuedHandshakes;
    }

    public Duration handshakeQueueTimeout() {
        return handshakeQueueTimeout;
    }

    public boolean backendBatching() {
        return backendBatching;
    }

    /** The route's backends (the first is {@link #proxyTo()}), balancer, health checks and backend TLS. */
    public BackendSettings backends() {
        return backends;
    }

    public boolean accessLog() {
        return accessLog;
    }

    public boolean accessLogQuery() {
        return accessLogQuery;
    }

    /** The interval of interim access-log lines; {@link Duration#ZERO} for none. */
    public Duration accessLogInterval() {
        return accessLogInterval;
    }

    public boolean messageMetrics() {
        return messageMetrics;
    }

    /** The settings of the HTTP leg (requests that are not WebSocket upgrades). */
    public HttpSettings http() {
        return http;
    }

    /** What the backend is told about the client: forwarded headers and the container-authenticated identity. */
    public IdentitySettings identity() {
        return identity;
    }

    @Override
    public String toString() {
        return "BridgeConfig[proxyTo=" + backends.members() + ", allowPlainWs=" + allowPlainWs + ", allowedOrigins="
                + (anyOrigin ? "*" : allowedOrigins) + ", maxMessageSize=" + maxMessageSize + ", maxClientMessageSize=" + maxClientMessageSize
                + ", maxBackendMessageSize=" + maxBackendMessageSize + ", maxClientMessageRate=" + maxClientMessageRate
                + ", maxSessionLifetime=" + maxSessionLifetime + ", shutdownCloseCode=" + shutdownCloseCode + ", " + deflate + ", connectTimeout="
                + connectTimeout + ", upgradeTimeout=" + upgradeTimeout + ", idleTimeout=" + idleTimeout
                + ", closeTimeout=" + closeTimeout + ", clientPing=" + clientPingInterval + "/" + clientPingTimeout
                + ", backendPing=" + backendPingInterval + "/" + backendPingTimeout + ", forwardPings=" + forwardPings + ", drainTimeout=" + drainTimeout + ", maxSessions=" + maxSessions + ", minFreeHeap="
                + minFreeHeap + ", minFreeDirectMemory=" + minFreeDirectMemory + ", maxPendingHandshakes=" + maxPendingHandshakes + ", maxQueuedHandshakes="
                + maxQueuedHandshakes + ", handshakeQueueTimeout=" + handshakeQueueTimeout + ", backendBatching="
                + backendBatching + ", " + backends + ", " + identity + ", accessLog=" + accessLog + ", accessLogQuery=" + accessLogQuery
                + ", accessLogInterval=" + accessLogInterval + ", messageMetrics=" + messageMetrics + "]";
    }

    /** Reads one param at a time: placeholder resolution, then the typed parse, failing loudly. */
    private static final class Parser {
        private final ParamSource source;
        private final UnaryOperator<String> env;
        private final UnaryOperator<String> sys;

        Parser(ParamSource source, UnaryOperator<String> env, UnaryOperator<String> sys) {
            this.source = source;
            this.env = env;
            this.sys = sys;
        }

        private String raw(String name) {
            String value = source.get(name);
            if (value == null) {
                value = DEFAULTS.get(name);
                if (value == null) {
                    throw new ConfigException("init-param [" + name + "] is required but not set; expected "
                            + expectation(name));
                }
            }
            return resolve(name, value.trim());
        }

        private String resolve(String name, String value) {
            Matcher m = PLACEHOLDER.matcher(value);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String key = m.group(2);
                String found = "env".equals(m.group(1)) ? env.apply(key) : sys.apply(key);
                if (found == null) {
                    found = m.group(3);
                }
                if (found == null) {
                    throw new ConfigException("init-param [" + name + "] has value [" + value + "] but "
                            + ("env".equals(m.group(1)) ? "environment variable [" : "system property [") + key
                            + "] is not set; set it or give a default as ${" + m.group(1) + ":" + key
                            + ":-value}");
                }
                m.appendReplacement(out, Matcher.quoteReplacement(found));
            }
            m.appendTail(out);
            String resolved = out.toString().trim();
            if (resolved.contains("${")) {
                throw new ConfigException("init-param [" + name + "] has value [" + value
                        + "] with a placeholder that is not ${env:NAME} or ${sys:name}");
            }
            return resolved;
        }

        private static ConfigException bad(String name, String value, String expected) {
            return new ConfigException("init-param [" + name + "] has value [" + value + "]; expected " + expected);
        }

        private static String expectation(String name) {
            return PROXY_TO.equals(name) ? "a ws:// or wss:// URI such as ws://backend:8080/" : "a value";
        }

        boolean bool(String name) {
            String v = raw(name);
            if ("true".equals(v)) {
                return true;
            }
            if ("false".equals(v)) {
                return false;
            }
            throw bad(name, v, "true or false");
        }

        Duration duration(String name) {
            String v = raw(name);
            Matcher m = DURATION.matcher(v);
            if (!m.matches()) {
                throw bad(name, v, "a duration such as 500ms, 30s, 5m or 1h");
            }
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
            if (d.isZero()) {
                throw bad(name, v, "a duration greater than zero");
            }
            return d;
        }

        long size(String name) {
            String v = raw(name);
            Matcher m = SIZE.matcher(v);
            if (!m.matches()) {
                throw bad(name, v, "a size such as 65536, 64KiB, 16MiB or 1GiB");
            }
            long n = bytes(name, v, m, "a size greater than zero such as 64KiB or 16MiB");
            if (n == 0) {
                throw bad(name, v, "a size greater than zero such as 64KiB or 16MiB");
            }
            return n;
        }

        int positiveInt(String name) {
            String v = raw(name);
            if (WHOLE.matcher(v).matches()) {
                long n = Long.parseLong(v);
                if (n > 0 && n <= Integer.MAX_VALUE) {
                    return (int) n;
                }
            }
            throw bad(name, v, "a whole number greater than zero");
        }

        /** A close code sent on shutdown: 1001 or 1012. */
        int closeCode(String name) {
            String v = raw(name);
            if ("1001".equals(v) || "1012".equals(v)) {
                return Integer.parseInt(v);
            }
            throw bad(name, v, "1001 (going away) or 1012 (service restart)");
        }

        /** A whole number, zero allowed. */
        int count(String name) {
            String v = raw(name);
            if (WHOLE.matcher(v).matches()) {
                long n = Long.parseLong(v);
                if (n <= Integer.MAX_VALUE) {
                    return (int) n;
                }
            }
            throw bad(name, v, "a whole number, 0 or more");
        }

        /** A size (zero allowed) or a whole percentage below 100. */
        HeapReserve heapReserve(String name) {
            String v = raw(name);
            String expected = "a size such as 64MiB or a percentage of the maximum heap such as 10% (0 turns it off)";
            Matcher percent = PERCENT.matcher(v);
            if (percent.matches()) {
                return HeapReserve.percent(Integer.parseInt(percent.group(1)));
            }
            Matcher m = SIZE.matcher(v);
            if (!m.matches()) {
                throw bad(name, v, expected);
            }
            return HeapReserve.bytes(bytes(name, v, m, expected));
        }

        /** The bytes a matched {@link #SIZE} stands for; past {@code Long.MAX_VALUE}, a refusal saying {@code expected}. */
        private static long bytes(String name, String v, Matcher m, String expected) {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "B" : m.group(2);
            int shift = switch (unit) {
                case "KiB" -> 10;
                case "MiB" -> 20;
                case "GiB" -> 30;
                default -> 0;
            };
            if (n > (Long.MAX_VALUE >> shift)) {
                throw bad(name, v, expected);
            }
            return n << shift;
        }

        List<String> origins(String name) {
            String v = raw(name);
            List<String> out = new ArrayList<>();
            for (String part : v.split(",")) {
                String origin = part.trim().toLowerCase(Locale.ROOT);
                if (origin.isEmpty()) {
                    continue;
                }
                if (!origin.equals("*") && !origin.equals("null") && !isOrigin(origin)) {
                    throw bad(name, v, "a comma-separated list of origins such as https://app.example.com, or *");
                }
                out.add(origin);
            }
            return out;
        }

        private static boolean isOrigin(String origin) {
            try {
                URI u = new URI(origin);
                return u.getScheme() != null && u.getHost() != null && (u.getRawPath() == null || u.getRawPath().isEmpty())
                        && u.getRawQuery() == null && u.getRawUserInfo() == null && u.getRawFragment() == null;
            } catch (URISyntaxException e) {
                return false;
            }
        }

        BackendTarget backend(String name, String v) {
            String expected = "a ws:// or wss:// URI such as ws://backend:8080/ (no query, fragment or user info)";
            URI u;
            try {
                u = new URI(v);
            } catch (URISyntaxException e) {
                throw bad(name, v, expected);
            }
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("ws") && !scheme.equals("wss")) {
                throw bad(name, v, scheme.startsWith("http") ? expected + "; use " + scheme.replace("http", "ws")
                        + ":// for a WebSocket backend" : expected);
            }
            if (u.getHost() == null && u.getRawAuthority() != null && u.getRawAuthority().contains("_")) {
                throw bad(name, v, expected + "; the host name has an underscore, which a URI host cannot have:"
                        + " use its IP address or a name without [_]");
            }
            if (u.getHost() == null || u.getRawUserInfo() != null || u.getRawQuery() != null
                    || u.getRawFragment() != null) {
                throw bad(name, v, expected);
            }
            if (u.getPort() == 0 || u.getPort() > 65535) {
                throw bad(name, v, expected + " with a port from 1 to 65535");
            }
            String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
            if (!URI.create(path).normalize().getRawPath().equals(path) || path.contains("//")) {
                throw bad(name, v, expected + " with a normalized path");
            }
            return new BackendTarget(scheme, u.getHost(), u.getPort(), path);
        }
            // ------------------------------------------------------------ several backends, health, backend TLS
        private static final Pattern WEIGHT = Pattern.compile("weight=([0-9]{1,4})");

        BackendSettings backendSettings() {
            List<BackendMember> members = members(PROXY_TO);
            String b = raw(BALANCER);
            BackendSettings.Balancer balancer = BackendSettings.Balancer.of(b);
            if (balancer == null) {
                throw bad(BALANCER, b, "roundRobin, leastSessions or hash");
            }
            BackendSettings.HashKey hashKey = hashKey(HASH_KEY);
            int failures = count(PASSIVE_HEALTH_FAILURES);
            Duration cooldown = duration(PASSIVE_HEALTH_COOLDOWN);
            BackendSettings.HealthCheck check = healthCheck();
            return new BackendSettings(members, balancer, hashKey, failures, cooldown, check, tls());
        }

        /** The comma-separated {@code proxyTo} list: each a URI, then optionally {@code weight=N}. */
        private List<BackendMember> members(String name) {
            String v = raw(name);
            if (v.indexOf(',') < 0 && !v.contains(" weight=") && !v.contains("\tweight=")) {
                return List.of(new BackendMember(backend(name, v), 1));
            }
            List<BackendMember> out = new ArrayList<>();
            for (String item : v.split(",", -1)) {
                String[] parts = item.trim().split("\\s+");
                if (parts[0].isEmpty()) {
                    throw bad(name, v, "a comma-separated list of ws:// or wss:// URIs, each optionally followed by"
                            + " weight=N, such as ws://b1:8080/, ws://b2:8080/ weight=2 (an empty entry is not one)");
                }
                int weight = 1;
                if (parts.length > 2 || (parts.length == 2 && !WEIGHT.matcher(parts[1]).matches())) {
                    throw bad(name, v, "each backend as a URI optionally followed by weight=N with N from 1 to 1000,"
                            + " such as ws://b2:8080/ weight=2; [" + item.trim() + "] is not one");
                }
                if (parts.length == 2) {
                    weight = Integer.parseInt(WEIGHT.matcher(parts[1]).replaceAll("$1"));
                    if (weight < 1 || weight > 1000) {
                        throw bad(name, v, "a weight from 1 to 1000; [" + parts[1] + "] is not one");
                    }
                }
                BackendTarget target;
                try {
                    target = backend(name, parts[0]);
                } catch (ConfigException e) {
                    String m = e.getMessage();
                    throw bad(name, v, "each backend as " + m.substring(m.indexOf("; expected ") + 11) + "; ["
                            + parts[0] + "] is not one");
                }
                for (BackendMember m : out) {
                    if (m.target().equals(target)) {
                        throw bad(name, v, "each backend once; [" + target + "] is listed twice");
                    }
                }
                out.add(new BackendMember(target, weight));
            }
            return out;
        }

        private IdentitySettings identity() {
            String mode = raw(FORWARDED_HEADERS);
            if (!mode.equals("x-forwarded") && !mode.equals("rfc7239") && !mode.equals("both")) {
                throw bad(FORWARDED_HEADERS, mode, "x-forwarded, rfc7239 or both");
            }
            String user = headerName(USER_HEADER);
            String subject = headerName(CLIENT_CERT_SUBJECT_HEADER);
            String cert = headerName(CLIENT_CERT_HEADER);
            List<String> named = new ArrayList<>();
            for (String h : new String[] {user, subject, cert}) {
                if (h != null) {
                    String lower = h.toLowerCase(Locale.ROOT);
                    if (named.contains(lower)) {
                        throw new ConfigException("init-params [" + USER_HEADER + "], [" + CLIENT_CERT_SUBJECT_HEADER
                                + "] and [" + CLIENT_CERT_HEADER + "] name the header [" + h + "] twice; give each its own");
                    }
                    named.add(lower);
                }
            }
            return new IdentitySettings(!mode.equals("rfc7239"), !mode.equals("x-forwarded"), user, subject, cert);
        }

        /** Header names the bridge must set itself: they would say where the request came from or what it is. */
        private static final Set<String> RESERVED_HEADERS = Set.of("host", "connection", "upgrade", "forwarded",
                "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "content-length",
                "transfer-encoding", "authorization", "cookie");

        /** A header name (an RFC 9110 token) or null when empty. */
        private String headerName(String name) {
            String v = raw(name);
            if (v.isEmpty()) {
                return null;
            }
            if (!TOKEN.matcher(v).matches() || v.regionMatches(true, 0, "sec-websocket-", 0, 14)
                    || RESERVED_HEADERS.contains(v.toLowerCase(Locale.ROOT))) {
                throw bad(name, v, "a header name such as X-Forwarded-User that the bridge does not set otherwise,"
                        + " or nothing for none");
            }
            return v;
        }

        private BackendSettings.HashKey hashKey(String name) {
            String v = raw(name);
            if (v.equals("clientAddress")) {
                return new BackendSettings.HashKey(BackendSettings.HashKey.Source.CLIENT_ADDRESS, "");
            }
            int colon = v.indexOf(':');
            String key = colon < 0 ? "" : v.substring(colon + 1);
            BackendSettings.HashKey.Source source = colon < 0 ? null : switch (v.substring(0, colon)) {
                case "header" -> BackendSettings.HashKey.Source.HEADER;
                case "cookie" -> BackendSettings.HashKey.Source.COOKIE;
                case "query" -> BackendSettings.HashKey.Source.QUERY;
                default -> null;
            };
            if (source == null || !TOKEN.matcher(key).matches()) {
                throw bad(name, v, "clientAddress, header:NAME, cookie:NAME or query:NAME");
            }
            return new BackendSettings.HashKey(source, key);
        }

        private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
        private static final Pattern CHECK_PATH = Pattern.compile("/[!$&'()*+,;=:@%/?.~0-9A-Za-z_-]*");

        private BackendSettings.HealthCheck healthCheck() {
            String path = raw(HEALTH_CHECK_PATH);
            String type = raw(HEALTH_CHECK_TYPE);
            if (!type.equals("http") && !type.equals("websocket")) {
                throw bad(HEALTH_CHECK_TYPE, type, "http or websocket");
            }
            Duration interval = duration(HEALTH_CHECK_INTERVAL);
            Duration timeout = duration(HEALTH_CHECK_TIMEOUT);
            int rise = positiveInt(HEALTH_CHECK_RISE);
            int fall = positiveInt(HEALTH_CHECK_FALL);
            if (path.isEmpty()) {
                return null;
            }
            if (!CHECK_PATH.matcher(path).matches() || path.contains("#")) {
                throw bad(HEALTH_CHECK_PATH, path, "a path starting with / such as /health, or nothing for no check");
            }
            return new BackendSettings.HealthCheck(type.equals("websocket"), path, interval, timeout, rise, fall);
        }

        private BackendSettings.Tls tls() {
            java.nio.file.Path trust = path(BACKEND_TRUST_STORE);
            String trustPassword = raw(BACKEND_TRUST_STORE_PASSWORD);
            String trustType = storeType(BACKEND_TRUST_STORE_TYPE);
            java.nio.file.Path key = path(BACKEND_KEY_STORE);
            String keyPassword = raw(BACKEND_KEY_STORE_PASSWORD);
            String keyType = storeType(BACKEND_KEY_STORE_TYPE);
            boolean verify = bool(BACKEND_HOSTNAME_VERIFICATION);
            return new BackendSettings.Tls(trust, trustPassword.isEmpty() ? null : trustPassword, trustType, key,
                    keyPassword.isEmpty() ? null : keyPassword, keyType, verify);
        }

        /** A file path, or null when empty; the file itself is opened (and any fault reported) at route start. */
        private java.nio.file.Path path(String name) {
            String v = raw(name);
            if (v.isEmpty()) {
                return null;
            }
            try {
                return java.nio.file.Path.of(v);
            } catch (java.nio.file.InvalidPathException e) {
                throw bad(name, v, "a file path");
            }
        }

        private String storeType(String name) {
            String v = raw(name);
            if (!v.equals("PKCS12") && !v.equals("JKS")) {
                throw bad(name, v, "PKCS12 or JKS");
            }
            return v;
        }
        // ------------------------------------------------------------ end of several backends
    }
}
