package dev.wsbridge.bench;

import dev.wsbridge.support.TestTls;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/**
 * The load generator: Jetty's WebSocket client (TLS trusting only the test certificate) and the measurements
 * made with it. Every wait is bounded; every failure is a {@link BenchFailure}.
 */
final class LoadClient implements AutoCloseable {

    /** Size of the small messages (echo rate, latency, idle sessions). */
    static final int SMALL = 64;
    /** Size of the bulk messages. */
    static final int BULK = 64 * 1024;

    private static final int CONNECT_CONCURRENCY = 32;
    private static final int WAIT_SECONDS = 30;

    private final WebSocketClient client;
    private final boolean deflate;
    private final long rampMillis;

    /** The figures of one echo measurement; latencies in nanoseconds, sorted. */
    /** The rates measured, each latency, and the server's CPU time per message in microseconds (NaN when not asked). */
    record EchoResult(double messagesPerSecond, double bytesPerSecond, long[] latencies, double cpuMicrosPerMessage) {
        double percentileMicros(double p) {
            if (latencies.length == 0) {
                throw new BenchFailure("no latency samples");
            }
            int i = (int) Math.min(latencies.length - 1, Math.ceil(p / 100 * latencies.length) - 1);
            return latencies[Math.max(i, 0)] / 1000.0;
        }
    }

    /** Sessions opened and echoed once, held open until {@link #close(Opened)}. */
    record Opened(List<EchoConnection> connections, EchoRun run) {
    }

    /** Heap of the bridge JVM around an abuse: before, after one and two periods, after the disconnect. */
    record Abuse(long before, long first, long second, long after, long clientWrote) {
    }

    LoadClient(long rampMillis) throws Exception {
        this(rampMillis, false);
    }

    /**
     * @param deflate offer permessage-deflate without context takeover on every connection (Jetty's client
     *                keeps to its own offer, not to the answer), and send compressible messages (see
     *                {@link Payloads}) instead of random ones
     */
    LoadClient(long rampMillis, boolean deflate) throws Exception {
        this.rampMillis = rampMillis;
        this.deflate = deflate;
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(TestTls.clientTls());
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("bench-client");
        HttpClient http = new HttpClient(new HttpClientTransportOverHTTP(connector));
        http.setExecutor(threads);
        http.setMaxConnectionsPerDestination(1024);
        http.setMaxRequestsQueuedPerDestination(1 << 16);
        client = new WebSocketClient(http);
        client.setMaxTextMessageSize(128L << 20);
        client.setMaxBinaryMessageSize(128L << 20);
        client.setIdleTimeout(Duration.ofMinutes(10));
        client.start();
    }

    /**
     * Echo load: {@code connections} sessions, each keeping {@code window} messages of {@code size} bytes in
     * flight; counted for {@code seconds} after a ramp.
     */
    EchoResult echo(URI uri, int connections, int window, int size, boolean latency, double seconds) {
        return echo(uri, connections, window, size, latency, seconds, null);
    }

    /** As {@link #echo(URI, int, int, int, boolean, double)}, reading {@code cpu}'s clock as the measuring starts and ends. */
    EchoResult echo(URI uri, int connections, int window, int size, boolean latency, double seconds, ServerProcess cpu) {
        EchoRun run = new EchoRun(latency);
        List<EchoConnection> all = connect(uri, connections, window, new Payloads(size, deflate), run);
        all.forEach(EchoConnection::start);
        sleep(run, rampMillis);
        long cpu0 = cpu == null ? 0 : cpu.cpuNanos();
        run.measuring = true;
        long start = System.nanoTime();
        sleep(run, (long) (seconds * 1000));
        run.measuring = false;
        double elapsed = (System.nanoTime() - start) / 1e9;
        double cpuMicros = cpu == null ? Double.NaN : (cpu.cpuNanos() - cpu0) / 1e3 / Math.max(1, run.messages.sum());
        run.sending = false;
        drain(all, run);
        close(all, run);
        run.check();
        long[] latencies = all.stream().map(EchoConnection::latencies).flatMapToLong(Arrays::stream).sorted().toArray();
        return new EchoResult(run.messages.sum() / elapsed, run.bytes.sum() / elapsed, latencies, cpuMicros);
    }

