package dev.wsbridge.backend;

/**
 * One backend of a route, as JMX shows it ({@code dev.wsbridge:type=Backend,context=...,route=...,backend=...}):
 * its figures, and drain and enable to take it out of rotation and put it back at runtime.
 */
public interface BackendMXBean {

    /** The backend's base URI. */
    String getUri();

    int getWeight();

    /** {@code up}, {@code down} (failed connections, until its trial), {@code trial}, {@code check failed} or {@code drained}. */
    String getState();

    /** Sessions open on this backend, handshakes in progress included. */
    int getOpenSessions();

    /** Handshakes sent to this backend. */
    long getHandshakes();

    /** Handshakes this backend answered with 101. */
    long getSessions();

    /** Handshakes that got no answer: connection refused or timed out, TLS failed, or no answer in time. */
    long getFailures();

    /** Whether the backend takes new sessions (it is not drained). */
    boolean isEnabled();

    /** Takes the backend out of rotation: no new session; open ones continue. */
    void drain();

    /** Puts a drained backend back into rotation. */
    void enable();
}
