package dev.wsbridge.autobahn;

import dev.wsbridge.config.BridgeConfig;
import java.util.Map;

/** The route under test, as web.xml would declare it: plain ws allowed, limits above the suite's largest message. */
final class BridgeRoute {

    private BridgeRoute() {
    }

    static Map<String, String> initParams(EchoBackend backend) {
        return Map.of(
                BridgeConfig.PROXY_TO, backend.uri().toString(),
                BridgeConfig.ALLOW_PLAIN_WS, "true",
                BridgeConfig.MAX_MESSAGE_SIZE, "32MiB");
    }
}
