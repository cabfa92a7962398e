package dev.wsbridge.autobahn;

import java.util.List;

/** Autobahn run {@value AutobahnRun#BACKEND_ALONE}: the echo backend alone, the reference score. */
public final class BackendAlone {

    private BackendAlone() {
    }

    /** Called by the autobahntestsuite-maven-plugin with the port to serve on. */
    public static void main(String[] args) throws Exception {
        AutobahnRun.serve(AutobahnRun.BACKEND_ALONE, args, (host, port) -> List.of(EchoBackend.start(host, port)));
    }
}
