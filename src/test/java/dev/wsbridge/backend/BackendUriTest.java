package dev.wsbridge.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.wsbridge.backend.BackendUri.RejectedPathException;
import dev.wsbridge.config.BackendTarget;
import dev.wsbridge.config.BridgeConfig;
import java.net.URI;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link BackendUri}: how a request path maps onto {@code proxyTo}, and that no suffix can leave the
 * base path or change the host.
 */
class BackendUriTest {

    private static final BackendTarget ROOT = target("ws://backend:8080/");

    // ---------------------------------------------------------------- mapping

    @ParameterizedTest(name = "{0} + {1} ? {2}")
    @CsvSource(delimiter = '|', nullValues = "(null)", value = {
        "ws://backend:8080/     | /chat/room1   | x=1    | ws://backend:8080/chat/room1?x=1",
        "ws://backend:8080/     | /chat/room1   | (null) | ws://backend:8080/chat/room1",
        "ws://backend:8080/     | /chat/room1   | ''     | ws://backend:8080/chat/room1?",
        "ws://backend:8080/     | ''            | (null) | ws://backend:8080/",
        "ws://backend:8080/     | ''            | x=1    | ws://backend:8080/?x=1",
        "ws://backend:8080/     | /             | (null) | ws://backend:8080/",
        "ws://backend:8080/     | /chat/        | (null) | ws://backend:8080/chat/",
        "ws://backend:8080/app  | /chat/room1   | x=1    | ws://backend:8080/app/chat/room1?x=1",
        "ws://backend:8080/app/ | /chat/room1   | x=1    | ws://backend:8080/app/chat/room1?x=1",
        "ws://backend:8080/app  | ''            | (null) | ws://backend:8080/app",
        "ws://backend:8080/app/ | ''            | (null) | ws://backend:8080/app/",
        "ws://backend:8080/app  | /             | (null) | ws://backend:8080/app/",
        "ws://backend:8080/app/ | /chat/        | (null) | ws://backend:8080/app/chat/",
        "ws://backend:8080/     | /a%20b        | (null) | ws://backend:8080/a%20b",
        "ws://backend:8080/     | /a%2Bb/%C3%A9 | q=%20x | ws://backend:8080/a%2Bb/%C3%A9?q=%20x",
        "ws://backend:8080/     | /a;b=c/d:e    | (null) | ws://backend:8080/a;b=c/d:e",
        "ws://backend:8080/     | /...          | (null) | ws://backend:8080/...",
        "ws://backend:8080/     | /.well-known  | (null) | ws://backend:8080/.well-known",
        "ws://backend:8080/     | /chat         | a=1&b=/x?y | ws://backend:8080/chat?a=1&b=/x?y",
        "wss://backend/         | /chat         | (null) | wss://backend/chat",
        "ws://[::1]:9000/app    | /chat         | (null) | ws://[::1]:9000/app/chat",
    })
    void suffixAndQueryAreAppendedAsSent(String proxyTo, String suffix, String query, String expected)
            throws RejectedPathException {
        assertEquals(expected, BackendUri.resolve(target(proxyTo), suffix, query).toString());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/@evil.com/", "/@evil.com", "/user@evil.com:80/x", "/:80@evil.com/", "/evil.com:443/"})
    void atSignOrColonInThePathKeepsTheHost(String suffix) throws RejectedPathException {
        URI uri = BackendUri.resolve(ROOT, suffix, null);

        assertEquals("backend:8080", uri.getRawAuthority());
    }

    // ---------------------------------------------------------------- rawSuffix

    @ParameterizedTest(name = "{0} ctx=[{1}] servlet=[{2}]")
    @CsvSource(delimiter = '|', value = {
        "/wsapp/chat/room1         | ''        | /wsapp | /chat/room1",
        "/wsapp/chat/              | ''        | /wsapp | /chat/",
        "/wsapp/                   | ''        | /wsapp | /",
        "/wsapp                    | ''        | /wsapp | ''",
        "/ctx/wsapp/chat/room1     | /ctx      | /wsapp | /chat/room1",
        "/ctx/wsapp                | /ctx      | /wsapp | ''",
        "/ctx/wsapp/               | /ctx      | /wsapp | /",
        "/chat/room1               | ''        | ''     | /chat/room1",
        "/                         | ''        | ''     | /",
        "/ctx/chat/room1           | /ctx      | ''     | /chat/room1",
        "/ctx/                     | /ctx      | ''     | /",
        "/wsapp/a%20b              | ''        | /wsapp | /a%20b",
        "/wsapp/a%2Fb/c            | ''        | /wsapp | /a%2Fb/c",
        "/wsapp/%2e%2e/admin       | ''        | /wsapp | /%2e%2e/admin",
        "/ctx/wsapp/%C3%A9t%C3%A9  | /ctx      | /wsapp | /%C3%A9t%C3%A9",
        "/my%20ctx/ws%61pp/x%3By   | /my ctx   | /wsapp | /x%3By",
        "/a/b/wsapp/x/y            | /a/b      | /wsapp | /x/y",
        "/ctx/ws/app/x             | /ctx      | /ws/app | /x",
    })
    void rawSuffixSkipsContextAndServletPathSegments(String requestUri, String contextPath, String servletPath,
            String expected) {
        assertEquals(expected, BackendUri.rawSuffix(requestUri, contextPath, servletPath));
    }

    // ---------------------------------------------------------------- refused paths

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {
        "/..", "/../", "/../admin", "/chat/../../admin", "/chat/..",
        "/.", "/./", "/./admin", "/chat/.",
        "/%2e%2e/admin", "/%2E%2E/admin", "/%2E%2e/admin", "/%2e./admin", "/.%2e/admin", "/%2e/admin",
        "/a%2fb", "/a%2Fb", "/%2f", "/%2F%2Fevil.com/",
        "/a%5cb", "/a%5Cb", "/..%5cadmin", "/a\\b", "/..\\admin",
        "//", "//evil.com/", "/chat//room", "/chat//",
        "/%252e%252e/admin", "/%252f", "/%25%32%65",
        "/%00", "/a%00b", "/%0d%0a", "/a%0d%0aX-Injected:%201", "/%7f", "/%1b",
        "/a b", "/a\tb", "/a\nb", "/a\u0000b", "/\u00e9", "/\u2025", "/\uff0e\uff0e/admin",
        "/%", "/%2", "/%zz", "/%2g",
        "/a?b", "/a#b", "/a|b", "/a{b}", "/a[0]", "/a\"b", "/a<b>", "/a^b", "/a`b",
        "chat", "../admin",
    })
    void escapeAttemptIsRejected(String suffix) {
        assertThrows(RejectedPathException.class, () -> BackendUri.resolve(target("ws://backend:8080/app/"), suffix, null));
    }

