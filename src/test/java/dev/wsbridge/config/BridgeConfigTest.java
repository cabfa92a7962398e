package dev.wsbridge.config;

import static dev.wsbridge.config.BridgeConfig.ALLOWED_ORIGINS;
import static dev.wsbridge.config.BridgeConfig.ALLOW_PLAIN_WS;
import static dev.wsbridge.config.BridgeConfig.BACKEND_BATCHING;
import static dev.wsbridge.config.BridgeConfig.CLOSE_TIMEOUT;
import static dev.wsbridge.config.BridgeConfig.CONNECT_TIMEOUT;
import static dev.wsbridge.config.BridgeConfig.DRAIN_TIMEOUT;
import static dev.wsbridge.config.BridgeConfig.HANDSHAKE_QUEUE_TIMEOUT;
import static dev.wsbridge.config.BridgeConfig.IDLE_TIMEOUT;
import static dev.wsbridge.config.BridgeConfig.MAX_MESSAGE_SIZE;
import static dev.wsbridge.config.BridgeConfig.MAX_PENDING_HANDSHAKES;
import static dev.wsbridge.config.BridgeConfig.MAX_QUEUED_HANDSHAKES;
import static dev.wsbridge.config.BridgeConfig.MAX_SESSIONS;
import static dev.wsbridge.config.BridgeConfig.MIN_FREE_DIRECT_MEMORY;
import static dev.wsbridge.config.BridgeConfig.MIN_FREE_HEAP;
import static dev.wsbridge.config.BridgeConfig.PROXY_TO;
import static dev.wsbridge.config.BridgeConfig.UPGRADE_TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link BridgeConfig}: defaults, every param from valid and invalid values, placeholders and origins.
 * Params are given as a map exactly as web.xml would give them; the environment and system properties
 * are maps too, never the real ones.
 */
class BridgeConfigTest {

    private static final String BACKEND = "ws://backend:8080/";

    private static final Map<String, Function<BridgeConfig, Duration>> DURATION_PARAMS = Map.of(
            CONNECT_TIMEOUT, BridgeConfig::connectTimeout,
            UPGRADE_TIMEOUT, BridgeConfig::upgradeTimeout,
            IDLE_TIMEOUT, BridgeConfig::idleTimeout,
            CLOSE_TIMEOUT, BridgeConfig::closeTimeout,
            DRAIN_TIMEOUT, BridgeConfig::drainTimeout,
            HANDSHAKE_QUEUE_TIMEOUT, BridgeConfig::handshakeQueueTimeout);

    private static final Map<String, Function<BridgeConfig, Integer>> COUNT_PARAMS = Map.of(
            MAX_SESSIONS, BridgeConfig::maxSessions,
            MAX_PENDING_HANDSHAKES, BridgeConfig::maxPendingHandshakes,
            MAX_QUEUED_HANDSHAKES, BridgeConfig::maxQueuedHandshakes);

    // ---------------------------------------------------------------- defaults

    @Test
    void onlyProxyToGivenUsesEveryDefault() {
        BridgeConfig config = parse(Map.of(PROXY_TO, BACKEND));

        assertAll(
                () -> assertFalse(config.allowPlainWs(), ALLOW_PLAIN_WS),
                () -> assertFalse(config.isOriginListed("https://app.example.com"), ALLOWED_ORIGINS),
                () -> assertEquals(64L * 1024 * 1024, config.maxMessageSize(), MAX_MESSAGE_SIZE),
                () -> assertEquals(Duration.ofSeconds(5), config.connectTimeout(), CONNECT_TIMEOUT),
                () -> assertEquals(Duration.ofSeconds(15), config.upgradeTimeout(), UPGRADE_TIMEOUT),
                () -> assertEquals(Duration.ofHours(1), config.idleTimeout(), IDLE_TIMEOUT),
                () -> assertEquals(Duration.ofSeconds(5), config.closeTimeout(), CLOSE_TIMEOUT),
                () -> assertEquals(Duration.ofSeconds(2), config.drainTimeout(), DRAIN_TIMEOUT),
                () -> assertEquals(10_000, config.maxSessions(), MAX_SESSIONS),
                () -> assertEquals(new HeapReserve(0, 10), config.minFreeHeap(), MIN_FREE_HEAP),
                () -> assertEquals(new HeapReserve(0, 10), config.minFreeDirectMemory(), MIN_FREE_DIRECT_MEMORY),
                () -> assertEquals(64, config.maxPendingHandshakes(), MAX_PENDING_HANDSHAKES),
                () -> assertEquals(200, config.maxQueuedHandshakes(), MAX_QUEUED_HANDSHAKES),
                () -> assertEquals(Duration.ofSeconds(5), config.handshakeQueueTimeout(), HANDSHAKE_QUEUE_TIMEOUT),
                () -> assertFalse(config.backendBatching(), BACKEND_BATCHING));
    }

