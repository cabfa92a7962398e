package dev.wsbridge.observability;

import java.util.Locale;

/** Who or what ended a session, as the access log's {@code ended_by} and the metrics' label say it. */
public enum Ending {
    /** The client sent a close, or its connection ended or broke. */
    CLIENT,
    /** The backend sent a close, or its connection ended or broke. */
    BACKEND,
    /** No traffic for {@code idleTimeout}. */
    IDLE,
    /** A message larger than {@code maxMessageSize}. */
    LIMIT,
    /** Undeploy or shutdown. */
    SHUTDOWN,
    /** A protocol violation by either side (a bad frame, invalid UTF-8), or the client's upgrade failing. */
    ERROR;

    /** The lower-case word the access log and the metrics use. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
