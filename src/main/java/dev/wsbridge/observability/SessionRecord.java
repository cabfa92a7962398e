package dev.wsbridge.observability;

import java.net.URI;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What is known of one WebSocket handshake and the session it opens, from the request's arrival to the
 * session's end: who, where to, what it answered, what passed each way, how each leg closed and what ended
 * it. One access-log line is written from it; the status page reads it while the session lives.
 */
public final class SessionRecord {

    /** An unset close code: that leg never opened. */
    public static final int NONE = -1;
    private static final AtomicLong IDS = new AtomicLong();

    private final String id = Long.toString(IDS.incrementAndGet(), 36);
    private final String route;
    private final String client;
    private final String forwardedFor;
    private final String user;
    private final String path;
    private final long startNanos = System.nanoTime();
    private final long startMillis = System.currentTimeMillis();
    private final Traffic clientToBackend;
    private final Traffic backendToClient;

    private volatile String backend;
    private volatile String subprotocol;
    private volatile int status;
    private volatile long answeredNanos;
    private volatile long endNanos;
    private int clientClose = NONE;
    private int backendClose = NONE;
    private Ending endedBy;
    private String cause;

    SessionRecord(String route, String client, String forwardedFor, String user, String path, Traffic.Flow c2b,
            Traffic.Flow b2c) {
        this.route = route;
        this.client = client;
        this.forwardedFor = forwardedFor;
        this.user = user;
        this.path = path;
        this.clientToBackend = new Traffic(c2b);
        this.backendToClient = new Traffic(b2c);
    }

    public String id() {
        return id;
    }

    public String route() {
        return route;
    }

    public String client() {
        return client;
    }

    /** The {@code X-Forwarded-For} chain the request came with, or null. */
    public String forwardedFor() {
        return forwardedFor;
    }

    /** The container-authenticated user, or null. */
    public String user() {
        return user;
    }

    /** The request path, with the query string only when the route logs it. */
    public String path() {
        return path;
    }

    public Traffic clientToBackend() {
        return clientToBackend;
    }

    public Traffic backendToClient() {
        return backendToClient;
    }

    /** A backend is being tried: it is recorded by scheme, host and port only (a path or query may hold tokens). */
    public void backend(URI uri) {
        int port = uri.getPort();
        backend = uri.getScheme() + "://" + uri.getHost() + (port < 0 ? "" : ":" + port);
    }

    public String backend() {
        return backend;
    }

    /** The client was answered: {@code 101} with the subprotocol agreed (or null), or a refusal. */
    void answered(int status, String subprotocol) {
        this.subprotocol = subprotocol;
        this.answeredNanos = System.nanoTime();
        this.status = status;
    }

    /** The client was refused with {@code status}, for {@code reason}. */
    void refused(int status, String reason) {
        synchronized (this) {
            cause = reason;
        }
        answered(status, null);
    }

    public String subprotocol() {
        return subprotocol;
    }

    /** The status the client was answered with; 0 before the answer. */
    public int status() {
        return status;
    }

    /** Milliseconds from the request's arrival to the answer, or -1 before it. */
    public long handshakeMillis() {
        long answered = answeredNanos;
        return status == 0 ? -1 : (answered - startNanos) / 1_000_000;
    }

    /** Milliseconds the session has lasted since the answer: until its end, or until now while it lives. */
    public long durationMillis() {
        long end = endNanos;
        return ((end == 0 ? System.nanoTime() : end) - answeredNanos) / 1_000_000;
    }

    /** Wall-clock time the request arrived, in epoch milliseconds. */
    public long startMillis() {
        return startMillis;
    }

    /** A close frame with {@code code} was sent or received on the client leg (1006: dropped without one); the first counts. */
    public synchronized void clientClose(int code) {
        if (clientClose == NONE) {
            clientClose = code;
        }
    }

    /** As {@link #clientClose(int)}, for the backend leg. */
    public synchronized void backendClose(int code) {
        if (backendClose == NONE) {
            backendClose = code;
        }
    }

    public synchronized int clientCloseCode() {
        return clientClose;
    }

    public synchronized int backendCloseCode() {
        return backendClose;
    }

    /** What ended the session, and why in a few words; the first call counts. */
    public synchronized void ending(Ending by, String why) {
        if (endedBy == null) {
            endedBy = by;
            cause = why;
        }
    }

    public synchronized Ending endedBy() {
        return endedBy;
    }

    /** Why the session ended, or why the handshake was refused, in a few words; null while it lives. */
    public synchronized String cause() {
        return cause;
    }

    void ended() {
        endNanos = System.nanoTime();
    }

    @Override
    public String toString() {
        return "SessionRecord[" + id + " " + route + " " + path + " status=" + status + "]";
    }
}
