package dev.wsbridge.backend;

import dev.wsbridge.config.BackendSettings;
import jakarta.servlet.ServletContext;
import java.util.concurrent.Executor;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.eclipse.jetty.util.thread.Scheduler;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one Jetty {@link WebSocketClient} of a web application, shared by every route in it. The first
 * route to start starts it; the last to stop stops it, so an undeploy leaves no thread behind. A route with
 * TLS settings of its own for its backends (a trust store, a client certificate, no host name verification)
 * has a client of its own.
 */
public final class BackendClient {

    private static final Logger LOG = LoggerFactory.getLogger(BackendClient.class);
    private static final String ATTRIBUTE = BackendClient.class.getName();

    /** Largest frame payload held at once; bigger frames are read in pieces of this size. */
    static final int FRAME_CHUNK = 64 * 1024;

    /** Bytes the relay's backend leg reads at once; pooled, held only while a read is being relayed. */
    static final int READ_BUFFER = 32 * 1024;

    private final WebSocketClient client;
    private final WebSocketCoreClient coreClient;
    private final Scheduler scheduler;
    private final String threadPrefix;
    private final String attribute;
    private int users;

    private BackendClient(String name, String attribute, BackendSettings.Tls tls) {
        threadPrefix = "wsbridge-" + name;
        this.attribute = attribute;
        QueuedThreadPool threads = new QueuedThreadPool(200, 4);
        threads.setName(threadPrefix);
        threads.setDaemon(true);
        scheduler = new ScheduledExecutorScheduler(threadPrefix + "-scheduler", true);
        BurstConnector connector = new BurstConnector();
        connector.setSslContextFactory(BackendTls.factory(tls));
        HttpClient http = new HttpClient(new HttpClientTransportOverHTTP(connector));
        // Heap buffers: a backend frame's payload is then written to the client leg without another copy.
        http.setUseInputDirectByteBuffers(false);
        http.setExecutor(threads);
        http.setScheduler(scheduler);
        // A shared client must never carry one user's backend cookies into another user's handshake.
        http.setHttpCookieStore(new HttpCookieStore.Empty());
        http.setUserAgentField(null);
        http.setFollowRedirects(false);
        http.setConnectTimeout(60_000);
        client = new WebSocketClient(http);
        client.setStopAtShutdown(false);
        client.setMaxFrameSize(FRAME_CHUNK);
        client.setAutoFragment(true);
        client.setMaxTextMessageSize(Long.MAX_VALUE);
        client.setMaxBinaryMessageSize(Long.MAX_VALUE);
        client.setStopTimeout(2_000);
        coreClient = new WebSocketCoreClient(http, null);
        coreClient.getExtensionRegistry().register(GracefulClose.NAME, GracefulClose.class);
    }

    /** Takes a reference to the web application's client, starting it if this is the first. */
    public static BackendClient acquire(ServletContext context) throws Exception {
        return acquire(context, null, new BackendSettings.Tls(null, null, "PKCS12", null, null, "PKCS12", true));
    }

    /**
     * Takes a reference to the client for {@code route}'s backends: the web application's shared one when
     * {@code tls} is the default, else the route's own.
     */
    public static BackendClient acquire(ServletContext context, String route, BackendSettings.Tls tls) throws Exception {
        boolean own = !tls.isDefault();
        String attribute = own ? ATTRIBUTE + ":" + route : ATTRIBUTE;
        synchronized (BackendClient.class) {
            BackendClient shared = (BackendClient) context.getAttribute(attribute);
            if (shared == null) {
                String name = context.getContextPath().isEmpty() ? "ROOT" : context.getContextPath().substring(1);
                name = name.replace('/', '_') + (own ? "." + route : "");
                shared = new BackendClient(name, attribute, tls);
                shared.client.start();
                shared.coreClient.start();
                context.setAttribute(attribute, shared);
                LOG.debug("Started backend client {}", shared.client);
            }
            shared.users++;
            return shared;
        }
    }

    /** Gives back a reference; the last one stops the client and its threads. */
    public void release(ServletContext context) {
        synchronized (BackendClient.class) {
            if (--users > 0) {
                return;
            }
            context.removeAttribute(attribute);
        }
        try {
            client.stop();
            coreClient.stop();
            client.getHttpClient().stop();
        } catch (Exception e) {
            LOG.warn("Stopping the backend client failed", e);
        }
        joinThreads(2_000);
    }

    /**
     * Waits, at most {@code millis}, for this client's threads to end: Jetty's scheduler is only told to
     * stop, and Tomcat's undeploy check runs right after this and would report a thread still parked.
     */
    private void joinThreads(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (!t.getName().startsWith(threadPrefix + "-") || t == Thread.currentThread()) {
                continue;
            }
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            try {
                if (left > 0) {
                    t.join(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (t.isAlive()) {
                LOG.warn("Backend client thread [{}] still running after stop", t.getName());
            }
        }
    }

    public WebSocketClient client() {
        return client;
    }

    /** The same connections at frame level: the relay's backend leg. */
    public WebSocketCoreClient coreClient() {
        return coreClient;
    }


    /** The client's buffer pool, which the relay's client legs read into. */
    public org.eclipse.jetty.io.ByteBufferPool bufferPool() {
        return client.getHttpClient().getByteBufferPool();
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    /** The client's threads. */
    public Executor executor() {
        return client.getHttpClient().getExecutor();
    }
}
