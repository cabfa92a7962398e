package dev.wsbridge.bench;

import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/** A session that is opened only to be closed again: it reads just the close answer. */
public final class Handshaker implements Session.Listener {

    private final CompletableFuture<Integer> closed = new CompletableFuture<>();

    CompletableFuture<Integer> closed() {
        return closed;
    }

    @Override
    public void onWebSocketOpen(Session session) {
        session.demand();
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, Callback callback) {
        callback.succeed();
        closed.complete(statusCode);
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        closed.completeExceptionally(cause);
    }
}
