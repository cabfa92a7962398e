package dev.wsbridge.bench;

/** The benchmark cannot go on: an echo did not match, a connection failed, a wait ran out. */
final class BenchFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    BenchFailure(String message) {
        super(message);
    }
}
