package dev.wsbridge.bench;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/** What the connections of one measurement share: its phase, its counters and its first failure. */
final class EchoRun {

    /** Connections send a new message for each echo while this is true. */
    volatile boolean sending = true;
    /** Echoes are counted (and timed, if {@link #latency}) while this is true. */
    volatile boolean measuring;
    /** The generator is closing the connections: a close or error is expected from now on. */
    volatile boolean closing;

    final boolean latency;
    final LongAdder messages = new LongAdder();
    final LongAdder bytes = new LongAdder();
    private final AtomicReference<String> failure = new AtomicReference<>();

    EchoRun(boolean latency) {
        this.latency = latency;
    }

    void fail(String message) {
        failure.compareAndSet(null, message);
    }

    /** Aborts the benchmark with the first failure, if any. */
    void check() {
        String f = failure.get();
        if (f != null) {
            throw new BenchFailure(f);
        }
    }
}
