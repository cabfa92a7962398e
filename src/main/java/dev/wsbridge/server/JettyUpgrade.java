package dev.wsbridge.server;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.http.HttpServletRequest;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes Jetty 12.1's Servlet upgrade carry a WebSocket. The only place that reaches into Jetty's internals.
 *
 * <p>Jetty 12.0 has no Servlet upgrade ({@code upgrade()} throws "Not implemented"). Jetty 12.1 (ee10, ee11)
 * has one, but when the upgrade GET has no {@code Content-Length} (browsers, most clients), Jetty's parser has
 * finished the body-less request before {@code service()} runs and leaves an end-of-stream chunk queued on the
 * connection's request stream: the upgraded input's first read returns that stale end and never a byte of the
 * client's frames (DESIGN §2). With {@code Content-Length: 0} nothing is queued and the upgrade works.
 *
 * <p>The remedy: in {@code service()}, {@link #capture} Jetty's HTTP connection through the request's own
 * objects ({@code getRequest().getConnectionMetaData().getConnection()} on the unwrapped request), and before
 * the upgraded streams are first used, {@link #dropStaleEndOfStream drop} that end-of-stream chunk from the
 * connection's current stream ({@code HttpConnection._stream}, its {@code _chunk}). Every class involved is
 * reached from the objects Jetty hands over, none loaded by name, so a web application's class loader, which
 * hides Jetty's server classes, does not get in the way. If Jetty's internals ever change, {@link #capture}
 * returns {@code null} while nothing is committed and the servlet takes the Jakarta WebSocket route instead.
 */
final class JettyUpgrade {

    private static final Logger LOG = LoggerFactory.getLogger(JettyUpgrade.class);

    /** {@code jetty/12.1.12}: what Jetty's {@code ServletContext.getServerInfo()} answers. */
    private static final Pattern SERVER_INFO = Pattern.compile("jetty/(\\d+)\\.(\\d+).*");
    /** {@code HttpConnection}'s {@code AtomicReference} to the stream of the request it is serving. */
    private static final String STREAM_FIELD = "_stream";
    /** The stream's next chunk of request content, {@code Content.Chunk.EOF} once the body is over. */
    private static final String CHUNK_FIELD = "_chunk";
    /** The constant of {@code Content.Chunk}, the type of {@link #CHUNK_FIELD}, that marks the end of content. */
    private static final String END_OF_STREAM = "EOF";

    private final AtomicReference<?> streamOfConnection;
    private final Field chunk;
    private final Object endOfStream;
    private final Object endPoint;
    private final Method setIdleTimeout;

    private JettyUpgrade(AtomicReference<?> streamOfConnection, Field chunk, Object endOfStream, Object endPoint,
            Method setIdleTimeout) {
        this.streamOfConnection = streamOfConnection;
        this.chunk = chunk;
        this.endOfStream = endOfStream;
        this.endPoint = endPoint;
        this.setIdleTimeout = setIdleTimeout;
    }

    /** Whether the container is Jetty, of any version. */
    static boolean isJetty(ServletContext context) {
        String info = context.getServerInfo();
        return info != null && info.toLowerCase(Locale.ROOT).startsWith("jetty/");
    }

    /** Whether this Jetty has a Servlet upgrade (12.1 and later); {@code false} on 12.0 and elsewhere. */
    static boolean hasServletUpgrade(ServletContext context) {
        String info = context.getServerInfo();
        Matcher m = SERVER_INFO.matcher(info == null ? "" : info.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return false;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major > 12 || major == 12 && minor >= 1;
    }

    /**
     * Finds the HTTP/1.1 connection behind {@code req} and the field to mend, before the upgrade; {@code null}
     * (and the reason at DEBUG) when this request or this Jetty does not have them.
     */
    static JettyUpgrade capture(HttpServletRequest req) {
        ServletRequest unwrapped = req;
        while (unwrapped instanceof ServletRequestWrapper wrapper) {
            unwrapped = wrapper.getRequest();
        }
        try {
            Object coreRequest = call(unwrapped, "getRequest");
            Object metaData = call(coreRequest, "getConnectionMetaData");
            Object connection = call(metaData, "getConnection");
            Field streamField = field(connection.getClass(), STREAM_FIELD);
            if (!AtomicReference.class.isAssignableFrom(streamField.getType())) {
                throw new NoSuchFieldException(STREAM_FIELD + " of " + connection.getClass().getName() + " is a "
                        + streamField.getType().getName());
            }
            AtomicReference<?> streamOfConnection = (AtomicReference<?>) streamField.get(connection);
            Object stream = streamOfConnection.get();
            if (stream == null) {
                throw new NoSuchFieldException(STREAM_FIELD + " of " + connection.getClass().getName() + " is empty");
            }
            Field chunk = field(stream.getClass(), CHUNK_FIELD);
            Field eof = chunk.getType().getField(END_OF_STREAM);
            if (!Modifier.isStatic(eof.getModifiers())) {
                throw new NoSuchFieldException(END_OF_STREAM + " of " + chunk.getType().getName() + " is not static");
            }
            Object endPoint = call(connection, "getEndPoint");
            Method setIdleTimeout = endPoint.getClass().getMethod("setIdleTimeout", long.class);
            setIdleTimeout.setAccessible(true);
            return new JettyUpgrade(streamOfConnection, chunk, eof.get(null), endPoint, setIdleTimeout);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.debug("Jetty's connection behind [{}] is not the one the Servlet upgrade can be mended on", unwrapped, e);
            return null;
        }
    }

    /**
     * Drops the end of the upgrade request's (empty) body still queued on the connection, so that the upgraded
     * input reads the client's bytes. Call before either upgraded stream is used; a queued chunk that is not the
     * end of content (none is, with {@code Content-Length: 0}) stays.
     */
    void dropStaleEndOfStream() {
        try {
            Object stream = streamOfConnection.get();
            if (stream != null && chunk.getDeclaringClass().isInstance(stream) && chunk.get(stream) == endOfStream) {
                chunk.set(stream, null);
                LOG.trace("Dropped the upgrade request's stale end of content from {}", stream);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("Could not drop the stale end of content of an upgraded Jetty connection; the client's frames"
                    + " may not be read", e);
        }
    }

    /**
     * Gives the upgraded connection's end point (the TLS or plain connection to the client) the session's idle
     * timeout instead of the connector's (Jetty's default: 30 s), as Jetty's own WebSocket does: the connector's
     * would otherwise drop a quiet session, or one whose backend stopped reading, without a close frame. The
     * relay's own idle timer ends a quiet session first, with 1001 both ways; this is its backstop.
     *
     * @param millis 0 for none
     */
    void idleTimeout(long millis) {
        try {
            setIdleTimeout.invoke(endPoint, millis);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("Could not set the idle timeout of an upgraded Jetty connection; the connector's applies", e);
        }
    }

    /**
     * Joins Jetty's graceful stop (the {@code graceful} module): on a stop, before Jetty closes its connectors,
     * it calls {@code drain} and waits, at most its stop timeout, for the future it returns. Sessions on the
     * Servlet upgrade are plain connections to Jetty, which would otherwise close them under the relay (the
     * client would see the connection drop instead of 1001). Registered as a bean of the web application's
     * context handler, through an implementation of Jetty's own {@code Graceful} interface made in Jetty's
     * class loader.
     *
     * @return what leaves the graceful stop again (on undeploy), or {@code null} when this is not possible
     */
    static Runnable joinGracefulStop(ServletContext context, Supplier<CompletableFuture<Void>> drain) {
        try {
            Object handler = call(context, "getContextHandler");
            ClassLoader jetty = handler.getClass().getClassLoader();
            Class<?> graceful = Class.forName("org.eclipse.jetty.util.component.Graceful", false, jetty);
            AtomicReference<CompletableFuture<Void>> draining = new AtomicReference<>();
            Object bean = Proxy.newProxyInstance(jetty, new Class<?>[] {graceful}, (proxy, method, args) -> switch (method.getName()) {
                case "shutdown" -> draining.updateAndGet(f -> f != null ? f : drain.get());
                case "isShutdown" -> draining.get() != null;
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                case "toString" -> "wsbridge graceful stop of " + context.getContextPath();
                default -> throw new UnsupportedOperationException(method.getName());
            });
            Method addBean = handler.getClass().getMethod("addBean", Object.class);
            Method removeBean = handler.getClass().getMethod("removeBean", Object.class);
            addBean.invoke(handler, bean);
            return () -> {
                try {
                    removeBean.invoke(handler, bean);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    LOG.debug("Could not leave Jetty's graceful stop", e);
                }
            };
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.warn("Could not join Jetty's graceful stop: on a stop, open sessions may see their connection drop"
                    + " instead of 1001", e);
            return null;
        }
    }

    private static Object call(Object target, String method) throws ReflectiveOperationException {
        Method m = target.getClass().getMethod(method);
        m.trySetAccessible();
        Object result = m.invoke(target);
        if (result == null) {
            throw new NoSuchMethodException(method + "() of " + target.getClass().getName() + " returned null");
        }
        return result;
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(name + " in " + type.getName());
    }
}
