package dev.wsbridge.bench;

import dev.wsbridge.support.BridgeContainer;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Handshake rate of a route with one backend against the same route with three (round robin), in the same
 * run, alternating so drift hits both alike; prints each run and the means. Not a test: it prints figures and
 * asserts nothing. Arguments: container ({@code TOMCAT} or {@code JETTY}), runs, seconds per run, workers.
 */
public final class BackendsBench {

    private BackendsBench() {
    }

    public static void main(String[] args) throws Exception {
        BridgeContainer.Kind kind = BridgeContainer.Kind.valueOf(args.length > 0 ? args[0] : "TOMCAT");
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 5;
        int workers = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        List<BenchBackend> backends = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            backends.add(new BenchBackend());
        }
        String one = "ws://127.0.0.1:" + backends.get(0).port() + "/";
        String three = backends.stream().map(b -> "ws://127.0.0.1:" + b.port() + "/").collect(Collectors.joining(", "));
        List<Double> ones = new ArrayList<>();
        List<Double> threes = new ArrayList<>();
        try (LoadClient load = new LoadClient(1000)) {
            for (int run = 0; run <= runs; run++) {
                for (String proxyTo : List.of(one, three)) {
                    BridgeContainer container = kind.create();
                    container.start(Map.of("proxyTo", proxyTo), Map.of());
                    try {
                        double rate = load.handshakes(URI.create("wss://localhost:" + container.tlsPort() + "/wsapp/"
                                + BenchBackend.ECHO), workers, seconds);
                        String label = proxyTo.equals(one) ? "1 backend " : "3 backends";
                        // Run 0 warms the JIT up and is not counted.
                        System.out.printf("%s %s run %d: %,.0f handshakes/s%n", kind, label, run, rate);
                        if (run > 0) {
                            (proxyTo.equals(one) ? ones : threes).add(rate);
                        }
                    } finally {
                        container.close();
                    }
                }
            }
        } finally {
            for (BenchBackend b : backends) {
                b.close();
            }
        }
        double a = ones.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double b = threes.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        System.out.printf("%s, %d workers, %d runs of %.0f s: 1 backend %,.0f handshakes/s (%s), 3 backends %,.0f (%s),"
                + " ratio %.2f%n", kind, workers, runs, seconds, a, spread(ones), b, spread(threes), b / a);
    }

    private static String spread(List<Double> rates) {
        return "min " + String.format("%,.0f", rates.stream().mapToDouble(Double::doubleValue).min().orElse(0)) + ", max "
                + String.format("%,.0f", rates.stream().mapToDouble(Double::doubleValue).max().orElse(0));
    }
}
