package dev.wsbridge.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** When the benchmark's warm-up counts a rate as steady: not while it still climbs, nor on too few windows. */
class WarmUpTest {

    @Test
    void aRateStillClimbingIsNotSteady() {
        assertFalse(Bench.steady(List.of(14_000.0, 15_000.0, 18_000.0, 19_000.0, 22_000.0, 26_000.0)));
        // Each window within 5% of the one before, but the last three 8% above the three before them.
        assertFalse(Bench.steady(List.of(25_000.0, 26_000.0, 27_000.0, 27_500.0, 28_000.0, 29_000.0)));
    }

    @Test
    void aFlatOrFallingRateIsSteady() {
        assertTrue(Bench.steady(List.of(30_000.0, 33_000.0, 31_000.0, 32_000.0, 30_500.0, 33_500.0)));
        // Falling back after a spike.
        assertTrue(Bench.steady(List.of(1.0, 40_000.0, 31_000.0, 30_000.0, 29_000.0, 31_000.0, 30_000.0)));
    }

    @Test
    void fewerThanTwoBlocksOfWindowsAreNotEnough() {
        assertFalse(Bench.steady(List.of(30_000.0, 30_000.0, 30_000.0, 30_000.0, 30_000.0)));
    }
}