    @Test
    void missingProxyToNamesTheParam() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(Map.of()));

        assertTrue(e.getMessage().startsWith("init-param [proxyTo] is required"), e.getMessage());
    }

    // ---------------------------------------------------------------- valid values

    static Stream<Arguments> validDurations() {
        return DURATION_PARAMS.keySet().stream().sorted().flatMap(name -> Stream.of(
                arguments(name, "500ms", Duration.ofMillis(500)),
                arguments(name, "30s", Duration.ofSeconds(30)),
                arguments(name, "5m", Duration.ofMinutes(5)),
                arguments(name, "1h", Duration.ofHours(1))));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("validDurations")
    void durationIsParsed(String name, String value, Duration expected) {
        BridgeConfig config = parse(Map.of(PROXY_TO, BACKEND, name, value));

        assertEquals(expected, DURATION_PARAMS.get(name).apply(config));
    }

    @ParameterizedTest(name = "maxMessageSize={0}")
    @CsvSource({
        "65536,  65536",
        "100B,   100",
        "64KiB,  65536",
        "16MiB,  16777216",
        "1GiB,   1073741824",
    })
    void sizeIsParsed(String value, long expected) {
        BridgeConfig config = parse(Map.of(PROXY_TO, BACKEND, MAX_MESSAGE_SIZE, value));

        assertEquals(expected, config.maxMessageSize());
    }

    @ParameterizedTest(name = "allowPlainWs={0}")
    @CsvSource({"true, true", "false, false"})
    void booleanIsParsed(String value, boolean expected) {
        BridgeConfig config = parse(Map.of(PROXY_TO, BACKEND, ALLOW_PLAIN_WS, value));

        assertEquals(expected, config.allowPlainWs());
    }

    @ParameterizedTest(name = "backendBatching={0}")
    @CsvSource({"true, true", "false, false"})
    void batchingIsParsed(String value, boolean expected) {
        BridgeConfig config = parse(Map.of(PROXY_TO, BACKEND, BACKEND_BATCHING, value));

        assertEquals(expected, config.backendBatching());
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
        "maxSessions,          1",
        "maxSessions,          500",
        "maxSessions,          2147483647",
        "maxPendingHandshakes, 1",
        "maxPendingHandshakes, 16",
        "maxQueuedHandshakes,  0",
        "maxQueuedHandshakes,  1000",
    })
    void countIsParsed(String name, int value) {
        BridgeConfig config = parse(Map.of(PROXY_TO, BACKEND, name, Integer.toString(value)));

        assertEquals(value, COUNT_PARAMS.get(name).apply(config));
    }

    @ParameterizedTest(name = "minFreeHeap={0}")
    @CsvSource({
        "10%,     0,          10,  1000000000, 100000000",
        "0%,      0,          0,   1000000000, 0",
        "99%,     0,          99,  1000000000, 990000000",
        "0,       0,          -1,  1000000000, 0",
        "64MiB,   67108864,   -1,  1000000000, 67108864",
        "1024GiB, 1099511627776, -1, 1000000000, 1099511627776",
        "500000,  500000,     -1,  1000000000, 500000",
    })
    void minFreeHeapIsASizeOrAPercentage(String value, long bytes, int percent, long maxHeap, long reserved) {
        HeapReserve reserve = parse(Map.of(PROXY_TO, BACKEND, MIN_FREE_HEAP, value)).minFreeHeap();

        assertEquals(new HeapReserve(bytes, percent), reserve);
        assertEquals(reserved, reserve.of(maxHeap));
        assertEquals(reserved == 0, reserve.off());
    }

    @Test
    void surroundingWhitespaceIsIgnored() {
        BridgeConfig config = parse(Map.of(PROXY_TO, " ws://backend:8080/ \n", IDLE_TIMEOUT, "\n  30s  "));

        assertEquals(Duration.ofSeconds(30), config.idleTimeout());
    }

    // ---------------------------------------------------------------- proxyTo

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "ws://backend:8080/,       ws,  backend,   8080, /",
        "ws://backend,             ws,  backend,   -1,   /",
        "ws://backend/,            ws,  backend,   -1,   /",
        "wss://backend/app,        wss, backend,   -1,   /app",
        "ws://backend:9000/app/,   ws,  backend,   9000, /app/",
        "ws://10.0.0.7:81/a/b,     ws,  10.0.0.7,  81,   /a/b",
        "WS://backend/,            ws,  backend,   -1,   /",
        "ws://[::1]:8080/,         ws,  [::1],     8080, /",
        "wss://[2001:db8::1]/app,  wss, [2001:db8::1], -1, /app",
    })
    void proxyToIsSplitIntoTarget(String proxyTo, String scheme, String host, int port, String basePath) {
        BridgeConfig config = parse(Map.of(PROXY_TO, proxyTo));

        assertEquals(new BackendTarget(scheme, host, port, basePath), config.proxyTo());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "ws://backend:8080/,   backend:8080",
        "ws://backend/,        backend",
        "ws://[::1]:8080/,     [::1]:8080",
        "wss://[::1]/,         [::1]",
    })
    void targetAuthorityIsAsInTheUri(String proxyTo, String authority) {
        assertEquals(authority, parse(Map.of(PROXY_TO, proxyTo)).proxyTo().authority());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "ws://backend/,       80",
        "wss://backend/,      443",
        "ws://backend:8080/,  8080",
        "wss://backend:8443/, 8443",
    })
    void targetEffectivePortFollowsTheScheme(String proxyTo, int port) {
        assertEquals(port, parse(Map.of(PROXY_TO, proxyTo)).proxyTo().effectivePort());
    }

    // ---------------------------------------------------------------- bad values

    static Stream<Arguments> badValues() {
        return Stream.of(
                arguments(PROXY_TO, ""),
                arguments(PROXY_TO, "backend:8080"),
                arguments(PROXY_TO, "//backend:8080/"),
                arguments(PROXY_TO, "http://x/"),
                arguments(PROXY_TO, "https://x/"),
                arguments(PROXY_TO, "ftp://h/"),
                arguments(PROXY_TO, "ws:/h"),
                arguments(PROXY_TO, "ws:h"),
                arguments(PROXY_TO, "ws://u@h/"),
                arguments(PROXY_TO, "ws://u:p@h/"),
                arguments(PROXY_TO, "ws://h/?q"),
                arguments(PROXY_TO, "ws://h/?"),
                arguments(PROXY_TO, "ws://h/#f"),
                arguments(PROXY_TO, "ws://h/a b"),
                arguments(PROXY_TO, "ws://h/a/../b"),
                arguments(PROXY_TO, "ws://h/./a"),
                arguments(PROXY_TO, "ws://h//a"),
                arguments(PROXY_TO, "ws://h:0/"),
                arguments(PROXY_TO, "ws://h:99999/"),
                arguments(ALLOW_PLAIN_WS, ""),
                arguments(ALLOW_PLAIN_WS, "yes"),
                arguments(ALLOW_PLAIN_WS, "no"),
                arguments(ALLOW_PLAIN_WS, "TRUE"),
                arguments(ALLOW_PLAIN_WS, "False"),
                arguments(ALLOW_PLAIN_WS, "1"),
                arguments(ALLOWED_ORIGINS, "app.example.com"),
                arguments(ALLOWED_ORIGINS, "https://app.example.com/"),
                arguments(ALLOWED_ORIGINS, "https://app.example.com/path"),
                arguments(ALLOWED_ORIGINS, "https://u@app.example.com"),
                arguments(ALLOWED_ORIGINS, "https://app.example.com?x=1"),
                arguments(ALLOWED_ORIGINS, "https://app.example.com#f"),
                arguments(ALLOWED_ORIGINS, "https://*.example.com"),
                arguments(ALLOWED_ORIGINS, "https://a.example.com, b.example.com"),
                arguments(MAX_MESSAGE_SIZE, "0"),
                arguments(MAX_MESSAGE_SIZE, "0KiB"),
                arguments(MAX_MESSAGE_SIZE, "-1"),
                arguments(MAX_MESSAGE_SIZE, "10x"),
                arguments(MAX_MESSAGE_SIZE, "1.5MiB"),
                arguments(MAX_MESSAGE_SIZE, "64KB"),
                arguments(MAX_MESSAGE_SIZE, "64kib"),
                arguments(MAX_MESSAGE_SIZE, "64 KiB"),
                arguments(MAX_MESSAGE_SIZE, "1TiB"),
                arguments(MAX_MESSAGE_SIZE, "999999999999GiB"),
                arguments(MAX_SESSIONS, "0"),
                arguments(MAX_SESSIONS, "-1"),
                arguments(MAX_SESSIONS, "1.5"),
                arguments(MAX_SESSIONS, "1e3"),
                arguments(MAX_SESSIONS, "10x"),
                arguments(MAX_SESSIONS, "2147483648"),
                arguments(MAX_PENDING_HANDSHAKES, "0"),
                arguments(MAX_PENDING_HANDSHAKES, "-5"),
                arguments(MAX_PENDING_HANDSHAKES, "many"),
                arguments(MAX_QUEUED_HANDSHAKES, "-1"),
                arguments(MAX_QUEUED_HANDSHAKES, "some"),
                arguments(MAX_QUEUED_HANDSHAKES, "2147483648"),
                arguments(MIN_FREE_HEAP, ""),
                arguments(MIN_FREE_HEAP, "100%"),
                arguments(MIN_FREE_HEAP, "-1%"),
                arguments(MIN_FREE_HEAP, "10.5%"),
                arguments(MIN_FREE_DIRECT_MEMORY, "100%"),
                arguments(MIN_FREE_DIRECT_MEMORY, "lots"),
                arguments(MIN_FREE_HEAP, "10 %"),
                arguments(MIN_FREE_HEAP, "%"),
                arguments(MIN_FREE_HEAP, "64MB"),
                arguments(MIN_FREE_HEAP, "-64MiB"),
                arguments(MIN_FREE_HEAP, "lots"),
                arguments(MIN_FREE_HEAP, "999999999999GiB"),
                arguments(BACKEND_BATCHING, "yes"),
                arguments(BACKEND_BATCHING, "on"),
                arguments(BACKEND_BATCHING, ""));
    }

    static Stream<Arguments> badDurations() {
        return DURATION_PARAMS.keySet().stream().sorted().flatMap(name -> Stream.of(
                "10x", "0s", "0ms", "-1", "-1s", "30", "1.5s", "30S", "5 m", "1d", "s", "").map(v -> arguments(name, v)));
    }

    static Stream<Arguments> allBadValues() {
        return Stream.concat(badValues(), badDurations());
    }

    @ParameterizedTest(name = "{0}=[{1}]")
    @MethodSource("allBadValues")
    void badValueIsRefusedNamingParamAndValue(String name, String value) {
        Map<String, String> params = new HashMap<>(Map.of(PROXY_TO, BACKEND));
        params.put(name, value);

        ConfigException e = assertThrows(ConfigException.class, () -> parse(params));

        assertTrue(e.getMessage().startsWith("init-param [" + name + "] has value [" + value + "]; expected "),
                e.getMessage());
    }

    // ---------------------------------------------------------------- placeholders

    @Test
    void envPlaceholderIsReplaced() {
        BridgeConfig config = parse(Map.of(PROXY_TO, "${env:WSBRIDGE_PROXY_TO}"),
                Map.of("WSBRIDGE_PROXY_TO", "ws://from-env:9000/"), Map.of());

        assertEquals(new BackendTarget("ws", "from-env", 9000, "/"), config.proxyTo());
    }

    @Test
    void sysPlaceholderIsReplaced() {
        BridgeConfig config = parse(Map.of(PROXY_TO, BACKEND, IDLE_TIMEOUT, "${sys:wsbridge.idle}"),
                Map.of(), Map.of("wsbridge.idle", "5m"));

        assertEquals(Duration.ofMinutes(5), config.idleTimeout());
    }

    @Test
    void placeholderIsReplacedInsideText() {
        BridgeConfig config = parse(Map.of(PROXY_TO, "ws://${env:HOST}:${sys:port}/${env:APP}"),
                Map.of("HOST", "b1", "APP", "chat"), Map.of("port", "81"));

        assertEquals(new BackendTarget("ws", "b1", 81, "/chat"), config.proxyTo());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"${env:UNSET:-30s}", "${sys:unset:-30s}"})
    void placeholderDefaultIsUsedWhenUnset(String value) {
        BridgeConfig config = parse(Map.of(PROXY_TO, BACKEND, IDLE_TIMEOUT, value), Map.of(), Map.of());

        assertEquals(Duration.ofSeconds(30), config.idleTimeout());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"${env:IDLE:-30s}", "${sys:idle:-30s}"})
    void placeholderValueWinsOverItsDefault(String value) {
        BridgeConfig config = parse(Map.of(PROXY_TO, BACKEND, IDLE_TIMEOUT, value),
                Map.of("IDLE", "5m"), Map.of("idle", "5m"));

        assertEquals(Duration.ofMinutes(5), config.idleTimeout());
    }

    @Test
    void placeholderDefaultMayBeAUri() {
        BridgeConfig config = parse(Map.of(PROXY_TO, "${env:WSBRIDGE_PROXY_TO:-ws://localhost:8081/}"),
                Map.of(), Map.of());

        assertEquals(new BackendTarget("ws", "localhost", 8081, "/"), config.proxyTo());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "${env:WSBRIDGE_IDLE} | environment variable [WSBRIDGE_IDLE] is not set",
        "${sys:wsbridge.idle} | system property [wsbridge.idle] is not set",
    })
    void unsetPlaceholderWithoutDefaultNamesParamValueAndVariable(String value, String reason) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse(Map.of(PROXY_TO, BACKEND, IDLE_TIMEOUT, value), Map.of(), Map.of()));

        assertTrue(e.getMessage().startsWith("init-param [idleTimeout] has value [" + value + "] but " + reason),
                e.getMessage());
    }

    @Test
    void placeholderResolvingToABadValueBracketsTheResolvedValue() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse(Map.of(PROXY_TO, BACKEND, IDLE_TIMEOUT, "${env:IDLE}"), Map.of("IDLE", "10x"), Map.of()));

        assertTrue(e.getMessage().startsWith("init-param [idleTimeout] has value [10x]; expected a duration"),
                e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"${IDLE}", "${env:}", "${other:IDLE}", "${env:IDLE", "30${}s"})
    void unknownPlaceholderIsRefusedNamingParamAndValue(String value) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse(Map.of(PROXY_TO, BACKEND, IDLE_TIMEOUT, value), Map.of("IDLE", "30s"), Map.of()));

        assertTrue(e.getMessage().startsWith("init-param [idleTimeout] has value [" + value + "]"), e.getMessage());
    }

    // ---------------------------------------------------------------- origins

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "https://app.example.com                        | https://app.example.com",
        "https://app.example.com                        | HTTPS://App.Example.COM",
        "HTTPS://APP.example.com                        | https://app.example.com",
        "https://a.example.com, https://b.example.com:8443 | https://b.example.com:8443",
        "https://a.example.com,,https://b.example.com   | https://b.example.com",
        "null                                           | null",
        "*                                              | https://anything.example.net",
        "https://a.example.com, *                       | http://localhost:3000",
    })
    void listedOriginIsAccepted(String allowedOrigins, String origin) {
        BridgeConfig config = parse(Map.of(PROXY_TO, BACKEND, ALLOWED_ORIGINS, allowedOrigins));

        assertTrue(config.isOriginListed(origin));
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "''                                  | https://app.example.com",
        "https://app.example.com             | http://app.example.com",
        "https://app.example.com             | https://app.example.com:8443",
        "https://app.example.com             | https://evil.app.example.com",
        "https://app.example.com             | https://app.example.com.evil.net",
        "https://app.example.com             | null",
        "https://a.example.com, https://b.example.com | https://c.example.com",
    })
    void unlistedOriginIsRefused(String allowedOrigins, String origin) {
        BridgeConfig config = parse(Map.of(PROXY_TO, BACKEND, ALLOWED_ORIGINS, allowedOrigins));

        assertFalse(config.isOriginListed(origin));
    }

    // ---------------------------------------------------------------- helpers

    private static BridgeConfig parse(Map<String, String> params) {
        return parse(params, Map.of(), Map.of());
    }

    private static BridgeConfig parse(Map<String, String> params, Map<String, String> env, Map<String, String> sys) {
        return BridgeConfig.parse(params::get, env::get, sys::get);
    }
}
