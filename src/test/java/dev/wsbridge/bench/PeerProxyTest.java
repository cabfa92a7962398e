package dev.wsbridge.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.wsbridge.support.TestTls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The peers' configurations: the lines of their stock WebSocket examples, on the layout's ports and files; and,
 * where nginx or HAProxy is installed, accepted by its own configuration check.
 */
class PeerProxyTest {

    private static final Path PEM = Path.of("/tmp/test/localhost.pem");
    private static final PeerProxy.Layout LAYOUT = new PeerProxy.Layout(Path.of("/tmp/test/nginx"), 8443, 8081, PEM, 1, 1256);

    @Test
    void nginxIsItsWebSocketExampleWithTlsOnTheListen() {
        List<String> lines = lines(PeerProxy.nginxConfig(LAYOUT));
        for (String expected : List.of("listen 127.0.0.1:8443 ssl;", "ssl_certificate /tmp/test/localhost.pem;",
                "ssl_certificate_key /tmp/test/localhost.pem;", "proxy_pass http://127.0.0.1:8081;",
                "proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;",
                "proxy_set_header Connection $connection_upgrade;", "default upgrade;", "worker_processes 1;",
                "worker_connections 2512;", "pid /tmp/test/nginx/nginx.pid;", "error_log /tmp/test/nginx/error.log;",
                "access_log /tmp/test/nginx/access.log;", "daemon off;")) {
            assertTrue(lines.contains(expected), () -> "no line [" + expected + "] in\n" + String.join("\n", lines));
        }
    }

    @Test
    void haproxyIsItsWebSocketExampleWithTlsOnTheBind() {
        List<String> lines = lines(PeerProxy.haproxyConfig(LAYOUT));
        for (String expected : List.of("mode http", "bind 127.0.0.1:8443 ssl crt /tmp/test/localhost.pem",
                "server backend 127.0.0.1:8081", "timeout tunnel 1h", "nbthread 1", "maxconn 1256")) {
            assertTrue(lines.contains(expected), () -> "no line [" + expected + "] in\n" + String.join("\n", lines));
        }
    }

    @Test
    void nginxAcceptsItsConfiguration() throws Exception {
        Path exe = PeerProxy.Kind.NGINX.executable();
        assumeTrue(exe != null, "nginx is not installed");
        Path dir = Files.createDirectories(Path.of("target", "peer-config-test", "nginx").toAbsolutePath());
        Files.writeString(dir.resolve("nginx.conf"),
                PeerProxy.nginxConfig(new PeerProxy.Layout(dir, 8443, 8081, TestTls.pem(), 1, 1256)));
        check(List.of(exe.toString(), "-t", "-p", dir + "/", "-c", dir.resolve("nginx.conf").toString(), "-e",
                dir.resolve("error.log").toString()));
    }

    @Test
    void haproxyAcceptsItsConfiguration() throws Exception {
        Path exe = PeerProxy.Kind.HAPROXY.executable();
        assumeTrue(exe != null, "haproxy is not installed");
        Path dir = Files.createDirectories(Path.of("target", "peer-config-test", "haproxy").toAbsolutePath());
        Files.writeString(dir.resolve("haproxy.cfg"),
                PeerProxy.haproxyConfig(new PeerProxy.Layout(dir, 8443, 8081, TestTls.pem(), 1, 1256)));
        check(List.of(exe.toString(), "-c", "-f", dir.resolve("haproxy.cfg").toString()));
    }

    private static void check(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), () -> String.join(" ", command) + " did not end");
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " said:\n" + out);
    }

    private static List<String> lines(String config) {
        return config.lines().map(String::trim).toList();
    }
}
