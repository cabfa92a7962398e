package dev.wsbridge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.support.Await;
import dev.wsbridge.support.Peer;
import dev.wsbridge.support.ScriptedBackend;
import dev.wsbridge.support.TestClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Redeploy hygiene in real Tomcat 10.1: with sessions open, the WAR is replaced several times (Tomcat's
 * autoDeploy reloads the context); each undeploy closes every client and backend session with 1001, and Tomcat finds
 * no thread, ThreadLocal or other leak left behind by the web application.
 */
class TomcatRedeployIT {

    private static final int REDEPLOYS = 3;
    private static final List<String> LEAK_WARNINGS = List.of("failed to stop it", "ThreadLocal", "memory leak",
            "pinned", "did not stop");

    @Test
    void eachRedeployClosesSessionsWith1001AndLeaksNothing() throws Exception {
        try (ScriptedBackend backend = new ScriptedBackend();
                TomcatProcess tomcat = new TomcatProcess(Distribution.TOMCAT_10_1, Path.of("target", "it", "TomcatRedeployIT"))) {
            // autoDeploy checks the WAR every second instead of every ten
            tomcat.editServerXml(xml -> xml.replace("<Engine name=\"Catalina\" defaultHost=\"localhost\">",
                    "<Engine name=\"Catalina\" defaultHost=\"localhost\" backgroundProcessorDelay=\"1\">"));
            Path war = ContainerProcess.builtWar();
            tomcat.deploy("ROOT", war);
            tomcat.contextParams("ROOT", Map.of("proxyTo", backend.uri().toString()));
            tomcat.start();
            tomcat.awaitStatus("/wsapp/", 426);

            try (TestClient client = new TestClient()) {
                for (int i = 1; i <= REDEPLOYS; i++) {
                    Peer c1 = client.connect(tomcat.wss("/wsapp/r" + i + "a"));
                    Peer b1 = backend.session();
                    Peer c2 = client.connect(tomcat.wss("/wsapp/r" + i + "b"));
                    Peer b2 = backend.session();
                    c1.send("before redeploy " + i);
                    assertEquals("before redeploy " + i, c1.nextText());

                    Path deployed = tomcat.webapps().resolve("ROOT.war");
                    Files.copy(war, deployed, StandardCopyOption.REPLACE_EXISTING);

                    assertEquals(1001, c1.closed().code(), "client 1, redeploy " + i);
                    assertEquals(1001, c2.closed().code(), "client 2, redeploy " + i);
                    assertEquals(1001, b1.closed().code(), "backend 1, redeploy " + i);
                    assertEquals(1001, b2.closed().code(), "backend 2, redeploy " + i);
                    int deployments = i + 1;
                    Await.until("deployment " + deployments, 60,
                            () -> count(tomcat.log(), "wsbridge route \\[wsapp\\] ready") >= deployments);
                    tomcat.awaitStatus("/wsapp/", 426);
                }
                Peer last = client.connect(tomcat.wss("/wsapp/last"));
                backend.session();
                last.send("after " + REDEPLOYS + " redeploys");
                assertEquals("after " + REDEPLOYS + " redeploys", last.nextText());
            }
            tomcat.close();

            String log = tomcat.log();
            for (String warning : LEAK_WARNINGS) {
                assertTrue(!log.contains(warning), "Tomcat logged [" + warning + "]\n" + tomcat.tail());
            }
            assertEquals(REDEPLOYS + 1, count(log, "wsbridge route \\[wsapp\\] ready"), tomcat.tail());
        }
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
