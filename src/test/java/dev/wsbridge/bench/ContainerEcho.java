package dev.wsbridge.bench;

import dev.wsbridge.support.BridgeContainer;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpointConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The container's own echo, the benchmark's {@code tomcat-echo} and {@code jetty-echo} targets: a Jakarta
 * WebSocket endpoint at {@code /}{@value BenchBackend#ECHO}, alone in the container (no bridge), on its TLS
 * connector. It takes frames with partial handlers, as the bridge's client side does, and writes each back
 * blocking, so the container reads the next frame only once the echo is written: the ceiling of that
 * container's TLS and WebSocket for what the bridge does on its client leg.
 */
public final class ContainerEcho extends Endpoint {

    /**
     * Tomcat's text buffer, in chars, as the bridge sets it ({@code ClientUpgrader}): Tomcat gives every session
     * one up front, so the idle memory of the two stays comparable.
     */
    private static final int TOMCAT_TEXT_BUFFER_CHARS = 4096;

    /** Registers the echo with a container's Jakarta WebSocket server, configured as the bridge configures it. */
    static final BridgeContainer.Endpoints DEPLOY = container -> {
        if (container.getClass().getName().startsWith("org.apache.tomcat.")) {
            container.setDefaultMaxTextMessageBufferSize(TOMCAT_TEXT_BUFFER_CHARS);
        }
        container.addEndpoint(ServerEndpointConfig.Builder.create(ContainerEcho.class, "/" + BenchBackend.ECHO)
                .extensions(List.of()).build());
    };

    @Override
    public void onOpen(Session session, EndpointConfig config) {
        RemoteEndpoint.Basic remote = session.getBasicRemote();
        session.addMessageHandler(ByteBuffer.class, (MessageHandler.Partial<ByteBuffer>) (part, last) -> {
            try {
                remote.sendBinary(part, last);
            } catch (IOException e) {
                abort(session);
            }
        });
        session.addMessageHandler(String.class, (MessageHandler.Partial<String>) (part, last) -> {
            try {
                remote.sendText(part, last);
            } catch (IOException e) {
                abort(session);
            }
        });
    }

    /** A failed echo write: the session is of no further use; the generator reports the missing echoes. */
    private static void abort(Session session) {
        try {
            session.close(new CloseReason(CloseReason.CloseCodes.UNEXPECTED_CONDITION, "echo write failed"));
        } catch (IOException e) {
            // the connection is gone already
        }
    }
}
