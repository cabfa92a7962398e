package dev.wsbridge.backend;

import dev.wsbridge.config.BackendSettings;
import dev.wsbridge.config.BackendTarget;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.Configuration;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The active health check of a route's backends, like HAProxy's {@code check}: every {@code interval}, an HTTP
 * GET (passed by 2xx or 3xx) or a WebSocket handshake (passed by 101, then closed at once) on each backend's
 * check path, answered within {@code timeout}; {@code fall} failed checks in a row take the backend out of
 * rotation, {@code rise} passed ones put it back. A backend's next check is scheduled when its last one ends, so
 * checks of one backend never overlap. Sessions open on a backend the check takes out are not touched.
 */
public final class HealthChecker {

    private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);

    private final String route;
    private final BackendClient client;
    private final BackendSettings.HealthCheck check;
    private final List<Probe> probes = new ArrayList<>();
    private volatile boolean stopped;

    private HealthChecker(String route, BackendClient client, BackendSettings.HealthCheck check, List<Backend> backends) {
        this.route = route;
        this.client = client;
        this.check = check;
        for (Backend b : backends) {
            probes.add(new Probe(b));
        }
    }

    /** Starts checking {@code pool}'s backends, or returns null when the route has no active check. */
    public static HealthChecker start(String route, BackendClient client, BackendSettings.HealthCheck check, BackendPool pool) {
        if (check == null) {
            return null;
        }
        HealthChecker checker = new HealthChecker(route, client, check, pool.backends());
        for (Probe p : checker.probes) {
            p.schedule(0);
        }
        return checker;
    }

    /** Stops checking; a check in progress ends without scheduling another. */
    public void stop() {
        stopped = true;
        for (Probe p : probes) {
            p.cancel();
        }
    }

    /** One backend's checks and its run of passes or failures. */
    private final class Probe {
        private final Backend backend;
        private final URI uri;
        private Scheduler.Task next;
        private int passes;
        private int failures;

        Probe(Backend backend) {
            this.backend = backend;
            BackendTarget t = backend.target();
            String scheme = check.websocket() ? t.scheme() : t.scheme().equals("wss") ? "https" : "http";
            this.uri = URI.create(scheme + "://" + t.authority() + check.path());
        }

        synchronized void schedule(long delayMillis) {
            if (!stopped) {
                next = client.scheduler().schedule(this::run, delayMillis, TimeUnit.MILLISECONDS);
            }
        }

        synchronized void cancel() {
            if (next != null) {
                next.cancel();
            }
        }

        private void run() {
            if (stopped) {
                return;
            }
            try {
                if (check.websocket()) {
                    handshake();
                } else {
                    get();
                }
            } catch (RuntimeException e) {
                verdict(false, e.toString());
            }
        }

        private void get() {
            client.client().getHttpClient().newRequest(uri).method(HttpMethod.GET)
                    .timeout(check.timeout().toMillis(), TimeUnit.MILLISECONDS)
                    .send((Result result) -> {
                        if (result.isFailed()) {
                            verdict(false, String.valueOf(result.getFailure()));
                        } else {
                            int status = result.getResponse().getStatus();
                            verdict(status >= 200 && status < 400, "status " + status);
                        }
                    });
        }

        private void handshake() {
            CoreClientUpgradeRequest upgrade = new CoreClientUpgradeRequest(client.coreClient(), uri) {
                @Override
                public FrameHandler getFrameHandler() {
                    return new Closer();
                }
            };
            upgrade.timeout(check.timeout().toMillis(), TimeUnit.MILLISECONDS);
            Configuration.ConfigurationCustomizer settings = new Configuration.ConfigurationCustomizer();
            settings.setIdleTimeout(check.timeout());
            upgrade.setConfiguration(settings);
            try {
                client.coreClient().connect(upgrade).whenComplete((session, failure) ->
                        verdict(failure == null, failure == null ? "101" : String.valueOf(failure)));
            } catch (java.io.IOException e) {
                verdict(false, e.toString());
            }
        }

        private void verdict(boolean passed, String why) {
            String line = null;
            synchronized (this) {
                if (passed) {
                    failures = 0;
                    passes++;
                    if (passes >= check.rise()) {
                        line = backend.checked(true, why);
                    }
                } else {
                    passes = 0;
                    failures++;
                    if (failures >= check.fall()) {
                        line = backend.checked(false, why);
                    }
                }
            }
            if (line != null) {
                LOG.info("wsbridge route [{}]: {}", route, line);
            }
            schedule(check.interval().toMillis());
        }
    }

    /** The check's side of a WebSocket handshake: closes the session as soon as it is open. */
    private static final class Closer implements FrameHandler {
        private CoreSession session;

        @Override
        public void onOpen(CoreSession coreSession, Callback callback) {
            session = coreSession;
            callback.succeeded();
            coreSession.close(CloseStatus.NORMAL, "health check", Callback.NOOP);
            coreSession.demand();
        }

        @Override
        public void onFrame(Frame frame, Callback callback) {
            callback.succeeded();
            session.demand();
        }

        @Override
        public void onError(Throwable cause, Callback callback) {
            callback.succeeded();
        }

        @Override
        public void onClosed(CloseStatus closeStatus, Callback callback) {
            callback.succeeded();
        }
    }

    @Override
    public String toString() {
        return "HealthChecker[" + route + ", " + check + "]";
    }
}