    /**
     * Plain HTTP {@code GET}s per second: {@code connections} loops over keep-alive connections, each sending its
     * next {@code GET} of {@code uri} once the last response is complete; counted for {@code seconds} after a ramp.
     * Every response must be {@code 200} with a body of {@code size} bytes.
     */
    double gets(URI uri, int connections, int size, double seconds) {
        EchoRun run = new EchoRun(false);
        CountDownLatch stopped = new CountDownLatch(connections);
        for (int i = 0; i < connections; i++) {
            get(uri, size, run, stopped);
        }
        sleep(run, rampMillis);
        run.measuring = true;
        long start = System.nanoTime();
        sleep(run, (long) (seconds * 1000));
        run.measuring = false;
        double elapsed = (System.nanoTime() - start) / 1e9;
        run.sending = false;
        try {
            if (!stopped.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new BenchFailure(stopped.getCount() + " GETs of [" + uri + "] were not answered within "
                        + WAIT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchFailure("interrupted");
        }
        run.check();
        return run.messages.sum() / elapsed;
    }

    /** One {@code GET} of a {@link #gets} loop; the next is sent from its completion, or the loop stops. */
    private void get(URI uri, int size, EchoRun run, CountDownLatch stopped) {
        client.getHttpClient().newRequest(uri).timeout(WAIT_SECONDS, TimeUnit.SECONDS)
                .send(new BufferingResponseListener(2 * size) {
                    @Override
                    public void onComplete(Result result) {
                        boolean ok = false;
                        if (result.isFailed()) {
                            run.fail("GET [" + uri + "] failed: " + result.getFailure());
                        } else if (result.getResponse().getStatus() != 200 || getContent().length != size) {
                            run.fail("GET [" + uri + "] answered [" + result.getResponse().getStatus() + "] with ["
                                    + getContent().length + "] bytes; expected 200 with " + size);
                        } else {
                            ok = true;
                            if (run.measuring) {
                                run.messages.increment();
                            }
                        }
                        if (ok && run.sending) {
                            get(uri, size, run, stopped);
                        } else {
                            stopped.countDown();
                        }
                    }
                });
    }

    /** Handshakes per second: {@code workers} loops of open, close, await the close answer. */
    double handshakes(URI uri, int workers, double seconds) throws InterruptedException {
        AtomicReference<String> failure = new AtomicReference<>();
        LongAdder count = new LongAdder();
        boolean[] phase = new boolean[2];
        Object lock = new Object();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            Thread t = new Thread(() -> {
                while (true) {
                    boolean measuring;
                    synchronized (lock) {
                        if (phase[1]) {
                            return;
                        }
                        measuring = phase[0];
                    }
                    try {
                        Handshaker h = new Handshaker();
                        Session s = open(h, uri).get(WAIT_SECONDS, TimeUnit.SECONDS);
                        s.close(1000, "bye", Callback.NOOP);
                        int code = h.closed().get(WAIT_SECONDS, TimeUnit.SECONDS);
                        if (code != 1000) {
                            failure.compareAndSet(null, "handshake session closed with [" + code + "], expected [1000]");
                            return;
                        }
                    } catch (Exception e) {
                        failure.compareAndSet(null, "handshake to [" + uri + "] failed: " + e);
                        return;
                    }
                    if (measuring) {
                        count.increment();
                    }
                }
            }, "bench-handshake-" + w);
            t.start();
            threads.add(t);
        }
        Thread.sleep(rampMillis);
        synchronized (lock) {
            phase[0] = true;
        }
        long start = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        synchronized (lock) {
            phase[0] = false;
            phase[1] = true;
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(2 * WAIT_SECONDS));
        }
        if (failure.get() != null) {
            throw new BenchFailure(failure.get());
        }
        return count.sum() / elapsed;
    }

    /** Opens {@code n} sessions and echoes one 64-byte message on each; they stay open. */
    Opened openIdle(URI uri, int n) {
        EchoRun run = new EchoRun(false);
        run.sending = false;
        List<EchoConnection> all = connect(uri, n, 1, new Payloads(SMALL, deflate), run);
        all.forEach(EchoConnection::start);
        drain(all, run);
        run.check();
        return new Opened(all, run);
    }

    void close(Opened opened) {
        close(opened.connections(), opened.run());
        opened.run().check();
    }

