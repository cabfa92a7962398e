package dev.wsbridge.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A {@code Set-Cookie} rewrite setting, like httpd's {@code ProxyPassReverseCookiePath} and
 * {@code ProxyPassReverseCookieDomain}: {@code auto} (the route's own mapping), {@code off}, or a
 * comma-separated list of {@code FROM TO} pairs, the first pair whose {@code FROM} matches winning.
 *
 * @param mode  which of the three
 * @param pairs the pairs, in order; empty unless {@code mode} is {@link Mode#PAIRS}
 */
public record ReverseMap(Mode mode, List<Pair> pairs) {

    /** How values are rewritten. */
    public enum Mode {
        /** By the route's own mapping (paths: the backend base path to the route's; domains: the backend host dropped). */
        AUTO,
        /** Not at all. */
        OFF,
        /** By the listed pairs only. */
        PAIRS
    }

    /** What the values are, for validation. */
    public enum Kind {
        PATH, DOMAIN
    }

    /** One rewrite: a value equal to (paths: or under) {@code from} becomes {@code to}. */
    public record Pair(String from, String to) {
        @Override
        public String toString() {
            return from + " " + to;
        }
    }

    private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9._~!$&'()*+;=:@%/-]*");
    private static final Pattern DOMAIN = Pattern.compile("\\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*");

    public ReverseMap {
        pairs = List.copyOf(pairs);
    }

    /**
     * Parses the value of {@code name}.
     *
     * @throws ConfigException naming the param and the value when it is none of the three forms
     */
    public static ReverseMap parse(String name, String value, Kind kind) {
        if (value.equals("auto")) {
            return new ReverseMap(Mode.AUTO, List.of());
        }
        if (value.equals("off")) {
            return new ReverseMap(Mode.OFF, List.of());
        }
        String expected = "auto, off, or comma-separated pairs of " + (kind == Kind.PATH
                ? "paths such as [/ /wsapp/] or [/app /wsapp, /static /assets]"
                : "domains such as [backend.internal example.com]");
        List<Pair> pairs = new ArrayList<>();
        for (String entry : value.split(",", -1)) {
            String[] parts = entry.trim().split("\\s+");
            if (parts.length != 2 || !valid(parts[0], kind) || !valid(parts[1], kind)) {
                throw new ConfigException("init-param [" + name + "] has value [" + value + "]; expected " + expected);
            }
            pairs.add(kind == Kind.DOMAIN ? new Pair(parts[0].toLowerCase(Locale.ROOT), parts[1].toLowerCase(Locale.ROOT))
                    : new Pair(parts[0], parts[1]));
        }
        return new ReverseMap(Mode.PAIRS, pairs);
    }

    private static boolean valid(String v, Kind kind) {
        return (kind == Kind.PATH ? PATH : DOMAIN).matcher(v).matches();
    }

    @Override
    public String toString() {
        return mode == Mode.PAIRS ? pairs.toString() : mode.name().toLowerCase(Locale.ROOT);
    }
}
