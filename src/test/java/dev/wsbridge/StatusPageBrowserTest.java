package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Peer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.eclipse.jetty.util.ajax.JSON;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The status page as an operator sees it, in a real headless browser: Debian's Chromium driven through Debian's
 * chromedriver, both named by path so that Selenium never looks for or downloads either. Live sessions with known
 * traffic appear with their counters; the page, reloading itself, follows new traffic and a session that ends;
 * its JSON link opens the same figures.
 *
 * <p>With {@code -Dwsbridge.screenshot=docs/status-page.png} it also saves the page, with its live sessions, there.
 */
class StatusPageBrowserTest extends ContainerSuite {

    /** Debian's Chromium (package {@code chromium}). */
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    /** Debian's chromedriver for it (package {@code chromium-driver}). */
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** System property: where to save a screenshot of the page with its live sessions; unset, none is taken. */
    static final String SCREENSHOT = "wsbridge.screenshot";
    /** The page reloads itself every 5 s: a change shows within one reload and its page load. */
    private static final Duration RELOADED = Duration.ofSeconds(15);
    /** Where the page's JSON link leads. */
    private static final String JSON_PATH = "/wsbridge/status?format=json";

    private WebDriver browser;

    @BeforeEach
    void openBrowser() {
        for (Path p : List.of(CHROMIUM, CHROMEDRIVER)) {
            assertTrue(Files.isExecutable(p), "[" + p + "] is missing: apt-get install chromium chromium-driver");
        }
        // Driver and browser named by path: Selenium Manager, which would look for them or download them, never runs.
        ChromeDriverService driver = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        ChromeOptions options = new ChromeOptions()
                .setBinary(CHROMIUM.toFile())
                // --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
                // --ignore-certificate-errors: the container's TLS connector has the tests' self-signed certificate.
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900",
                        "--ignore-certificate-errors");
        browser = new ChromeDriver(driver, options);
    }

    @AfterEach
    void quitBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    /**
     * A browser's own WebSocket through the route, from a page of the same origin over TLS: Chromium offers
     * permessage-deflate, the bridge takes it on the client leg (without context takeover, which Chromium keeps
     * to), and text and binary messages of every size come back byte for byte; the backend is offered no
     * compression.
     */
    @Test
    void aBrowsersCompressedMessagesCrossTheBridgeByteForByte() throws Exception {
        start(Map.of());
        browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(60));
        browser.get("https://localhost:" + container.tlsPort() + "/wsbridge/status");
        Object result = ((JavascriptExecutor) browser).executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                const sizes = [0, 1, 125, 126, 1000, 65535, 65536, 300000];
                const text = n => Array.from({length: n}, (_, i) => '{"seq":' + (i % 977) + ',"v":"é✓"}').join('').slice(0, n);
                const binary = n => Uint8Array.from({length: n}, (_, i) => (i * 31 + (i >> 7)) & 0xff);
                const expected = [];
                for (const n of sizes) { expected.push(text(n)); expected.push(binary(n)); }
                const ws = new WebSocket(arguments[0]);
                ws.binaryType = 'arraybuffer';
                const got = [];
                const same = (a, b) => typeof a === 'string' ? a === b
                        : b instanceof ArrayBuffer && a.length === b.byteLength && new Uint8Array(b).every((x, i) => x === a[i]);
                ws.onopen = () => expected.forEach(m => ws.send(m));
                ws.onmessage = e => {
                    got.push(e.data);
                    if (got.length === expected.length) {
                        const mismatches = expected.map((m, i) => same(m, got[i]) ? -1 : i).filter(i => i >= 0);
                        ws.close(1000, 'done');
                        done({extensions: ws.extensions, messages: got.length, mismatches: mismatches.join(',')});
                    }
                };
                ws.onclose = e => done({extensions: ws.extensions, messages: got.length, closed: e.code});
                """, "wss://localhost:" + container.tlsPort() + "/wsapp/browser/deflate");
        @SuppressWarnings("unchecked")
        Map<String, Object> r = (Map<String, Object>) result;
        assertEquals(16L, r.get("messages"), r.toString());
        assertEquals("", r.get("mismatches"), r.toString());
        assertTrue(String.valueOf(r.get("extensions")).startsWith("permessage-deflate"), r.toString());
        assertEquals(null, backend.handshake().header("Sec-WebSocket-Extensions"), "the backend is offered no compression");
    }

    @Test
    void liveSessionsFollowTheirTrafficAndLeaveWhenClosed() throws Exception {
        start(Map.of());
        backend.subprotocol(offered -> offered.contains("chat.v2") ? "chat.v2" : null);
        Peer one = connect("/wsapp/browser/one");
        one.send("hello");
        one.send(new byte[300]);
        assertEquals("hello", one.nextText());
        assertEquals(300, one.nextBinary().length);
        Peer two = client.connect(container.wss("/wsapp/browser/two"), "chat.v2");
        backend.session();
        Peer three = connect("/wsapp/browser/three");
        three.send("t".repeat(1500));
        assertEquals("t".repeat(1500), three.nextText());

        browser.get("http://127.0.0.1:" + container.plainPort() + "/wsbridge/status");
        awaitText("open-wsapp", "3", Duration.ofSeconds(5));
        Map<String, String> row = awaitRow("/wsapp/browser/one", counters(2, 305), Duration.ofSeconds(5));
        assertEquals("session-" + row.get("Session"), row.get("id"));
        assertEquals("127.0.0.1", row.get("Client"));
        assertEquals("-", row.get("User"));
        assertEquals("-", row.get("Subprotocol"));
        assertEquals("ws://127.0.0.1:" + backend.port(), row.get("Backend"));
        row = awaitRow("/wsapp/browser/two", counters(0, 0), Duration.ofSeconds(5));
        assertEquals("chat.v2", row.get("Subprotocol"));
        awaitRow("/wsapp/browser/three", counters(1, 1500), Duration.ofSeconds(5));

        // The page has no script: new figures can only come from its own reload (the test never reloads it).
        one.send("x".repeat(1000));
        assertEquals("x".repeat(1000), one.nextText());
        awaitRow("/wsapp/browser/one", counters(3, 1305), RELOADED);
        String screenshot = System.getProperty(SCREENSHOT);
        if (screenshot != null) {
            save(screenshot);
        }

        one.close(1000, "done");
        assertEquals(1000, one.closed().code());
        awaitText("open-wsapp", "2", RELOADED);
        await(RELOADED, () -> "the closed session to leave the table", b -> {
            Map<String, String> gone = sessionRow("/wsapp/browser/one");
            return gone != null && gone.isEmpty();
        });
        awaitRow("/wsapp/browser/two", counters(0, 0), Duration.ofSeconds(5));
        awaitRow("/wsapp/browser/three", counters(1, 1500), Duration.ofSeconds(5));

        // A click that lands while the page reloads finds a node of the old document: click the new one's link.
        await(Duration.ofSeconds(10), () -> "the JSON link to open " + JSON_PATH, b -> {
            if (!b.getCurrentUrl().endsWith(JSON_PATH)) {
                b.findElement(By.linkText("status?format=json")).click();
            }
            return b.getCurrentUrl().endsWith(JSON_PATH);
        });
        Map<?, ?> status = (Map<?, ?>) new JSON().fromJSON(browser.findElement(By.tagName("pre")).getText());
        Map<?, ?> route = (Map<?, ?>) ((Object[]) status.get("routes"))[0];
        assertEquals("wsapp", route.get("route"));
        assertEquals(2L, ((Number) route.get("sessionsOpen")).longValue());
        List<Object> paths = new ArrayList<>();
        for (Object s : (Object[]) route.get("liveSessions")) {
            paths.add(((Map<?, ?>) s).get("path"));
        }
        assertEquals(List.of("/wsapp/browser/two", "/wsapp/browser/three"), paths, "oldest first");

        two.close(1000, "");
        three.close(1000, "");
        two.closed();
        three.closed();
    }

    // ---- helpers ----

    private Peer connect(String path) {
        Peer c = client.connect(container.wss(path));
        backend.session();
        return c;
    }

    /** The four counter cells of a session row that echoed {@code messages} messages of {@code bytes} in all. */
    private static Map<String, String> counters(int messages, int bytes) {
        return Map.of("Client→backend msgs", Integer.toString(messages), "Client→backend bytes", Integer.toString(bytes),
                "Backend→client msgs", Integer.toString(messages), "Backend→client bytes", Integer.toString(bytes));
    }

    /** Waits until the row of the session on {@code path} has {@code expected} among its cells; returns the row. */
    private Map<String, String> awaitRow(String path, Map<String, String> expected, Duration timeout) {
        List<Map<String, String>> last = new ArrayList<>(Collections.singletonList(null));
        await(timeout, () -> "row " + path + " with " + expected + "; last seen " + last.get(0), b -> {
            last.set(0, sessionRow(path));
            return last.get(0) != null && last.get(0).entrySet().containsAll(expected.entrySet());
        });
        return last.get(0);
    }

    /** Waits until the element {@code id} shows {@code text}. */
    private void awaitText(String id, String text, Duration timeout) {
        await(timeout, () -> "#" + id + " showing [" + text + "]", b -> text.equals(script(
                "const e = document.getElementById(arguments[0]); return e ? e.innerText : null;", id)));
    }

    /**
     * The cells of the live-sessions row of route {@code wsapp} whose path is {@code path}, by column heading, and the
     * row's element id under {@code id}; empty when the table has no such row, {@code null} while there is no table.
     * Read in one script, so that the page's reload cannot come between the reads of one row.
     */
    @SuppressWarnings("unchecked")
    private Map<String, String> sessionRow(String path) {
        return (Map<String, String>) script("""
                const table = document.querySelector('#route-wsapp table.sessions');
                if (!table) return null;
                const headings = [...table.querySelectorAll('th')].map(th => th.innerText);
                for (const tr of table.querySelectorAll("tr[id^='session-']")) {
                  const cells = [...tr.querySelectorAll('td')].map(td => td.innerText);
                  if (cells[headings.indexOf('Path')] === arguments[0]) {
                    const row = {id: tr.id};
                    headings.forEach((h, i) => row[h] = cells[i]);
                    return row;
                  }
                }
                return {};""", path);
    }

    private Object script(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    /**
     * Polls {@code condition} on the page as it reloads itself; fails after {@code timeout} saying what it waited for,
     * with the last error as the cause. A read while the document is being replaced may fail (chromedriver names that in
     * several ways): the next poll reads the new document.
     */
    private void await(Duration timeout, Supplier<String> what, Function<WebDriver, Boolean> condition) {
        new WebDriverWait(browser, timeout, Duration.ofMillis(100))
                .ignoring(WebDriverException.class)
                .withMessage(what)
                .until(condition);
    }

    /** Saves the whole page as PNG: the window grown to the page's width (and a right margin) and height first. */
    private void save(String path) throws IOException {
        Dimension window = browser.manage().window().getSize();
        List<?> page = (List<?>) script("const e = document.documentElement;"
                + " return [e.scrollWidth + parseFloat(getComputedStyle(document.body).marginLeft), e.scrollHeight,"
                + " window.outerHeight - window.innerHeight];");
        int width = Math.max(window.getWidth(), ((Number) page.get(0)).intValue());
        int height = Math.max(window.getHeight(), ((Number) page.get(1)).intValue() + ((Number) page.get(2)).intValue());
        browser.manage().window().setSize(new Dimension(width, height));
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Path target = Path.of(path);
        if (target.getParent() != null) {
            Files.createDirectories(target.getParent());
        }
        Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
    }
}
