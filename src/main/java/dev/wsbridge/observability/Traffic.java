package dev.wsbridge.observability;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;

/**
 * One direction of one session's traffic: plain counts for the session (its access-log line and the status
 * page), and the route's metrics for that direction beside them. Written by the one thread at a time that
 * forwards that direction; read by others without a lock, so a reader may see a count a message behind.
 */
public final class Traffic {

    /** The route's metrics for one direction, bound once so that counting looks no label up. */
    public record Flow(CounterDataPoint textMessages, CounterDataPoint binaryMessages, CounterDataPoint textBytes,
            CounterDataPoint binaryBytes, DistributionDataPoint messageSize, CounterDataPoint heldSeconds) {
    }

    private final Flow flow;
    private long messages;
    private long bytes;
    private long lastMessageNanos = System.nanoTime();

    /** @param flow the route's metrics for this direction, or null when the route keeps none */
    Traffic(Flow flow) {
        this.flow = flow;
    }

    /** A piece of a data message passed: its payload bytes. */
    public void piece(boolean text, int length) {
        bytes += length;
        if (flow != null) {
            (text ? flow.textBytes : flow.binaryBytes).inc(length);
        }
    }

    /** A data message ended, {@code size} payload bytes in all. */
    public void message(boolean text, long size) {
        messages++;
        lastMessageNanos = System.nanoTime();
        if (flow != null) {
            (text ? flow.textMessages : flow.binaryMessages).inc();
            flow.messageSize.observe(size);
        }
    }

    /** The reader of this direction waited {@code nanos} for a write to the other leg to complete. */
    public void held(long nanos) {
        if (flow != null) {
            flow.heldSeconds.inc(nanos / 1e9);
        }
    }

    public long messages() {
        return messages;
    }

    public long bytes() {
        return bytes;
    }

    /** When the last message ended (or when the session's record was made, before any). */
    public long lastMessageNanos() {
        return lastMessageNanos;
    }

}
