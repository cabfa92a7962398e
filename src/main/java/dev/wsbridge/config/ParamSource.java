package dev.wsbridge.config;

/**
 * Where raw init-param values come from: a context-param of the same name wins over the servlet's
 * init-param, so operators can change a value through Tomcat's {@code <Parameter>} or Jetty's context
 * XML without repacking the WAR.
 */
@FunctionalInterface
public interface ParamSource {
    /** The raw value of {@code name}, or {@code null} when it is not set. */
    String get(String name);
}
