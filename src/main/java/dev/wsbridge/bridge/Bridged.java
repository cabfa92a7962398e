package dev.wsbridge.bridge;

/** A bridged session as its route's registry sees it: one to drain or end on undeploy. */
public interface Bridged {

    String id();

    /** Ends the session with 1001 on both legs once no message is in progress in either direction. */
    void drain();

    /** Ends the session with 1001 on both legs now. */
    void shutdown();
}
