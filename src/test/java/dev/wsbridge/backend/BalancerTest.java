package dev.wsbridge.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wsbridge.config.BackendMember;
import dev.wsbridge.config.BackendSettings;
import dev.wsbridge.config.BackendTarget;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The balancers over 3,000 sessions, and a backend's passive health: which backend each session gets, with
 * the tolerance each guarantees; no network (the end-to-end tests run them behind a real route).
 */
class BalancerTest {

    private static final int SESSIONS = 3000;

    private static List<Backend> backends(int... weights) {
        List<Backend> out = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            out.add(new Backend("test", new BackendMember(new BackendTarget("ws", "b" + i, 8080, "/"), weights[i]), i, 3,
                    1_000_000_000L, weights.length > 1));
        }
        return out;
    }

    private static int[] spread(Balancer balancer, List<Backend> backends, int sessions, boolean keepOpen) {
        int[] counts = new int[backends.size()];
        for (int s = 0; s < sessions; s++) {
            Backend chosen = balancer.order(backends, "key" + s).get(0);
            counts[chosen.index()]++;
            if (keepOpen) {
                chosen.sessionStarting();
            }
        }
        return counts;
    }

    @Test
    void roundRobinGivesExactlyEachWeightsShareInterleaved() {
        List<Backend> bs = backends(1, 2, 3);
        Balancer rr = Balancer.of(BackendSettings.Balancer.ROUND_ROBIN, 3);

        List<Integer> firstSix = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            firstSix.add(rr.order(bs, null).get(0).index());
        }
        int[] counts = spread(rr, bs, SESSIONS - 6, false);

        assertEquals(List.of(2, 1, 0, 2, 1, 2), firstSix);
        assertEquals(List.of(500 - 1, 1000 - 2, 1500 - 3), List.of(counts[0], counts[1], counts[2]));
    }

    @Test
    void roundRobinFailoverOrderIsTheRestOfTheList() {
        List<Backend> bs = backends(1, 1, 1);
        Balancer rr = Balancer.of(BackendSettings.Balancer.ROUND_ROBIN, 3);
        rr.order(bs, null);

        assertEquals(List.of(bs.get(1), bs.get(2), bs.get(0)), rr.order(bs, null));
    }

    @Test
    void leastSessionsKeepsOpenSessionsInProportionToWeight() {
        List<Backend> bs = backends(1, 2, 3);

        int[] counts = spread(Balancer.of(BackendSettings.Balancer.LEAST_SESSIONS, 3), bs, SESSIONS, true);

        // Each new session goes where open/weight is lowest, so no backend is ever more than one session ahead.
        assertTrue(Math.abs(counts[0] - 500) <= 1 && Math.abs(counts[1] - 1000) <= 2 && Math.abs(counts[2] - 1500) <= 3,
                Arrays.toString(counts));
    }

    @Test
    void leastSessionsFillsABackendThatJoinsEmpty() {
        List<Backend> bs = backends(1, 1, 1);
        Balancer least = Balancer.of(BackendSettings.Balancer.LEAST_SESSIONS, 3);
        spread(least, bs.subList(0, 2), 1000, true);

        int[] counts = spread(least, bs, 500, true);

        assertEquals(List.of(0, 0, 500), List.of(counts[0], counts[1], counts[2]));
    }

    @Test
    void leastSessionsSpreadsTiesRatherThanPilingOnTheFirst() {
        List<Backend> bs = backends(1, 1, 1);
        Balancer least = Balancer.of(BackendSettings.Balancer.LEAST_SESSIONS, 3);

        int[] counts = spread(least, bs, 300, false);

        assertEquals(List.of(100, 100, 100), List.of(counts[0], counts[1], counts[2]));
    }

    @Test
    void hashSpreadsKeysByWeightWithinTenPercent() {
        List<Backend> bs = backends(1, 2, 3);

        int[] counts = spread(Balancer.of(BackendSettings.Balancer.HASH, 3), bs, SESSIONS, false);

        int[] expected = {500, 1000, 1500};
        for (int i = 0; i < 3; i++) {
            assertTrue(Math.abs(counts[i] - expected[i]) <= expected[i] / 10,
                    "backend " + i + ": " + Arrays.toString(counts));
        }
    }

    @Test
    void hashMovesOnlyTheKeysOfABackendThatLeavesOrJoins() {
        List<Backend> all = backends(1, 1, 1, 1);
        List<Backend> three = all.subList(0, 3);
        Balancer hash = Balancer.of(BackendSettings.Balancer.HASH, 4);
        Map<String, Backend> before = place(hash, three);

        Map<String, Backend> left = place(hash, List.of(three.get(0), three.get(2)));
        Map<String, Backend> joined = place(hash, all);

        int moved = 0;
        for (String key : before.keySet()) {
            if (before.get(key) != three.get(1)) {
                assertEquals(before.get(key), left.get(key), key + " moved though its backend stayed");
            } else {
                assertNotEquals(three.get(1), left.get(key));
            }
            if (joined.get(key) != before.get(key)) {
                assertEquals(all.get(3), joined.get(key), key + " moved to a backend that was there before");
                moved++;
            }
        }
        assertTrue(Math.abs(moved - SESSIONS / 4) <= SESSIONS / 40, "the joining backend took " + moved);
        assertEquals(before, place(hash, three), "keys did not go back when the joined backend left");
    }

    private static Map<String, Backend> place(Balancer hash, List<Backend> eligible) {
        Map<String, Backend> out = new HashMap<>();
        for (int s = 0; s < SESSIONS; s++) {
            out.put("client-" + s, hash.order(eligible, "client-" + s).get(0));
        }
        return out;
    }

    @Test
    void hashWithoutAKeyIsRoundRobin() {
        List<Backend> bs = backends(1, 1, 1);
        Balancer hash = Balancer.of(BackendSettings.Balancer.HASH, 3);

        List<Integer> picks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            picks.add(hash.order(bs, null).get(0).index());
        }

        assertEquals(List.of(0, 1, 2), picks);
    }

    @Test
    void passiveHealthTakesABackendOutThenLetsOneTrialThrough() {
        Backend b = backends(1, 1).get(0);
        long t = 0;
        assertNull(b.failed(t, "refused"));
        assertNull(b.failed(t, "refused"));
        String down = b.failed(t, "refused");

        assertTrue(down.contains("down after 3 failed connections in a row"), down);
        assertFalse(b.eligible(t + 999_999_999L));
        assertTrue(b.eligible(t + 1_000_000_000L));
        assertTrue(b.acquire(t + 1_000_000_000L));
        assertFalse(b.acquire(t + 1_000_000_000L), "a second trial while the first runs");
        assertEquals("trial", b.getState());

        String still = b.failed(t + 1_000_000_000L, "refused");
        assertTrue(still.contains("still down"), still);
        assertFalse(b.eligible(t + 1_500_000_000L));
        assertTrue(b.acquire(t + 2_000_000_000L));
        assertTrue(b.answered().contains("is back"));
        assertEquals("up", b.getState());
        assertTrue(b.eligible(t + 2_000_000_000L));
    }

    @Test
    void theOnlyBackendIsAlwaysTriedButCanBeDrained() {
        Backend only = backends(1).get(0);
        for (int i = 0; i < 5; i++) {
            only.failed(0, "refused");
        }

        assertTrue(only.eligible(0));
        assertTrue(only.acquire(0));
        only.drain();
        assertFalse(only.eligible(0));
    }
}
