package dev.wsbridge.support;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** The lines one java.util.logging logger (and those under it) logs while open, formatted with their arguments. */
public final class LogCapture extends Handler implements AutoCloseable {

    private final Logger logger;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private final Level before;

    public LogCapture(String loggerName) {
        this(loggerName, null);
    }

    /** Captures down to {@code level} (FINE is SLF4J's DEBUG, FINEST its TRACE), restoring the logger's level on close. */
    public LogCapture(String loggerName, Level level) {
        logger = Logger.getLogger(loggerName);
        before = logger.getLevel();
        if (level != null) {
            logger.setLevel(level);
        }
        logger.addHandler(this);
    }

    @Override
    public void publish(LogRecord r) {
        String message = r.getMessage() == null ? "" : r.getMessage();
        Object[] args = r.getParameters();
        if (args != null) {
            message = java.text.MessageFormat.format(message.replace("'", "''"), args);
        }
        lines.add(r.getLevel() + " " + message);
    }

    /** Whether a line at {@code level} containing {@code text} was logged. */
    public boolean has(Level level, String text) {
        return lines.stream().anyMatch(l -> l.startsWith(level + " ") && l.contains(text));
    }

    public List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
        logger.setLevel(before);
    }
}