    /**
     * {@code sessions} sessions to {@code flood} that never read (or, with {@code clientFloods}, that send
     * without pause to {@code sink}); the heap of {@code bridge} is read before, after each period of
     * {@code seconds}, and {@code settle} seconds after the generator dropped them all.
     */
    Abuse abuse(ServerJvm bridge, URI flood, URI sink, boolean clientFloods, int sessions, double seconds,
            double settle) throws Exception {
        long before = bridge.heap();
        ExecutorService senders = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "bench-abuse");
            t.setDaemon(true);
            return t;
        });
        LongAdder written = new LongAdder();
        List<Abuser> abusers = new ArrayList<>();
        List<Future<Session>> opened = new ArrayList<>();
        // As many handshakes at a time as the echo loads: beyond maxPendingHandshakes (64) the bridge answers 503.
        Semaphore permits = new Semaphore(CONNECT_CONCURRENCY);
        try {
            for (int i = 0; i < sessions; i++) {
                if (!permits.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)) {
                    throw new BenchFailure("opening abuse sessions stalled after " + i);
                }
                Abuser a = clientFloods ? new Abuser(senders, written) : new Abuser();
                abusers.add(a);
                opened.add(open(a, clientFloods ? sink : flood).whenComplete((session, x) -> permits.release()));
            }
            for (Future<Session> f : opened) {
                try {
                    f.get(WAIT_SECONDS, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new BenchFailure("abuse session to [" + (clientFloods ? sink : flood) + "] failed: " + e);
                }
            }
            Thread.sleep((long) (seconds * 1000));
            long first = bridge.heap();
            Thread.sleep((long) (seconds * 1000));
            long second = bridge.heap();
            abusers.forEach(Abuser::disconnect);
            Thread.sleep((long) (settle * 1000));
            return new Abuse(before, first, second, bridge.heap(), written.sum());
        } finally {
            abusers.forEach(Abuser::disconnect);
            senders.shutdownNow();
        }
    }

    /** Connects {@code endpoint}, offering permessage-deflate when this client was made to. */
    private CompletableFuture<Session> open(Object endpoint, URI uri) throws IOException {
        if (!deflate) {
            return client.connect(endpoint, uri);
        }
        ClientUpgradeRequest request = new ClientUpgradeRequest(uri);
        request.addExtensions("permessage-deflate; server_no_context_takeover; client_no_context_takeover");
        return client.connect(endpoint, request);
    }

    private List<EchoConnection> connect(URI uri, int n, int window, Payloads payloads, EchoRun run) {
        Semaphore permits = new Semaphore(CONNECT_CONCURRENCY);
        List<EchoConnection> all = new ArrayList<>(n);
        try {
            for (int i = 0; i < n; i++) {
                if (!permits.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)) {
                    throw new BenchFailure("connecting to [" + uri + "] stalled after " + i + " sessions");
                }
                run.check();
                EchoConnection c = new EchoConnection(i, window, payloads, run);
                all.add(c);
                open(c, uri).whenComplete((s, failure) -> {
                    permits.release();
                    if (failure != null) {
                        run.fail("connecting to [" + uri + "] failed: " + failure);
                        c.opened().completeExceptionally(failure);
                    }
                });
            }
            for (EchoConnection c : all) {
                c.opened().get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchFailure("interrupted");
        } catch (Exception e) {
            run.check();
            throw new BenchFailure("connecting to [" + uri + "] failed: " + e);
        }
        return all;
    }

    private static void drain(List<EchoConnection> all, EchoRun run) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (true) {
            run.check();
            long left = all.stream().mapToLong(EchoConnection::outstanding).sum();
            if (left == 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                String stuck = all.stream().filter(c -> c.outstanding() > 0).limit(5).map(EchoConnection::toString)
                        .collect(java.util.stream.Collectors.joining(", "));
                throw new BenchFailure(left + " echoes did not come back within " + WAIT_SECONDS + " s: " + stuck);
            }
            sleep(run, 5);
        }
    }

    private static void close(List<EchoConnection> all, EchoRun run) {
        run.closing = true;
        all.forEach(EchoConnection::close);
        try {
            for (EchoConnection c : all) {
                c.closed().get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            throw new BenchFailure("sessions did not close within " + WAIT_SECONDS + " s: " + e);
        }
    }

    private static void sleep(EchoRun run, long millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        try {
            for (long left = millis; left > 0; left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())) {
                run.check();
                Thread.sleep(Math.min(left, 50));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchFailure("interrupted");
        }
        run.check();
    }

    @Override
    public void close() throws Exception {
        client.stop();
        client.getHttpClient().stop();
    }
}
