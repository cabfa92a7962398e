package dev.wsbridge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.config.BackendSettings.Balancer;
import dev.wsbridge.config.BackendSettings.HashKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The backend list in {@code proxyTo}, the balancer, health and backend TLS params: values, defaults, refusals. */
class BackendSettingsTest {

    private static BackendSettings parse(Map<String, String> params) {
        return BridgeConfig.parse(params::get, name -> null, name -> null).backends();
    }

    private static BackendTarget ws(String host, int port) {
        return new BackendTarget("ws", host, port, "/");
    }

    @Test
    void oneBackendIsTheSimpleCaseWithTheDefaults() {
        BackendSettings s = parse(Map.of("proxyTo", "ws://b1:8080/"));

        assertEquals(List.of(new BackendMember(ws("b1", 8080), 1)), s.members());
        assertEquals(Balancer.ROUND_ROBIN, s.balancer());
        assertEquals(new HashKey(HashKey.Source.CLIENT_ADDRESS, ""), s.hashKey());
        assertEquals(3, s.passiveFailures());
        assertEquals(Duration.ofSeconds(10), s.passiveCooldown());
        assertNull(s.check());
        assertTrue(s.tls().isDefault());
    }

    @Test
    void listTakesWeightsAndKeepsItsOrder() {
        BridgeConfig config = BridgeConfig.parse(
                Map.of("proxyTo", "ws://b1:8080/ , wss://b2/app weight=3,ws://b3:81/\tweight=1")::get, n -> null, n -> null);

        assertEquals(List.of(new BackendMember(ws("b1", 8080), 1),
                new BackendMember(new BackendTarget("wss", "b2", -1, "/app"), 3),
                new BackendMember(ws("b3", 81), 1)), config.backends().members());
        assertEquals(ws("b1", 8080), config.proxyTo());
    }

    @Test
    void balancerHealthAndTlsParamsAreRead() {
        Map<String, String> p = new HashMap<>();
        p.put("proxyTo", "ws://b1/, ws://b2/");
        p.put("balancer", "hash");
        p.put("hashKey", "cookie:io");
        p.put("passiveHealthFailures", "0");
        p.put("passiveHealthCooldown", "30s");
        p.put("healthCheckPath", "/health?deep=1");
        p.put("healthCheckType", "websocket");
        p.put("healthCheckInterval", "10s");
        p.put("healthCheckTimeout", "1s");
        p.put("healthCheckRise", "1");
        p.put("healthCheckFall", "2");
        p.put("backendTrustStore", "/etc/ca.p12");
        p.put("backendTrustStorePassword", "${env:TRUST}");
        p.put("backendKeyStore", "/etc/client.jks");
        p.put("backendKeyStoreType", "JKS");
        p.put("backendHostnameVerification", "false");

        BackendSettings s = BridgeConfig.parse(p::get, name -> name.equals("TRUST") ? "secret" : null, name -> null).backends();

        assertEquals(Balancer.HASH, s.balancer());
        assertEquals(new HashKey(HashKey.Source.COOKIE, "io"), s.hashKey());
        assertEquals(0, s.passiveFailures());
        assertEquals(new BackendSettings.HealthCheck(true, "/health?deep=1", Duration.ofSeconds(10), Duration.ofSeconds(1), 1, 2),
                s.check());
        assertEquals(new BackendSettings.Tls(Path.of("/etc/ca.p12"), "secret", "PKCS12", Path.of("/etc/client.jks"), null,
                "JKS", false), s.tls());
        assertTrue(!s.toString().contains("secret"), s.toString());
    }

    @ParameterizedTest(name = "{0}=[{1}]")
    @CsvSource(delimiter = '|', value = {
        "proxyTo | ws://b1/,",
        "proxyTo | ,ws://b1/",
        "proxyTo | ws://b1/,,ws://b2/",
        "proxyTo | ws://b1/ weight=0",
        "proxyTo | ws://b1/ weight=-1",
        "proxyTo | ws://b1/ weight=x",
        "proxyTo | ws://b1/ weight=1001",
        "proxyTo | ws://b1/ weight=2 weight=3",
        "proxyTo | ws://b1/ ws://b2/",
        "proxyTo | ws://b1/, http://b2/",
        "proxyTo | ws://b1/, ws://b1/",
        "proxyTo | ws://b1/, ws://u@b2/",
        "balancer | random",
        "balancer | RoundRobin",
        "balancer | ''",
        "hashKey | ip",
        "hashKey | cookie:",
        "hashKey | header:a b",
        "hashKey | path:x",
        "passiveHealthFailures | -1",
        "passiveHealthCooldown | 0s",
        "healthCheckPath | health",
        "healthCheckPath | /a b",
        "healthCheckType | tcp",
        "healthCheckRise | 0",
        "healthCheckFall | -2",
        "backendTrustStoreType | PEM",
        "backendKeyStoreType | pkcs12",
        "backendHostnameVerification | no",
    })
    void badValueStopsTheDeploymentNamingTheParam(String name, String value) {
        Map<String, String> params = new HashMap<>(Map.of("proxyTo", "ws://b/, ws://c/"));
        params.put(name, value);

        ConfigException e = assertThrows(ConfigException.class, () -> parse(params));

        assertTrue(e.getMessage().startsWith("init-param [" + name + "] has value [" + value + "]; expected "), e.getMessage());
    }
}
