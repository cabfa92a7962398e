package dev.wsbridge.http;

import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a client's connection without completing a response that was already committed, so that a backend
 * failing mid-body reaches the client as a connection that ends early (no last chunk, fewer bytes than
 * {@code Content-Length}), never as a shorter success. The Servlet API has no call for this: Jetty takes
 * {@code sendError(-1)}; Tomcat takes its own {@code CLOSE_NOW} action, reached through its response objects.
 * The only place that reaches into a container's internals for the HTTP leg.
 */
final class ClientAbort {

    private static final Logger LOG = LoggerFactory.getLogger(ClientAbort.class);

    private ClientAbort() {
    }

    /** Ends the connection behind {@code response}; true if the container took it. */
    static boolean abort(HttpServletResponse response, Throwable cause) {
        ServletResponse inner = response;
        while (inner instanceof ServletResponseWrapper wrapper) {
            inner = wrapper.getResponse();
        }
        String type = inner.getClass().getName();
        try {
            if (type.startsWith("org.apache.catalina.")) {
                return tomcat(inner, cause);
            }
            if (type.startsWith("org.eclipse.jetty.")) {
                // Jetty: sendError(-1) aborts the exchange, committed or not.
                ((HttpServletResponse) inner).sendError(-1);
                return true;
            }
        } catch (Exception | LinkageError e) {
            LOG.debug("Could not end the client's connection on [{}]", type, e);
        }
        return false;
    }

    private static boolean tomcat(ServletResponse facade, Throwable cause) throws ReflectiveOperationException {
        Object connectorResponse = facade;
        if (facade.getClass().getName().equals("org.apache.catalina.connector.ResponseFacade")) {
            Field field = facade.getClass().getDeclaredField("response");
            field.setAccessible(true);
            connectorResponse = field.get(facade);
        }
        Object coyote = connectorResponse.getClass().getMethod("getCoyoteResponse").invoke(connectorResponse);
        ClassLoader loader = coyote.getClass().getClassLoader();
        Class<?> actions = Class.forName("org.apache.coyote.ActionCode", false, loader);
        @SuppressWarnings({"unchecked", "rawtypes"})
        Object closeNow = Enum.valueOf((Class) actions, "CLOSE_NOW");
        Method action = coyote.getClass().getMethod("action", actions, Object.class);
        action.invoke(coyote, closeNow, cause);
        return true;
    }
}
