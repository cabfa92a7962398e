package dev.wsbridge.observability;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log: one line per session at its end and one per refused handshake, on the logger
 * {@code dev.wsbridge.access} at INFO, as logfmt {@code key=value} pairs in a fixed order ({@code -} where
 * there is no value). A value with a space, a quote, an equals sign or a backslash is quoted, with quotes and
 * backslashes escaped; control characters become {@code \\uXXXX}, so one line stays one line.
 */
public final class AccessLog {

    /** The logger an operator routes to its own file. */
    public static final String LOGGER = "dev.wsbridge.access";
    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

    private AccessLog() {
    }

    static boolean enabled() {
        return LOG.isInfoEnabled();
    }

    static void write(SessionRecord r) {
        LOG.info(line(r, false));
    }

    /** A line for a session still open: what it has done so far, marked {@code interim=true}. */
    static void interim(SessionRecord r) {
        LOG.info(line(r, true));
    }

    /**
     * The line for {@code r}: the fixed keys, then {@code forwarded_for} and {@code reason} when known, and
     * {@code interim=true} on a line written while the session is still open.
     */
    public static String line(SessionRecord r, boolean interim) {
        boolean open = r.status() == 101;
        Ending by = r.endedBy();
        StringBuilder b = new StringBuilder(256);
        pair(b, "session", r.id());
        pair(b, "route", r.route());
        pair(b, "client", r.client());
        pair(b, "user", r.user());
        pair(b, "path", r.path());
        pair(b, "subprotocol", r.subprotocol());
        pair(b, "status", r.status() == 0 ? null : Integer.toString(r.status()));
        pair(b, "backend", r.backend());
        pair(b, "handshake_ms", number(r.handshakeMillis()));
        pair(b, "duration_ms", open ? number(r.durationMillis()) : null);
        pair(b, "c2b_msgs", open ? number(r.clientToBackend().messages()) : null);
        pair(b, "c2b_bytes", open ? number(r.clientToBackend().bytes()) : null);
        pair(b, "b2c_msgs", open ? number(r.backendToClient().messages()) : null);
        pair(b, "b2c_bytes", open ? number(r.backendToClient().bytes()) : null);
        pair(b, "client_close", code(r.clientCloseCode()));
        pair(b, "backend_close", code(r.backendCloseCode()));
        pair(b, "ended_by", by == null ? null : by.word());
        if (r.forwardedFor() != null) {
            pair(b, "forwarded_for", r.forwardedFor());
        }
        if (r.cause() != null) {
            pair(b, "reason", r.cause());
        }
        if (interim) {
            pair(b, "interim", "true");
        }
        return b.toString();
    }

    private static String number(long n) {
        return n < 0 ? null : Long.toString(n);
    }

    private static String code(int code) {
        return code == SessionRecord.NONE ? null : Integer.toString(code);
    }

    private static void pair(StringBuilder b, String key, String value) {
        if (b.length() > 0) {
            b.append(' ');
        }
        b.append(key).append('=');
        if (value == null || value.isEmpty()) {
            b.append('-');
            return;
        }
        boolean quote = false;
        for (int i = 0; i < value.length() && !quote; i++) {
            char c = value.charAt(i);
            quote = c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f;
        }
        if (!quote) {
            b.append(value);
            return;
        }
        b.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < ' ' || c == 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        b.append('"');
    }
}
