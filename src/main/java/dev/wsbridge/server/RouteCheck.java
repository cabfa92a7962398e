package dev.wsbridge.server;

import dev.wsbridge.backend.BackendTls;
import dev.wsbridge.config.BridgeConfig;
import dev.wsbridge.config.ConfigException;
import dev.wsbridge.config.ParamSource;
import dev.wsbridge.observability.AdminServlet;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRegistration;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fails the deployment, in every container, when a route's init-params are bad or the container needs
 * Jakarta WebSocket (it has no usable Servlet upgrade: Jetty 12.0) and lacks it: a servlet that merely refuses to start would leave Tomcat serving 503s from a
 * half-deployed application. Declared first in web.xml; the servlets check again on their own.
 */
public final class RouteCheck implements ServletContextListener {

    private static final Logger LOG = LoggerFactory.getLogger(RouteCheck.class);

    /** A route's raw values: the context-param of a name wins over the route's init-param. */
    static ParamSource params(ServletContext context, UnaryOperator<String> initParameter) {
        return name -> {
            String v = context.getInitParameter(name);
            return v != null ? v : initParameter.apply(name);
        };
    }

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        if (!ServletUpgrader.supported(context) && !JakartaSupport.present(getClass().getClassLoader())) {
            String message = JakartaSupport.missingMessage(context);
            LOG.error(message);
            throw new IllegalStateException(message);
        }
        for (ServletRegistration route : context.getServletRegistrations().values()) {
            if (AdminServlet.class.getName().equals(route.getClassName())) {
                try {
                    AdminServlet.check(params(context, route::getInitParameter)::get);
                } catch (IllegalArgumentException e) {
                    String message = "wsbridge admin pages [" + route.getName() + "]: " + e.getMessage();
                    LOG.error(message);
                    throw new IllegalStateException(message);
                }
                continue;
            }
            if (!BridgeServlet.class.getName().equals(route.getClassName())) {
                continue;
            }
            try {
                BackendTls.check(BridgeConfig.parse(params(context, route::getInitParameter)).backends().tls());
            } catch (ConfigException e) {
                String message = "wsbridge route [" + route.getName() + "]: " + e.getMessage();
                LOG.error(message);
                throw new IllegalStateException(message);
            }
        }
    }
}
