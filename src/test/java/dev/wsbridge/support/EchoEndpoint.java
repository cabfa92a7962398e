package dev.wsbridge.support;

import java.nio.ByteBuffer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/**
 * Echoes every whole message back, text as text and binary as binary. Demands the next frame only when
 * the echo's write has completed, so a client that does not read stalls this endpoint instead of growing
 * its send queue. Pings are answered by Jetty. Public because Jetty builds MethodHandles on it.
 */
public final class EchoEndpoint implements Session.Listener {

    private volatile Session session;

    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        session.demand();
    }

    @Override
    public void onWebSocketText(String message) {
        Session s = session;
        s.sendText(message, Callback.from(s::demand, failure -> s.close()));
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        Session s = session;
        s.sendBinary(payload, Callback.from(() -> {
            callback.succeed();
            s.demand();
        }, failure -> {
            callback.fail(failure);
            s.close();
        }));
    }
}