    /**
     * A {@code ;} parameter does not make {@code ..} an ordinary segment for every backend: Tomcat strips
     * path parameters before it normalises, so {@code /app/..;/admin} is served as {@code /admin}.
     */
    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"/..;/admin", "/..;x=1/admin", "/.;/admin", "/%2e%2e;/admin", "/chat/..;"})
    void dotSegmentWithPathParameterIsRejected(String suffix) {
        assertThrows(RejectedPathException.class, () -> BackendUri.resolve(target("ws://backend:8080/app/"), suffix, null));
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"a b", "a#b", "a\nb", "x=\u00e9", "x=%", "x=%2", "x=%zz", "a\"b", "a<b", "a|b"})
    void badQueryIsRejected(String query) {
        assertThrows(RejectedPathException.class, () -> BackendUri.resolve(ROOT, "/chat", query));
    }

    @Test
    void rejectionMessageBracketsThePath() {
        RejectedPathException e = assertThrows(RejectedPathException.class,
                () -> BackendUri.resolve(ROOT, "/chat/%2e%2e/admin", null));

        assertTrue(e.getMessage().contains("[/chat/%2e%2e/admin]"), e.getMessage());
    }

    // ---------------------------------------------------------------- property

    /**
     * Random suffixes from an alphabet rich in separators, dots and escapes: each one is either refused,
     * or lands on proxyTo's host and port under its base path, with the query as given.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ws://backend:8080/", "ws://backend:8080/app", "ws://backend:8080/app/", "wss://backend/a/b/"})
    void noRandomSuffixLeavesTheBasePath(String proxyTo) {
        BackendTarget target = target(proxyTo);
        String alphabet = "/////....%%%2eEfF5cC@:;\\?#abAB09-_~ ";
        Random random = new Random(20_240_611L);
        int accepted = 0;
        for (int n = 0; n < 20_000; n++) {
            StringBuilder suffix = new StringBuilder("/");
            int length = random.nextInt(12);
            for (int i = 0; i < length; i++) {
                suffix.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            URI uri;
            try {
                uri = BackendUri.resolve(target, suffix.toString(), "x=1");
            } catch (RejectedPathException e) {
                continue;
            }
            accepted++;
            URI reparsed = URI.create(uri.toString());
            String path = reparsed.normalize().getRawPath();
            if (!target.host().equals(reparsed.getHost()) || target.port() != reparsed.getPort()
                    || reparsed.getRawUserInfo() != null || !"x=1".equals(reparsed.getRawQuery())
                    || reparsed.getRawFragment() != null || !underBasePath(path, target.basePath())) {
                fail("suffix [" + suffix + "] became [" + uri + "] outside [" + target + "]");
            }
        }
        assertTrue(accepted > 1_000, "too few suffixes accepted to mean anything: " + accepted);
    }

    private static boolean underBasePath(String path, String basePath) {
        String prefix = basePath.endsWith("/") ? basePath : basePath + "/";
        return path.equals(basePath) || path.startsWith(prefix);
    }

    private static BackendTarget target(String proxyTo) {
        return BridgeConfig.parse(Map.of(BridgeConfig.PROXY_TO, proxyTo)::get, name -> null, name -> null).proxyTo();
    }
}
