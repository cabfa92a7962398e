package dev.wsbridge.http;

import dev.wsbridge.backend.BackendClient;
import dev.wsbridge.backend.BackendTls;
import dev.wsbridge.backend.BackendUri;
import dev.wsbridge.config.BackendTarget;
import dev.wsbridge.backend.ForwardedHeaders;
import dev.wsbridge.config.BridgeConfig;
import dev.wsbridge.config.HttpSettings;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.client.ContinueProtocolHandler;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.ee10.proxy.AsyncProxyServlet;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A route's HTTP leg: every request on the route that is not a WebSocket upgrade is proxied to the backend
 * over HTTP, on jetty-proxy's {@link AsyncProxyServlet} (request and response bodies stream without blocking,
 * the next piece read only when the last one is written). The backend URI comes from the same mapping and
 * path checks as the WebSocket leg ({@link BackendUri}), the request headers from the same
 * {@link ForwardedHeaders}; response headers that name the backend are rewritten by {@link ReverseRewrite}.
 *
 * <p>Its {@link HttpClient} is a sibling of the WebSocket client's: its own connections, timeouts and
 * protocol handlers, on the same threads, scheduler and buffers, so it runs unchanged where the container
 * offers the proxy no executor of its own (Tomcat). The servlet of the route must be asynchronous
 * ({@code <async-supported>true</async-supported>}).
 */
