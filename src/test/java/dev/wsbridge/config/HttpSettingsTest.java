package dev.wsbridge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The init-params of the HTTP leg: defaults, accepted forms, and a refusal naming the param for each bad value. */
class HttpSettingsTest {

    private static HttpSettings parse(String... params) {
        Map<String, String> p = new HashMap<>(Map.of(BridgeConfig.PROXY_TO, "ws://backend:8080/"));
        for (int i = 0; i < params.length; i += 2) {
            p.put(params[i], params[i + 1]);
        }
        return BridgeConfig.parse(p::get, name -> null, name -> null).http();
    }

    @Test
    void defaults() {
        HttpSettings http = parse();

        assertTrue(http.enabled());
        assertEquals(Duration.ofSeconds(60), http.idleTimeout());
        assertEquals(Duration.ZERO, http.timeout());
        assertEquals(10000, http.maxConnections());
        assertFalse(http.preserveHost());
        assertEquals(ReverseMap.Mode.AUTO, http.cookiePaths().mode());
        assertEquals(ReverseMap.Mode.AUTO, http.cookieDomains().mode());
    }

    @Test
    void everyValueIsTaken() {
        HttpSettings http = parse("httpProxy", "false", "httpIdleTimeout", "5m", "httpTimeout", "30s",
                "httpMaxConnections", "7", "preserveHost", "true", "reverseCookiePath", "/ /wsapp/, /a /b",
                "reverseCookieDomain", "off");

        assertFalse(http.enabled());
        assertEquals(Duration.ofMinutes(5), http.idleTimeout());
        assertEquals(Duration.ofSeconds(30), http.timeout());
        assertEquals(7, http.maxConnections());
        assertTrue(http.preserveHost());
        assertEquals(List.of(new ReverseMap.Pair("/", "/wsapp/"), new ReverseMap.Pair("/a", "/b")), http.cookiePaths().pairs());
        assertEquals(ReverseMap.Mode.OFF, http.cookieDomains().mode());
    }

    @Test
    void domainPairsAreLowerCase() {
        assertEquals(List.of(new ReverseMap.Pair("backend.lan", ".example.com")),
                parse("reverseCookieDomain", "Backend.LAN .Example.com").cookieDomains().pairs());
    }

    @ParameterizedTest(name = "{0}=[{1}]")
    @CsvSource(delimiter = '|', value = {
        "httpProxy|yes|true or false",
        "httpIdleTimeout|10x|a duration",
        "httpIdleTimeout|0|a duration such as",
        "httpTimeout|-1|or 0 for no limit",
        "httpTimeout|1d|or 0 for no limit",
        "httpMaxConnections|0|a whole number greater than zero",
        "preserveHost|1|true or false",
        "reverseCookiePath|/only-one|pairs of paths",
        "reverseCookiePath|/a /b /c|pairs of paths",
        "reverseCookiePath|a b|pairs of paths",
        "reverseCookiePath|/a /b,|pairs of paths",
        "reverseCookieDomain|on|pairs of domains",
        "reverseCookieDomain|a_b c|pairs of domains",
    })
    void badValueIsRefusedNamingParamAndValue(String name, String value, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(name, value));

        assertTrue(e.getMessage().startsWith("init-param [" + name + "] has value [" + value + "]"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
