package dev.wsbridge.dist;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/** WAR variants of the built WAR: the same classes and libraries with another {@code WEB-INF/web.xml}. */
final class Wars {

    private Wars() {
    }

    /** Copies {@code war} to {@code to} with {@code webXml} as its {@code WEB-INF/web.xml}. */
    static Path withWebXml(Path war, Path to, String webXml) throws IOException {
        Files.createDirectories(to.getParent());
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(war));
                ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(to))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null;) {
                if (e.getName().equals("WEB-INF/web.xml")) {
                    continue;
                }
                out.putNextEntry(new ZipEntry(e.getName()));
                in.transferTo(out);
                out.closeEntry();
            }
            out.putNextEntry(new ZipEntry("WEB-INF/web.xml"));
            out.write(webXml.getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return to;
    }

    /** A web.xml with one bridge servlet per entry of {@code routes}: servlet name (also the mapping) to proxyTo. */
    static String routes(Map<String, String> routes) {
        StringBuilder b = new StringBuilder("""
                <?xml version="1.0" encoding="UTF-8"?>
                <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
                """);
        new LinkedHashMap<>(routes).forEach((name, proxyTo) -> b.append("""
                  <servlet>
                    <servlet-name>%1$s</servlet-name>
                    <servlet-class>dev.wsbridge.server.BridgeServlet</servlet-class>
                    <init-param><param-name>proxyTo</param-name><param-value>%2$s</param-value></init-param>
                    <load-on-startup>1</load-on-startup>
                    <async-supported>true</async-supported>
                  </servlet>
                  <servlet-mapping><servlet-name>%1$s</servlet-name><url-pattern>/%1$s/*</url-pattern></servlet-mapping>
                """.formatted(name, ContainerProcess.xml(proxyTo))));
        return b.append("</web-app>\n").toString();
    }

    /**
     * A web.xml with one route, {@code /wsapp/*} to {@code proxyTo}, behind the container's BASIC authentication
     * for role {@code role} in realm {@code realm}, as README shows.
     */
    static String basicAuthRoute(String proxyTo, String realm, String role) {
        String routes = routes(Map.of("wsapp", proxyTo));
        return routes.replace("</web-app>\n", """
                  <security-constraint>
                    <web-resource-collection>
                      <web-resource-name>route</web-resource-name>
                      <url-pattern>/wsapp/*</url-pattern>
                    </web-resource-collection>
                    <auth-constraint><role-name>%2$s</role-name></auth-constraint>
                  </security-constraint>
                  <login-config>
                    <auth-method>BASIC</auth-method>
                    <realm-name>%1$s</realm-name>
                  </login-config>
                  <security-role><role-name>%2$s</role-name></security-role>
                </web-app>
                """.formatted(ContainerProcess.xml(realm), ContainerProcess.xml(role)));
    }
}
