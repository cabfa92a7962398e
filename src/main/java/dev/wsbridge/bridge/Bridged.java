package dev.wsbridge.bridge;

import dev.wsbridge.observability.SessionRecord;

/** A bridged session as its route's registry sees it: one to drain or end on undeploy. */
public interface Bridged {

    String id();

    /** What the access log, the metrics and the status page learn of the session. */
    SessionRecord record();

    /** Ends the session with 1001 on both legs once no message is in progress in either direction. */
    void drain();

    /** Ends the session with 1001 on both legs now. */
    void shutdown();
}
