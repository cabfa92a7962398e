package dev.wsbridge.bridge;

import java.nio.ByteBuffer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/**
 * The backend leg's Jetty listener. Not auto-demanding: the bridge demands the next frame only when the
 * client write of the previous one is done. Public because Jetty binds listeners with MethodHandles.
 */
public final class BackendListener implements Session.Listener {

    private final Bridge bridge;
    private volatile boolean opened;

    BackendListener(Bridge bridge) {
        this.bridge = bridge;
    }

    @Override
    public void onWebSocketOpen(Session session) {
        opened = true;
        bridge.backendOpened(session);
    }

    @Override
    public void onWebSocketPartialBinary(ByteBuffer payload, boolean last, Callback callback) {
        bridge.backendBinary(payload, last, callback);
    }

    @Override
    public void onWebSocketPartialText(String payload, boolean last) {
        bridge.backendText(payload, last, Callback.NOOP);
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        // Before open, the error is the handshake failing: the connect outcome reports it, and the same listener
        // may yet be connected to another backend, so the bridge must not take it for its own end.
        if (opened) {
            bridge.backendError(cause);
        }
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, Callback callback) {
        bridge.backendClosed(statusCode, reason, callback);
    }

    @Override
    public String toString() {
        return "BackendListener[" + bridge.id() + "]";
    }
}
