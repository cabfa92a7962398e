package dev.wsbridge.server;

import jakarta.servlet.ServletOutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.locks.Lock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tomcat closes an upgraded connection's socket only when it next handles an event on it, after both
 * streams were closed; when the WAR closes the connection from one of its own threads (a backend close, a
 * timeout), a client that waits for the server to close TCP (RFC 6455 §7.1.1) would wait for nothing.
 * This asks Tomcat for that event at once, through its socket wrapper; and it finds the lock Tomcat holds
 * while it reads, which our reads from other threads share. The only place that reaches into Tomcat's
 * internals.
 */
final class TomcatSocket {

    private static final Logger LOG = LoggerFactory.getLogger(TomcatSocket.class);

    private TomcatSocket() {
    }

    /**
     * The lock Tomcat holds while it handles an event on the connection behind {@code out}, such as checking
     * it for data before calling onDataAvailable: a read from another thread must hold it too, or the two
     * read the same socket buffer at once. Null elsewhere.
     */
    static Lock readLock(ServletOutputStream out) {
        try {
            Object wrapper = socketWrapper(out);
            return wrapper == null ? null : (Lock) wrapper.getClass().getMethod("getLock").invoke(wrapper);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.warn("Tomcat's socket lock is out of reach: reads after a backend write may overlap Tomcat's own", e);
            return null;
        }
    }

    private static Object socketWrapper(ServletOutputStream out) throws ReflectiveOperationException {
        if (out == null || !out.getClass().getName().startsWith("org.apache.coyote.")) {
            return null;
        }
        Field field = out.getClass().getDeclaredField("socketWrapper");
        field.setAccessible(true);
        return field.get(out);
    }

    /** Has Tomcat process the closed connection behind {@code out} now; does nothing elsewhere. */
    static void dispatchClose(ServletOutputStream out) {
        try {
            Object wrapper = socketWrapper(out);
            if (wrapper == null) {
                return;
            }
            Class<?> events = Class.forName("org.apache.tomcat.util.net.SocketEvent", false, wrapper.getClass().getClassLoader());
            Method process = findProcessSocket(wrapper.getClass(), events);
            @SuppressWarnings({"unchecked", "rawtypes"})
            Object openWrite = Enum.valueOf((Class) events, "OPEN_WRITE");
            process.invoke(wrapper, openWrite, Boolean.TRUE);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.debug("Could not have Tomcat close the socket at once; it closes at the client's next packet", e);
        }
    }

    private static Method findProcessSocket(Class<?> type, Class<?> events) throws NoSuchMethodException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                return c.getDeclaredMethod("processSocket", events, boolean.class);
            } catch (NoSuchMethodException e) {
                // look in the superclass
            }
        }
        throw new NoSuchMethodException("processSocket");
    }
}
