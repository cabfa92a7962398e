package dev.wsbridge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wsbridge.config.BridgeConfig;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every row of httpd's ProxyPassReverse family as the HTTP leg applies it, one header value at a time. */
class ReverseRewriteTest {

    private static final String CLIENT = "https://app.example.com";

    /** A rewrite for a client at https://app.example.com on route {@code routeBase}, {@code proxyTo} and more params. */
    private static ReverseRewrite rewrite(String proxyTo, String routeBase, String... params) {
        Map<String, String> p = new HashMap<>();
        p.put(BridgeConfig.PROXY_TO, proxyTo);
        for (int i = 0; i < params.length; i += 2) {
            p.put(params[i], params[i + 1]);
        }
        BridgeConfig config = BridgeConfig.parse(p::get, name -> null, name -> null);
        return new ReverseRewrite(config.proxyTo(), config.http(), "https", "app.example.com", routeBase);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "http://backend:8080/login?next=%2F|https://app.example.com/ctx/wsapp/login?next=%2F",
        "http://BACKEND:8080/a#f|https://app.example.com/ctx/wsapp/a#f",
        "http://backend:8080/|https://app.example.com/ctx/wsapp/",
        "http://backend:8080|http://backend:8080",
        "//backend:8080/x|//app.example.com/ctx/wsapp/x",
        "/login|/ctx/wsapp/login",
        "next|next",
        "../up|../up",
        "https://backend:8080/x|https://backend:8080/x",
        "http://backend:9090/x|http://backend:9090/x",
        "http://other:8080/x|http://other:8080/x",
        "http://user@backend:8080/x|http://user@backend:8080/x",
        "mailto:a@b|mailto:a@b",
        "not a uri|not a uri",
    })
    void urlUnderTheRootBase(String backend, String client) {
        assertEquals(client, rewrite("ws://backend:8080/", "/ctx/wsapp").header("location", backend));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "http://backend/app/x|https://app.example.com/wsapp/x",
        "http://backend:80/app|https://app.example.com/wsapp",
        "/app/|/wsapp/",
        "/apple|/apple",
        "/x|/x",
    })
    void urlUnderABasePath(String backend, String client) {
        ReverseRewrite r = rewrite("ws://backend/app/", "/wsapp");

        assertEquals(client, r.header("content-location", backend));
        assertEquals(client, r.header("uri", backend));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "https://backend/x|https://app.example.com/wsapp/x",
        "http://backend/x|http://backend/x",
        "https://backend:443/x|https://app.example.com/wsapp/x",
    })
    void wssBackendIsHttps(String backend, String client) {
        assertEquals(client, rewrite("wss://backend/", "/wsapp").header("location", backend));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "s=1; Path=/; HttpOnly|s=1; Path=/wsapp; HttpOnly",
        "s=1; path=/app|s=1; Path=/wsapp",
        "s=1; Path=/app/|s=1; Path=/wsapp",
        "s=1; Path=/app/api; Secure|s=1; Path=/wsapp/api; Secure",
        "s=1; Path=/apple|s=1; Path=/apple",
        "s=1; Path=/other|s=1; Path=/other",
        "s=1; Domain=backend; Path=/|s=1; Path=/wsapp",
        "s=1; Domain=.BACKEND|s=1",
        "s=1; Domain=example.com|s=1; Domain=example.com",
        "s=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT|s=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
        "s=a=b|s=a=b",
    })
    void cookiesByDefault(String backend, String client) {
        assertEquals(client, rewrite("ws://backend/app/", "/wsapp").header("set-cookie", backend));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "s=1; Path=/|s=1; Path=/",
        "s=1; Path=/; Domain=backend|s=1; Path=/; Domain=backend",
    })
    void cookiesLeftAloneWhenOff(String backend, String client) {
        assertEquals(client, rewrite("ws://backend/", "/wsapp", "reverseCookiePath", "off", "reverseCookieDomain", "off")
                .header("set-cookie", backend));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "s=1; Path=/api/v1|s=1; Path=/wsapp/v1",
        "s=1; Path=/static/x|s=1; Path=/assets/x",
        "s=1; Path=/|s=1; Path=/",
        "s=1; Domain=internal.lan|s=1; Domain=example.com",
        "s=1; Domain=.internal.lan|s=1; Domain=example.com",
        "s=1; Domain=backend|s=1; Domain=backend",
    })
    void cookiesByPairs(String backend, String client) {
        assertEquals(client, rewrite("ws://backend/", "/wsapp", "reverseCookiePath", "/api /wsapp/, /static /assets",
                "reverseCookieDomain", "internal.lan example.com").header("set-cookie", backend));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {"content-type|text/html", "link|</a>; rel=next", "refresh|0; url=/x"})
    void otherHeadersPassAsTheyAre(String name, String value) {
        assertEquals(value, rewrite("ws://backend/", "/wsapp").header(name, value));
    }
}
