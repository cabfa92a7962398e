package dev.wsbridge.dist;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Jetty from its distribution: a fresh JETTY_BASE made with {@code java -jar start.jar --add-modules=...}
 * (as README tells an admin), the keystore and port in {@code start.d/ssl.ini}, run with
 * {@code java -jar $JETTY_HOME/start.jar}.
 */
final class JettyProcess extends ContainerProcess {

    private final String ee;

    /**
     * A base with {@code https}, {@code graceful} and {@code eeNN-deploy}, plus {@code ee10-websocket-jakarta} on
     * Jetty 12.0, as README says.
     */
    JettyProcess(Distribution distribution, Path base, String ee) throws Exception {
        this(distribution, base, ee, "https,graceful," + ee + "-deploy"
                + (distribution == Distribution.JETTY_12_0_EE10 ? "," + ee + "-websocket-jakarta" : ""));
    }

    /** A base with exactly {@code modules} (comma-separated), plus the TLS settings. */
    JettyProcess(Distribution distribution, Path base, String ee, String modules) throws Exception {
        super(distribution, base);
        this.ee = ee;
        run(List.of(java(), "-jar", home.resolve("start.jar").toString(), "jetty.home=" + home, "jetty.base=" + this.base,
                "--add-modules=" + modules));
        Files.writeString(this.base.resolve("start.d/ssl.ini"), String.join("\n",
                "",
                "## wsbridge: TLS on the test certificate",
                "jetty.ssl.host=127.0.0.1",
                "jetty.ssl.port=" + port,
                "jetty.sslContext.keyStorePath=" + keystore,
                "jetty.sslContext.keyStorePassword=changeit",
                "jetty.sslContext.keyStoreType=PKCS12",
                ""), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        Files.createDirectories(this.base.resolve("tmp"));
    }

    @Override
    void enableHotRedeploy() throws IOException {
        // the deployment scanner of Jetty 12.1 only scans at startup unless given an interval
        Files.writeString(base.resolve("start.d/wsbridge-hot-redeploy.ini"), String.join("\n",
                "## wsbridge: redeploy a changed WAR in webapps/",
                "jetty.deploy.scanInterval=1",
                ""), StandardCharsets.UTF_8);
    }

    @Override
    void addUser(String realm, String user, String password, String role) throws Exception {
        run(List.of(java(), "-jar", home.resolve("start.jar").toString(), "jetty.home=" + home, "jetty.base=" + base,
                "--add-modules=" + ee + "-security"));
        Files.createDirectories(base.resolve("etc"));
        Files.writeString(base.resolve("etc/wsbridge-realm.properties"), user + ": " + password + "," + role + "\n",
                StandardCharsets.UTF_8);
        Files.writeString(base.resolve("etc/wsbridge-realm.xml"), """
                <?xml version="1.0"?>
                <!DOCTYPE Configure PUBLIC "-//Jetty//Configure//EN" "https://jetty.org/configure_10_0.dtd">
                <Configure id="Server" class="org.eclipse.jetty.server.Server">
                  <Call class="org.eclipse.jetty.util.resource.ResourceFactory" name="of">
                    <Arg><Ref refid="Server"/></Arg>
                    <Call id="users" name="newResource"><Arg>etc/wsbridge-realm.properties</Arg></Call>
                  </Call>
                  <Call name="addBean">
                    <Arg>
                      <New class="org.eclipse.jetty.security.HashLoginService">
                        <Set name="name">%s</Set>
                        <Set name="config"><Ref refid="users"/></Set>
                      </New>
                    </Arg>
                  </Call>
                </Configure>
                """.formatted(xml(realm)), StandardCharsets.UTF_8);
        Files.writeString(base.resolve("start.d/wsbridge-realm.ini"), "etc/wsbridge-realm.xml\n", StandardCharsets.UTF_8);
    }

    @Override
    void contextParams(String name, Map<String, String> params) throws IOException {
        StringBuilder b = new StringBuilder("""
                <?xml version="1.0"?>
                <!DOCTYPE Configure PUBLIC "-//Jetty//Configure//EN" "https://jetty.org/configure_10_0.dtd">
                <Configure class="org.eclipse.jetty.%s.webapp.WebAppContext">
                  <Set name="contextPath">%s</Set>
                  <Set name="war"><Property name="jetty.webapps" default="."/>/%s.war</Set>
                """.formatted(ee, name.equals("ROOT") ? "/" : "/" + name, name));
        params.forEach((k, v) -> b.append("  <Call name=\"setInitParameter\"><Arg>").append(xml(k)).append("</Arg><Arg>")
                .append(xml(v)).append("</Arg></Call>\n"));
        b.append("</Configure>\n");
        Files.createDirectories(webapps());
        Files.writeString(webapps().resolve(name + ".xml"), b, StandardCharsets.UTF_8);
    }

    @Override
    protected List<String> command() {
        List<String> c = new ArrayList<>(List.of(java(), "-Xmx256m", "-Djava.io.tmpdir=" + base.resolve("tmp")));
        c.addAll(systemProperties());
        c.addAll(List.of("-jar", home.resolve("start.jar").toString(), "jetty.home=" + home, "jetty.base=" + base));
        return c;
    }
}
