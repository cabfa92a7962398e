package dev.wsbridge.bridge;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import java.nio.ByteBuffer;

/**
 * The client leg's Jakarta endpoint. It takes messages in parts as the container reads them, so no
 * message is ever held whole. Public because containers instantiate-check endpoint classes.
 */
public final class ClientEndpoint extends Endpoint {

    private final Bridge bridge;

    ClientEndpoint(Bridge bridge) {
        this.bridge = bridge;
    }

    @Override
    public void onOpen(Session session, EndpointConfig config) {
        session.addMessageHandler(ByteBuffer.class, (MessageHandler.Partial<ByteBuffer>) bridge::clientBinary);
        session.addMessageHandler(String.class, (MessageHandler.Partial<String>) bridge::clientText);
        bridge.clientOpened(session);
    }

    @Override
    public void onClose(Session session, CloseReason closeReason) {
        bridge.clientClosed(closeReason.getCloseCode().getCode(), closeReason.getReasonPhrase());
    }

    @Override
    public void onError(Session session, Throwable cause) {
        bridge.clientError(cause);
    }

    @Override
    public String toString() {
        return "ClientEndpoint[" + bridge.id() + "]";
    }
}
