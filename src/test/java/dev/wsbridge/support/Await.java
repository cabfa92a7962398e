package dev.wsbridge.support;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Bounded waits: every wait in the tests ends with a value or an assertion error. */
public final class Await {

    private Await() {
    }

    public static <T> T get(Future<T> future) {
        return get(future, 10);
    }

    public static <T> T get(Future<T> future, int seconds) {
        try {
            return future.get(seconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            System.err.println("nothing within " + seconds + " s; threads then:\n" + threads());
            throw new AssertionError("nothing within " + seconds + " s (threads on stderr)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Polls {@code condition} until true; fails after {@code seconds}. */
    public static void until(String what, int seconds, BooleanSupplier condition) {
        until(what, seconds, condition, () -> "");
    }

    /** Polls {@code condition} until true; fails after {@code seconds}, saying what {@code state} then says. */
    public static void until(String what, int seconds, BooleanSupplier condition, Supplier<String> state) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                String s = state.get();
                throw new AssertionError(what + " not within " + seconds + " s" + (s.isEmpty() ? "" : ": " + s));
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** Every live thread's name, state and top frames: what a wait that timed out was waiting behind. */
    static String threads() {
        StringBuilder b = new StringBuilder();
        for (java.lang.management.ThreadInfo t : java.lang.management.ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
            b.append('"').append(t.getThreadName()).append("\" ").append(t.getThreadState()).append('\n');
            StackTraceElement[] stack = t.getStackTrace();
            for (int i = 0; i < Math.min(stack.length, 12); i++) {
                b.append("    at ").append(stack[i]).append('\n');
            }
        }
        return b.toString();
    }
}
