package dev.wsbridge.server;

import jakarta.servlet.ServletContext;

/**
 * Detects a container without its Jakarta WebSocket server, which on Jetty is a module the admin must
 * enable, and says which one. Touches no {@code jakarta.websocket} class itself.
 */
final class JakartaSupport {

    private JakartaSupport() {
    }

    /** Whether the container offers the Jakarta WebSocket API to this web application. */
    static boolean present(ClassLoader loader) {
        try {
            Class.forName("jakarta.websocket.server.ServerContainer", false, loader);
            Class.forName("jakarta.websocket.DeploymentException", false, loader);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** The one line an admin needs: what is missing and, on Jetty, which module to add. */
    static String missingMessage(ServletContext context) {
        String server = context.getServerInfo() == null ? "" : context.getServerInfo();
        if (server.toLowerCase(java.util.Locale.ROOT).contains("jetty")) {
            String ee = context.getMajorVersion() > 6 || context.getMinorVersion() >= 1 ? "ee11" : "ee10";
            return "wsbridge needs Jakarta WebSocket, which this Jetty base does not enable: add the module with"
                    + " [java -jar $JETTY_HOME/start.jar --add-modules=" + ee + "-websocket-jakarta] in the Jetty"
                    + " base and restart";
        }
        return "wsbridge needs Jakarta WebSocket (the [jakarta.websocket.server.ServerContainer] context"
                + " attribute), which this container [" + server + "] does not provide to the web application";
    }
}
