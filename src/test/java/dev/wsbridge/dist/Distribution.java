package dev.wsbridge.dist;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The real container distributions the WAR is tested in, unpacked by the build under {@code target/dist/}
 * (see the {@code unpack-distributions} execution in pom.xml, which passes their paths as system properties).
 */
enum Distribution {
    TOMCAT_10_1("wsbridge.dist.tomcat101", null),
    TOMCAT_11("wsbridge.dist.tomcat11", null),
    JETTY_12_1_EE10("wsbridge.dist.jetty121", "ee10"),
    JETTY_12_1_EE11("wsbridge.dist.jetty121", "ee11"),
    JETTY_12_0_EE10("wsbridge.dist.jetty120", "ee10");

    private final String homeProperty;
    private final String ee;

    Distribution(String homeProperty, String ee) {
        this.homeProperty = homeProperty;
        this.ee = ee;
    }

    /**
     * All distributions, or those named (comma-separated, case-insensitive) by the system property
     * {@code it.distributions}, e.g. {@code mvn verify -Dit.distributions=tomcat_11,jetty_12_1_ee11}.
     */
    static List<Distribution> selected() {
        String only = System.getProperty("it.distributions", "").trim();
        if (only.isEmpty()) {
            return List.of(values());
        }
        List<String> names = Arrays.stream(only.split(",")).map(n -> n.trim().toUpperCase(Locale.ROOT)).toList();
        return Arrays.stream(values()).filter(d -> names.contains(d.name())).toList();
    }

    boolean isTomcat() {
        return ee == null;
    }

    /** The Jetty EE environment ({@code ee10}, {@code ee11}); {@code null} for Tomcat. */
    String ee() {
        return ee;
    }

    /** CATALINA_HOME or JETTY_HOME, as unpacked by the build. */
    Path home() {
        String value = System.getProperty(homeProperty);
        if (value == null) {
            throw new IllegalStateException("system property [" + homeProperty
                    + "] is not set; run the integration tests with mvn verify");
        }
        Path home = Path.of(value);
        if (!Files.isDirectory(home)) {
            throw new IllegalStateException("distribution [" + home + "] is not unpacked; run mvn verify");
        }
        return home;
    }

    /** A fresh server for this distribution with a TLS connector on a free port. */
    ContainerProcess newProcess(Path base) throws Exception {
        return isTomcat() ? new TomcatProcess(this, base) : new JettyProcess(this, base, ee);
    }
}
