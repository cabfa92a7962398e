package dev.wsbridge.autobahn;

import dev.wsbridge.server.BridgeServlet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.catalina.Context;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.websocket.server.WsSci;

/**
 * Autobahn run {@value AutobahnRun#BRIDGE_TOMCAT}: fuzzing client → the bridge servlet in embedded
 * Tomcat (Tomcat's own Jakarta WebSocket) mapped to {@code /*} over plain ws → the echo backend.
 */
public final class BridgeInTomcat implements AutoCloseable {

    private final Tomcat tomcat;

    private BridgeInTomcat(String host, int port, Map<String, String> initParams) throws Exception {
        Path base = Files.createTempDirectory(AutobahnRun.buildDir(), "autobahn-tomcat");
        tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        Connector plain = new Connector();
        plain.setPort(port);
        plain.setProperty("address", host);
        tomcat.setConnector(plain);
        // Inside Maven the system class loader does not see the test class path; Tomcat binds the parent
        // class loader as the context class loader, where Jakarta WebSocket looks up its Configurator.
        tomcat.getServer().setParentClassLoader(BridgeInTomcat.class.getClassLoader());
        Context context = tomcat.addContext("", Files.createDirectories(base.resolve("docs")).toString());
        context.addServletContainerInitializer(new WsSci(), null);
        Wrapper wrapper = Tomcat.addServlet(context, "autobahn", new BridgeServlet());
        initParams.forEach(wrapper::addInitParameter);
        wrapper.setLoadOnStartup(1);
        context.addServletMappingDecoded("/*", "autobahn");
        tomcat.start();
    }

    /** Called by the autobahntestsuite-maven-plugin with the port to serve on. */
    public static void main(String[] args) throws Exception {
        AutobahnRun.serve(AutobahnRun.BRIDGE_TOMCAT, args, (host, port) -> {
            EchoBackend backend = EchoBackend.start("127.0.0.1", 0);
            try {
                return List.of(backend, new BridgeInTomcat(host, port, BridgeRoute.initParams(backend)));
            } catch (Exception e) {
                backend.close();
                throw e;
            }
        });
    }

    @Override
    public void close() throws Exception {
        tomcat.stop();
        tomcat.destroy();
    }

    @Override
    public String toString() {
        return "bridge in Tomcat";
    }
}
