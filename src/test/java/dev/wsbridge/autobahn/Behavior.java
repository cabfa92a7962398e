package dev.wsbridge.autobahn;

import java.util.List;
import java.util.Map;

/**
 * The suite's verdict words (autobahntestsuite 0.6.4, {@code case/case.py}), ranked from best to worst:
 * OK &lt; NON-STRICT &lt; INFORMATIONAL &lt; UNIMPLEMENTED &lt; a wrong close (WRONG CODE, UNCLEAN,
 * FAILED BY CLIENT, NO_CLOSE) &lt; FAILED. A word the suite did not have in 0.6.4 ranks with FAILED.
 */
final class Behavior {

    /** The words in report order: the acceptable ones first. */
    static final List<String> WORDS = List.of("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED",
            "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT", "NO_CLOSE", "FAILED");

    private static final Map<String, Integer> RANK = Map.of(
            "OK", 0, "NON-STRICT", 1, "INFORMATIONAL", 2, "UNIMPLEMENTED", 3,
            "WRONG CODE", 4, "UNCLEAN", 4, "FAILED BY CLIENT", 4, "NO_CLOSE", 4, "FAILED", 5);

    private static final int UNKNOWN = 5;
    private static final int WORST_ACCEPTABLE = 2;

    private Behavior() {
    }

    static int rank(String word) {
        return RANK.getOrDefault(word, UNKNOWN);
    }

    /** OK, NON-STRICT or INFORMATIONAL. */
    static boolean acceptable(String word) {
        return rank(word) <= WORST_ACCEPTABLE;
    }

    /** Whether {@code word} is worse than {@code reference}. */
    static boolean worse(String word, String reference) {
        return rank(word) > rank(reference);
    }
}
