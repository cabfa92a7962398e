package dev.wsbridge.bridge;

/** UTF-8 byte counts of text, for message size limits, without encoding it. */
final class CharCount {

    private CharCount() {
    }

    /** The number of bytes {@code s} takes in UTF-8 (a surrogate pair counts 4, a lone surrogate 3). */
    static long utf8Length(String s) {
        int n = s.length();
        long bytes = n;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                bytes += c < 0x800 ? 1 : 2;
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    // The pair's two chars already count 1 + 3; skipping the low one makes it 4.
                    i++;
                }
            }
        }
        return bytes;
    }
}
