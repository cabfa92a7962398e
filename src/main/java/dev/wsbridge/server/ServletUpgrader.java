package dev.wsbridge.server;

import dev.wsbridge.bridge.ClientLeg;
import dev.wsbridge.bridge.Relay;
import dev.wsbridge.config.BridgeConfig;
import dev.wsbridge.config.DeflateSettings;
import dev.wsbridge.frame.PerMessageDeflate;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Collections;
import java.util.Locale;

/**
 * Answers the client's handshake with 101 itself (RFC 6455 §4.2.2) and takes the connection over with the
 * Servlet API's own upgrade, for the {@link Relay}. The one place that knows which containers carry a
 * WebSocket over that upgrade: Tomcat does; Jetty 12.1 does once mended ({@link JettyUpgrade}); Jetty 12.0
 * has no Servlet upgrade and keeps the Jakarta WebSocket route ({@link ClientUpgrader}).
 */
final class ServletUpgrader {

    /** RFC 6455 §1.3. */
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final Runnable NOTHING = () -> { };

    private ServletUpgrader() {
    }

    /** How long after the relay's own idle and close timers the container's idle timeout may drop a connection. */
    private static final long BACKSTOP_MARGIN_MILLIS = 1000;

    /** Whether this container carries a WebSocket over the Servlet API's upgrade. */
    static boolean supported(ServletContext context) {
        String server = context.getServerInfo() == null ? "" : context.getServerInfo().toLowerCase(Locale.ROOT);
        return server.startsWith("apache tomcat") || JettyUpgrade.hasServletUpgrade(context);
    }

    /**
     * What the container needs done before the upgraded connection of {@code req} is first used, or {@code null}
     * when the Servlet upgrade cannot carry this request's WebSocket; asks before anything is connected or
     * committed, so that the caller can still choose another route.
     */
    static Runnable prepare(ServletContext context, HttpServletRequest req, BridgeConfig config) {
        if (!JettyUpgrade.isJetty(context)) {
            return NOTHING;
        }
        JettyUpgrade jetty = JettyUpgrade.capture(req);
        if (jetty == null) {
            return null;
        }
        long idle = config.idleTimeout().toMillis();
        long backstop = idle <= 0 ? 0 : idle + config.closeTimeout().toMillis() + BACKSTOP_MARGIN_MILLIS;
        return new OnJetty(jetty, req, backstop);
    }

    /** What Jetty 12.1 needs before the upgraded connection is first used. */
    private record OnJetty(JettyUpgrade jetty, HttpServletRequest req, long idleMillis) implements Runnable {
        @Override
        public void run() {
            jetty.dropStaleEndOfStream();
            jetty.idleTimeout(idleMillis);
            // Jetty carries the upgraded connection in an asynchronous request (30 s by default), which would
            // end the session when it times out: the session's own timers govern it instead.
            if (req.isAsyncStarted()) {
                req.getAsyncContext().setTimeout(0);
            }
        }
    }

    /**
     * Answers 101 with the backend's subprotocol (or none) and permessage-deflate when the client offered it
     * acceptably and {@code deflate} allows it (else no extension), and hands the connection to {@code relay};
     * {@code beforeInit} is what {@link #prepare} gave for this request.
     */
    static void upgrade(HttpServletRequest req, HttpServletResponse resp, Relay relay, String subprotocol,
            DeflateSettings deflate, Runnable beforeInit) throws IOException, ServletException {
        resp.setStatus(HttpServletResponse.SC_SWITCHING_PROTOCOLS);
        resp.setHeader("Upgrade", "websocket");
        resp.setHeader("Connection", "Upgrade");
        resp.setHeader("Sec-WebSocket-Accept", accept(req.getHeader("Sec-WebSocket-Key").trim()));
        if (subprotocol != null) {
            resp.setHeader("Sec-WebSocket-Protocol", subprotocol);
        }
        PerMessageDeflate.Agreement agreement = deflate.client()
                ? PerMessageDeflate.negotiate(Collections.list(req.getHeaders("Sec-WebSocket-Extensions")),
                        deflate.contextTakeover(), deflate.windowBits())
                : null;
        if (agreement != null) {
            resp.setHeader("Sec-WebSocket-Extensions", agreement.response());
        }
        ClientLeg leg = req.upgrade(ClientLeg.class);
        leg.compression(agreement);
        leg.beforeInit(beforeInit);
        if (beforeInit instanceof OnJetty) {
            leg.readOnWithinBursts();  // Jetty's upgraded input hands over one TLS record per read
        }
        leg.afterClose(TomcatSocket::dispatchClose);
        leg.containerReadLock(TomcatSocket::readLock);
        relay.attachClient(leg);
    }

    static String accept(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is missing from this JVM", e);
        }
    }
}