public final class HttpRoute extends AsyncProxyServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(HttpRoute.class);
    private static final String TARGET = HttpRoute.class.getName() + ".target";
    private static final String REWRITE = HttpRoute.class.getName() + ".rewrite";
    private static final String WRITER = HttpRoute.class.getName() + ".writer";
    /** Lower-case names of backend response headers the container sets itself (as nginx hides them). */
    private static final Set<String> NOT_RELAYED = Set.of("date", "server");

    private final transient BridgeConfig config;
    private final transient HttpSettings settings;
    private final transient BackendClient backend;
    private final transient ForwardedHeaders forwarded;
    private final AtomicBoolean warnedSync = new AtomicBoolean();

    private HttpRoute(BridgeConfig config, BackendClient backend) {
        this.config = config;
        this.settings = config.http();
        this.backend = backend;
        this.forwarded = new ForwardedHeaders(config.identity());
    }

    /**
     * Starts the HTTP leg of a route.
     *
     * @param route   the route's servlet config (its name and context; its init-params are not read here)
     * @param config  the route's parsed settings
     * @param backend the web application's backend client, whose threads the HTTP client shares
     */
    public static HttpRoute start(ServletConfig route, BridgeConfig config, BackendClient backend) throws ServletException {
        HttpRoute http = new HttpRoute(config, backend);
        http.init(new LegConfig(route));
        LOG.info("wsbridge route [{}]: requests that are not upgrades go to [{}] over HTTP: {}", route.getServletName(),
                httpUri(URI.create(config.proxyTo().toString())), config.http());
        return http;
    }

    /** Whether {@code req} is for this leg: anything but a WebSocket upgrade. */
    public static boolean takes(HttpServletRequest req) {
        Enumeration<String> values = req.getHeaders("Upgrade");
        while (values != null && values.hasMoreElements()) {
            for (String token : values.nextElement().split(",")) {
                if (token.trim().equalsIgnoreCase("websocket")) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Proxies one request to {@code backend}, the balancer's choice for it (so that with a hash balancer a
     * client's polls go where its upgrade goes): a path that would leave the backend's base gets 400, and nothing
     * reaches the backend.
     */
    public void proxy(HttpServletRequest req, HttpServletResponse resp, BackendTarget backend)
            throws ServletException, IOException {
        String suffix = BackendUri.rawSuffix(req.getRequestURI(), req.getContextPath(), req.getServletPath());
        URI target;
        try {
            target = httpUri(BackendUri.resolve(backend, suffix, req.getQueryString()));
        } catch (BackendUri.RejectedPathException e) {
            answer(resp, HttpServletResponse.SC_BAD_REQUEST, e.getMessage());
            return;
        }
        if (!req.isAsyncSupported()) {
            if (warnedSync.compareAndSet(false, true)) {
                LOG.error("wsbridge route [{}]: its servlet is not asynchronous, so HTTP requests cannot be proxied;"
                        + " declare it with <async-supported>true</async-supported>", getServletName());
            }
            answer(resp, HttpServletResponse.SC_INTERNAL_SERVER_ERROR, "This route is not declared asynchronous");
            return;
        }
        String uri = req.getRequestURI();
        String routeBase = uri.substring(0, uri.length() - suffix.length());
        String host = req.getHeader("Host");
        req.setAttribute(TARGET, target.toString());
        req.setAttribute(REWRITE, new ReverseRewrite(backend, settings, req.getScheme(),
                host != null ? host.trim() : req.getServerName() + ":" + req.getServerPort(), routeBase));
        service(req, resp);
    }

    /** Stops the HTTP client; the threads it shares stay with the backend client. */
    public void stop() {
        destroy();
        getServletContext().removeAttribute(getServletName() + ".HttpClient");
    }

    /** {@code ws://} becomes {@code http://}, {@code wss://} {@code https://}; the rest as it is. */
    static URI httpUri(URI ws) {
        String s = ws.toString();
        return URI.create((s.startsWith("wss:") ? "https" : "http") + s.substring(s.indexOf(':')));
    }

    @Override
    protected HttpClient createHttpClient() throws ServletException {
        ClientConnector connector = new ClientConnector();
        connector.setSelectors(1);
        // https backends: the same trust, key store and host name checks as the route's wss:// backends.
        connector.setSslContextFactory(BackendTls.factory(config.backends().tls()));
        connector.setConnectTimeout(config.connectTimeout());
        HttpClient client = new HttpClient(new HttpClientTransportOverHTTP(connector));
        client.setExecutor(backend.executor());
        client.setScheduler(backend.scheduler());
        client.setByteBufferPool(backend.bufferPool());
        client.setFollowRedirects(false);
        // Never carry one client's cookies into another client's request.
        client.setHttpCookieStore(new HttpCookieStore.Empty());
        client.setUserAgentField(null);
        client.setConnectTimeout(config.connectTimeout().toMillis());
        client.setIdleTimeout(settings.idleTimeout().toMillis());
        client.setMaxConnectionsPerDestination(settings.maxConnections());
        setTimeout(settings.timeout().toMillis());
        try {
            client.start();
        } catch (Exception e) {
            throw new ServletException("wsbridge route [" + getServletName() + "] could not start its HTTP client", e);
        }
        // The shared threads and scheduler are the backend client's to stop (already running, so Jetty took them
        // as unmanaged; this makes sure).
        for (Object shared : new Object[] {backend.executor(), backend.scheduler()}) {
            if (client.isManaged(shared)) {
                client.unmanage(shared);
            }
        }
        // Bodies pass as they are (no decoding); only 100 Continue is handled here, everything else is the client's.
        client.getContentDecoderFactories().clear();
        client.getProtocolHandlers().clear();
        client.getProtocolHandlers().put(new ContinueProtocolHandler() {
            @Override
            protected Runnable onContinue(Request request) {
                HttpServletRequest clientRequest = (HttpServletRequest) request.getAttributes().get(CLIENT_REQUEST_ATTRIBUTE);
                return HttpRoute.this.onContinue(clientRequest, request);
            }
        });
        return client;
    }

    @Override
    protected String rewriteTarget(HttpServletRequest clientRequest) {
        return (String) clientRequest.getAttribute(TARGET);
    }

    @Override
    protected Request newProxyRequest(HttpServletRequest request, String rewrittenTarget) {
        return super.newProxyRequest(request, rewrittenTarget)
                .idleTimeout(settings.idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * The same headers as the WebSocket leg's handshake ({@link ForwardedHeaders}: hop-by-hop headers and those
     * the client's {@code Connection} names dropped, forwarded and identity headers added), plus what an HTTP request
     * body needs ({@code Content-Length}, {@code Expect}), and the client's {@code Host} when {@code preserveHost}.
     */
    @Override
    protected void copyRequestHeaders(HttpServletRequest clientRequest, Request proxyRequest) {
        Map<String, List<String>> headers = forwarded.of(clientRequest);
        String length = clientRequest.getHeader("Content-Length");
        String host = clientRequest.getHeader("Host");
        boolean expect = expects100Continue(clientRequest);
        proxyRequest.headers(fields -> {
            headers.forEach((name, values) -> values.forEach(value -> fields.add(name, value)));
            if (length != null && clientRequest.getHeader("Transfer-Encoding") == null) {
                fields.put(HttpHeader.CONTENT_LENGTH, length);
            }
            if (expect) {
                fields.put(HttpHeader.EXPECT, "100-continue");
            }
            if (settings.preserveHost() && host != null) {
                fields.put(HttpHeader.HOST, host);
            }
        });
    }

    /** Nothing more: the forwarded headers came with {@link #copyRequestHeaders}, and no {@code Via}, as httpd by default. */
    @Override
    protected void addProxyHeaders(HttpServletRequest clientRequest, Request proxyRequest) {
    }

    /** The backend's headers without hop-by-hop ones (and those its {@code Connection} names), rewritten. */
    @Override
    protected void onServerResponseHeaders(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
            Response serverResponse) {
        Set<String> named = new HashSet<>();
        for (String token : serverResponse.getHeaders().getCSV(HttpHeader.CONNECTION, false)) {
            named.add(token.toLowerCase(Locale.ROOT));
        }
        ReverseRewrite rewrite = (ReverseRewrite) clientRequest.getAttribute(REWRITE);
        for (HttpField field : serverResponse.getHeaders()) {
            String name = field.getLowerCaseName();
            if (HOP_HEADERS.contains(name) || named.contains(name) || NOT_RELAYED.contains(name)) {
                continue;
            }
            String value = rewrite.header(name, field.getValue());
            if (value != null) {
                proxyResponse.addHeader(field.getName(), value);
            }
        }
    }

    /**
     * Sets the response's write listener on the request's own thread before the backend is asked, so the
     * container's first {@code onWritePossible} comes from its own thread; each piece of the backend's body is
     * then written from the thread that brings it, after an {@code isReady()} that said yes.
     */
    @Override
    protected void sendProxyRequest(HttpServletRequest clientRequest, HttpServletResponse proxyResponse, Request proxyRequest) {
        try {
            ClientWriter writer = new ClientWriter(proxyResponse.getOutputStream(), proxyRequest);
            clientRequest.setAttribute(WRITER, writer);
            writer.listen();
        } catch (IOException | RuntimeException e) {
            onClientRequestFailure(clientRequest, proxyRequest, proxyResponse, e);
            return;
        }
        super.sendProxyRequest(clientRequest, proxyResponse, proxyRequest);
    }

    @Override
    protected void onResponseContent(HttpServletRequest request, HttpServletResponse response, Response proxyResponse,
            byte[] buffer, int offset, int length, Callback callback) {
        try {
            ((ClientWriter) request.getAttribute(WRITER)).write(buffer, offset, length, callback);
        } catch (Throwable x) {
            callback.failed(x);
            proxyResponse.abort(x);
        }
    }

    /**
     * Before the response is committed: the status the failure earns, with a plain-text body (the backend's
     * headers dropped). After: the client's connection is ended, so a cut body never looks complete.
     */
    @Override
    protected void onProxyResponseFailure(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
            Response serverResponse, Throwable failure) {
        LOG.debug("wsbridge route [{}]: {} {} failed", getServletName(), clientRequest.getMethod(),
                clientRequest.getAttribute(TARGET), failure);
        AsyncContext async = clientRequest.isAsyncStarted() ? clientRequest.getAsyncContext() : null;
        if (proxyResponse.isCommitted()) {
            if (!ClientAbort.abort(proxyResponse, failure)) {
                LOG.warn("wsbridge route [{}]: [{}] offers no way to end a response early; a client may take a body"
                        + " cut by the backend for a whole one", getServletName(), getServletContext().getServerInfo());
            }
        } else {
            int status = HttpStatusOf.failure(failure, proxyResponse.getStatus());
            try {
                proxyResponse.reset();
                proxyResponse.setHeader("Connection", "close");
                answer(proxyResponse, status, HttpStatusOf.message(status));
            } catch (IOException | IllegalStateException e) {
                LOG.debug("wsbridge route [{}]: could not answer {}", getServletName(), status, e);
            }
        }
        if (async != null) {
            try {
                async.complete();
            } catch (IllegalStateException e) {
                LOG.trace("already completed", e);
            }
        }
    }

    @Override
    protected int proxyResponseStatus(Throwable failure) {
        return HttpStatusOf.failure(failure, 0);
    }

    /** A short plain-text answer; written at once also where a write listener is set (the output is then ready). */
    private static void answer(HttpServletResponse resp, int status, String message) throws IOException {
        resp.setStatus(status);
        resp.setContentType("text/plain;charset=utf-8");
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    /** The status a failed exchange earns, as on the WebSocket leg. */
    static final class HttpStatusOf {
        private HttpStatusOf() {
        }

        /** 504 for a timeout, 503 when too many requests wait for a connection, else 502; an error status already set stays. */
        static int failure(Throwable failure, int current) {
            if (current >= 400) {
                return current;
            }
            for (Throwable t = failure; t != null; t = t.getCause()) {
                if (t instanceof TimeoutException || t instanceof SocketTimeoutException) {
                    return HttpServletResponse.SC_GATEWAY_TIMEOUT;
                }
                if (t instanceof RejectedExecutionException) {
                    return HttpServletResponse.SC_SERVICE_UNAVAILABLE;
                }
            }
            return HttpServletResponse.SC_BAD_GATEWAY;
        }

        static String message(int status) {
            return switch (status) {
                case HttpServletResponse.SC_GATEWAY_TIMEOUT -> "Backend did not answer in time";
                case HttpServletResponse.SC_SERVICE_UNAVAILABLE -> "Too many requests waiting for the backend";
                case HttpServletResponse.SC_BAD_GATEWAY -> "Backend unreachable or its answer broken";
                default -> "Request failed";
            };
        }
    }

    /** The leg's own servlet config: the route's name and context, and none of its init-params. */
    private record LegConfig(ServletConfig route) implements ServletConfig {
        @Override
        public String getServletName() {
            return route.getServletName();
        }

        @Override
        public ServletContext getServletContext() {
            return route.getServletContext();
        }

        @Override
        public String getInitParameter(String name) {
            // AbstractProxyServlet would otherwise resolve the local host's name for a Via header we never send.
            return "viaHost".equals(name) ? "wsbridge" : null;
        }

        @Override
        public Enumeration<String> getInitParameterNames() {
            return Collections.enumeration(List.of("viaHost"));
        }
    }
}
