package dev.wsbridge.backend;

import dev.wsbridge.config.BackendSettings;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Orders a route's eligible backends for one new session: the first is the balancer's choice, the rest are
 * the order in which failover tries the others.
 */
abstract class Balancer {

    /**
     * @param eligible the backends that may take a session now, in {@code proxyTo} order; not empty
     * @param key      the hash key of the request, or null (only {@link Hash} uses it)
     */
    abstract List<Backend> order(List<Backend> eligible, String key);

    static Balancer of(BackendSettings.Balancer kind, int members) {
        return switch (kind) {
            case ROUND_ROBIN -> new RoundRobin(members);
            case LEAST_SESSIONS -> new LeastSessions();
            case HASH -> new Hash(members);
        };
    }

    /** {@code chosen} first, then the others in list order after it. */
    static List<Backend> startingAt(List<Backend> eligible, int chosen) {
        int n = eligible.size();
        List<Backend> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(eligible.get((chosen + i) % n));
        }
        return out;
    }

    /**
     * Smooth weighted round robin (as nginx's): each pick adds every eligible backend's weight to its running
     * score and takes the highest, which then gives back the total. Weights 1, 2, 3 give exactly 1, 2 and 3 of
     * every 6 sessions, interleaved.
     */
    static final class RoundRobin extends Balancer {
        private final long[] score;

        RoundRobin(int members) {
            score = new long[members];
        }

        @Override
        synchronized List<Backend> order(List<Backend> eligible, String key) {
            long total = 0;
            int best = -1;
            for (int i = 0; i < eligible.size(); i++) {
                Backend b = eligible.get(i);
                score[b.index()] += b.weight();
                total += b.weight();
                if (best < 0 || score[b.index()] > score[eligible.get(best).index()]) {
                    best = i;
                }
            }
            score[eligible.get(best).index()] -= total;
            return startingAt(eligible, best);
        }
    }

    /**
     * Fewest open sessions per unit of weight, handshakes in progress counted, so a burst of handshakes spreads
     * before any of them is answered; ties go round the list.
     */
    static final class LeastSessions extends Balancer {
        private final AtomicInteger tick = new AtomicInteger();

        @Override
        List<Backend> order(List<Backend> eligible, String key) {
            int n = eligible.size();
            int start = Math.floorMod(tick.getAndIncrement(), n);
            List<Backend> rotated = startingAt(eligible, start);
            int[] open = new int[n];
            for (int i = 0; i < n; i++) {
                open[i] = rotated.get(i).openSessions();
            }
            // Stable sort by open/weight, compared as open_a * weight_b against open_b * weight_a.
            Integer[] idx = new Integer[n];
            for (int i = 0; i < n; i++) {
                idx[i] = i;
            }
            Arrays.sort(idx, (a, b) -> Long.compare((long) open[a] * rotated.get(b).weight(),
                    (long) open[b] * rotated.get(a).weight()));
            List<Backend> out = new ArrayList<>(n);
            for (int i : idx) {
                out.add(rotated.get(i));
            }
            return out;
        }
    }

    /**
     * Weighted rendezvous (highest random weight) hashing: each backend scores {@code -weight / ln(u)} with
     * {@code u} uniform in (0,1) from the hash of key and backend; the highest score takes the key. A backend
     * leaving moves only its own keys (each to its second-highest score) and one joining takes only keys it now
     * wins; failover follows the same ranking. A request without a key is balanced round robin.
     */
    static final class Hash extends Balancer {
        private final RoundRobin noKey;

        Hash(int members) {
            noKey = new RoundRobin(members);
        }

        @Override
        List<Backend> order(List<Backend> eligible, String key) {
            if (key == null) {
                return noKey.order(eligible, null);
            }
            long k = hash(key);
            List<Backend> out = new ArrayList<>(eligible);
            double[] score = new double[out.size()];
            for (int i = 0; i < out.size(); i++) {
                Backend b = out.get(i);
                long h = mix(k ^ hash(b.target().toString()));
                double u = ((h >>> 11) + 0.5) / (1L << 53);
                score[i] = -b.weight() / Math.log(u);
            }
            Integer[] idx = new Integer[out.size()];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = i;
            }
            Arrays.sort(idx, Comparator.comparingDouble((Integer i) -> score[i]).reversed());
            List<Backend> ranked = new ArrayList<>(idx.length);
            for (int i : idx) {
                ranked.add(out.get(i));
            }
            return ranked;
        }

        /** 64-bit FNV-1a of the UTF-8 bytes, then mixed. */
        static long hash(String s) {
            long h = 0xcbf29ce484222325L;
            for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                h ^= b & 0xff;
                h *= 0x100000001b3L;
            }
            return mix(h);
        }

        /** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
        static long mix(long h) {
            h ^= h >>> 33;
            h *= 0xff51afd7ed558ccdL;
            h ^= h >>> 33;
            h *= 0xc4ceb9fe1a85ec53L;
            h ^= h >>> 33;
            return h;
        }
    }
}
