package dev.wsbridge.dist;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Tomcat from its distribution: a fresh CATALINA_BASE whose {@code conf/} is copied from CATALINA_HOME, with
 * the HTTP connector of {@code server.xml} replaced by the TLS connector README shows, the shutdown port off,
 * and no web application but ours. Run with {@code java ... org.apache.catalina.startup.Bootstrap start} and
 * the same JVM options {@code catalina.sh} passes.
 */
final class TomcatProcess extends ContainerProcess {

    private static final String HTTP_CONNECTOR = "<Connector port=\"8080\" protocol=\"HTTP/1.1\"";

    TomcatProcess(Distribution distribution, Path base) throws IOException {
        super(distribution, base);
        copyTree(home.resolve("conf"), base.resolve("conf"));
        for (String dir : List.of("logs", "temp", "webapps", "work")) {
            Files.createDirectories(base.resolve(dir));
        }
        editServerXml(xml -> xml);
    }

    /** The TLS connector, as README tells an admin to add it to {@code conf/server.xml}. */
    String tlsConnector() {
        return "<Connector port=\"" + port + "\" address=\"127.0.0.1\""
                + " protocol=\"org.apache.coyote.http11.Http11NioProtocol\" SSLEnabled=\"true\" maxThreads=\"150\">\n"
                + "      <SSLHostConfig>\n"
                + "        <Certificate certificateKeystoreFile=\"" + xml(keystore.toString()) + "\"\n"
                + "                     certificateKeystorePassword=\"changeit\" type=\"EC\"/>\n"
                + "      </SSLHostConfig>\n"
                + "    </Connector>";
    }

    /** Rewrites {@code conf/server.xml}: the HTTP connector becomes ours, then {@code more} applies. */
    void editServerXml(java.util.function.UnaryOperator<String> more) throws IOException {
        Path file = base.resolve("conf/server.xml");
        String xml = Files.readString(file, StandardCharsets.UTF_8);
        int start = xml.indexOf(HTTP_CONNECTOR);
        if (start >= 0) {
            int end = xml.indexOf("/>", start) + 2;
            xml = xml.substring(0, start) + tlsConnector() + xml.substring(end);
        } else if (!xml.contains("port=\"" + port + "\"")) {
            throw new IllegalStateException("no [" + HTTP_CONNECTOR + "] in " + file);
        }
        xml = xml.replace("<Server port=\"8005\"", "<Server port=\"-1\"");
        Files.writeString(file, more.apply(xml), StandardCharsets.UTF_8);
    }

    @Override
    void enableHotRedeploy() throws IOException {
        // autoDeploy (on in the shipped server.xml) checks webapps/ at every background run: every second, not ten
        editServerXml(xml -> xml.replace("<Engine name=\"Catalina\" defaultHost=\"localhost\">",
                "<Engine name=\"Catalina\" defaultHost=\"localhost\" backgroundProcessorDelay=\"1\">"));
    }

    /**
     * Deploys the distribution's own {@code manager} web application (its {@code META-INF/context.xml} lets in
     * 127.0.0.1 only) with one user in {@code conf/tomcat-users.xml} having role {@code manager-script}, the
     * role of its text interface {@code /manager/text/*}. Call before {@link #start()}.
     */
    void enableManager(String user, String password) throws IOException {
        copyTree(home.resolve("webapps/manager"), webapps().resolve("manager"));
        addUser("manager", user, password, "manager-script");
    }

    /** Writes {@code conf/tomcat-users.xml} with this one user: the shipped server.xml's UserDatabaseRealm reads it. */
    @Override
    void addUser(String realm, String user, String password, String role) throws IOException {
        Files.writeString(base.resolve("conf/tomcat-users.xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <tomcat-users xmlns="http://tomcat.apache.org/xml" version="1.0">
                  <role rolename="%3$s"/>
                  <user username="%1$s" password="%2$s" roles="%3$s"/>
                </tomcat-users>
                """.formatted(xml(user), xml(password), xml(role)), StandardCharsets.UTF_8);
    }

    /**
     * Asks the manager which stopped (reloaded, undeployed) web applications are still in memory:
     * {@code GET /manager/text/findleaks?statusLine=true} with basic auth over the test TLS. Tomcat runs a full
     * GC first. Needs {@link #enableManager}.
     *
     * @return the response body: {@code OK - No memory leaks found}, or a status line and one context path
     *         per line
     */
    String findLeaks(String user, String password) throws Exception {
        String credentials = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> response = get("/manager/text/findleaks?statusLine=true",
                Map.of("Authorization", "Basic " + credentials));
        if (response.statusCode() != 200) {
            throw new AssertionError(distribution + ": findleaks answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    @Override
    void contextParams(String name, Map<String, String> params) throws IOException {
        StringBuilder b = new StringBuilder("<Context>\n");
        params.forEach((k, v) -> b.append("  <Parameter name=\"").append(xml(k)).append("\" value=\"").append(xml(v))
                .append("\" override=\"false\"/>\n"));
        b.append("</Context>\n");
        Path dir = base.resolve("conf/Catalina/localhost");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(name + ".xml"), b, StandardCharsets.UTF_8);
    }

    @Override
    protected List<String> command() {
        List<String> c = new ArrayList<>(List.of(java(),
                "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                "--add-opens=java.base/java.io=ALL-UNNAMED",
                "--add-opens=java.base/java.util=ALL-UNNAMED",
                "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
                "--add-opens=java.rmi/sun.rmi.transport=ALL-UNNAMED",
                "-Djava.util.logging.config.file=" + base.resolve("conf/logging.properties"),
                "-Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager",
                "-Djava.protocol.handler.pkgs=org.apache.catalina.webresources",
                "-Dcatalina.home=" + home,
                "-Dcatalina.base=" + base,
                "-Djava.io.tmpdir=" + base.resolve("temp"),
                "-Xmx256m"));
        c.addAll(systemProperties());
        c.addAll(List.of("-cp", home.resolve("bin/bootstrap.jar") + java.io.File.pathSeparator + home.resolve("bin/tomcat-juli.jar"),
                "org.apache.catalina.startup.Bootstrap", "start"));
        return c;
    }
}
