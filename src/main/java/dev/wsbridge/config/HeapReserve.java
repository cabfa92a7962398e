package dev.wsbridge.config;

/**
 * The heap {@code minFreeHeap} asks to be left free: a number of bytes, or a percentage of the maximum
 * heap. Zero of either turns the guard off.
 *
 * @param bytes   bytes to keep free, when {@code percent} is -1
 * @param percent percentage of the maximum heap to keep free (0 to 99), or -1 when given in bytes
 */
public record HeapReserve(long bytes, int percent) {

    public HeapReserve {
        if (percent < -1 || percent > 99 || (percent >= 0 && bytes != 0) || bytes < 0) {
            throw new IllegalArgumentException("bytes " + bytes + ", percent " + percent);
        }
    }

    static HeapReserve bytes(long bytes) {
        return new HeapReserve(bytes, -1);
    }

    static HeapReserve percent(int percent) {
        return new HeapReserve(0, percent);
    }

    /** The bytes to keep free out of a heap of at most {@code maxHeap} bytes. */
    public long of(long maxHeap) {
        return percent < 0 ? bytes : maxHeap / 100 * percent;
    }

    /** Whether the guard is off. */
    public boolean off() {
        return percent <= 0 && bytes == 0;
    }

    @Override
    public String toString() {
        return percent < 0 ? bytes + "B" : percent + "%";
    }
}
