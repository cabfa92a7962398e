package dev.wsbridge.config;

/**
 * How permessage-deflate (RFC 7692) is negotiated on each leg of a route.
 *
 * @param client          accept a client's offer
 * @param backend         offer it to the backend
 * @param contextTakeover let each side keep its LZ77 window between messages; without it a session holds no
 *                        compression state between messages
 * @param windowBits      the {@code client_max_window_bits} asked of a client that offers to honour it (8 to 15)
 * @param minSize         messages to the client shorter than this many bytes go uncompressed
 */
public record DeflateSettings(boolean client, boolean backend, boolean contextTakeover, int windowBits, int minSize) {

    @Override
    public String toString() {
        return "deflate[client=" + client + ", backend=" + backend + ", contextTakeover=" + contextTakeover
                + ", windowBits=" + windowBits + ", minSize=" + minSize + "]";
    }
}
