package dev.wsbridge.observability;

import java.util.Map;

/**
 * One route, as JMX shows it ({@code dev.wsbridge:type=Route,context=...,route=...}): the figures of the
 * metrics and the status page, read when asked.
 */
public interface RouteMXBean {

    int getSessionsOpen();

    int getSessionsPeak();

    /** Handshakes answered, by status ({@code 101}: a session opened). */
    Map<String, Long> getHandshakes();

    /** Ended sessions, by what ended them ({@code client}, {@code backend}, {@code idle}, {@code limit}, {@code shutdown}, {@code error}). */
    Map<String, Long> getSessionsEnded();

    /** Data messages relayed from the clients to the backend (text and binary). */
    long getMessagesClientToBackend();

    long getMessagesBackendToClient();

    /** Payload bytes of the data messages relayed from the clients to the backend. */
    long getBytesClientToBackend();

    long getBytesBackendToClient();
}
