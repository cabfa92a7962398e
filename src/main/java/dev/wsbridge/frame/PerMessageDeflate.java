package dev.wsbridge.frame;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Answers a client's permessage-deflate offers (RFC 7692 §7.1): the first acceptable offer of the
 * {@code Sec-WebSocket-Extensions} headers wins; an offer with an unknown, duplicate or malformed parameter
 * is skipped (§7.1, "MUST decline"), and so is one that asks for {@code server_max_window_bits} under 15,
 * since the JDK's {@link java.util.zip.Deflater} always compresses with a 32 KiB window.
 */
public final class PerMessageDeflate {

    /** The extension's token. */
    public static final String NAME = "permessage-deflate";

    /**
     * What was agreed with the client.
     *
     * @param resetDeflater  {@code server_no_context_takeover}: each message to the client is compressed afresh
     * @param resetInflater  each message from the client is inflated afresh ({@code client_no_context_takeover}
     *                       answered because our side asked for it)
     * @param response       the {@code Sec-WebSocket-Extensions} value of the 101 answer
     */
    public record Agreement(boolean resetDeflater, boolean resetInflater, String response) {
    }

    private PerMessageDeflate() {
    }

    /**
     * The agreement for the first acceptable offer in {@code headers}, or null when none is.
     *
     * @param contextTakeover whether our side may keep its context between messages (else both directions reset)
     * @param windowBits      the {@code client_max_window_bits} to ask for, where the client lets us (15: none)
     */
    public static Agreement negotiate(List<String> headers, boolean contextTakeover, int windowBits) {
        for (String header : headers) {
            for (String offer : split(header, ',')) {
                Agreement agreement = accept(offer, contextTakeover, windowBits);
                if (agreement != null) {
                    return agreement;
                }
            }
        }
        return null;
    }

    private static Agreement accept(String offer, boolean contextTakeover, int windowBits) {
        List<String> parts = split(offer, ';');
        if (parts.isEmpty() || !NAME.equalsIgnoreCase(parts.get(0))) {
            return null;
        }
        Map<String, String> params = new HashMap<>();
        for (String part : parts.subList(1, parts.size())) {
            int eq = part.indexOf('=');
            String name = (eq < 0 ? part : part.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
            String value = eq < 0 ? "" : unquote(part.substring(eq + 1).trim());
            if (value == null || params.put(name, value) != null) {
                return null;
            }
        }
        boolean clientNoContext = false;
        boolean serverNoContext = false;
        int clientBits = 0;
        for (Map.Entry<String, String> p : params.entrySet()) {
            String value = p.getValue();
            switch (p.getKey()) {
                case "server_no_context_takeover" -> {
                    if (!value.isEmpty()) {
                        return null;
                    }
                    serverNoContext = true;
                }
                case "client_no_context_takeover" -> {
                    if (!value.isEmpty()) {
                        return null;
                    }
                    clientNoContext = true;
                }
                case "server_max_window_bits" -> {
                    // §7.1.2.1: a value is required; under 15 our Deflater could not keep to it.
                    if (bits(value) != 15) {
                        return null;
                    }
                }
                case "client_max_window_bits" -> {
                    // §7.1.2.2: the value may be left out; the client then lets us choose.
                    clientBits = value.isEmpty() ? 15 : bits(value);
                    if (clientBits < 0) {
                        return null;
                    }
                }
                default -> {
                    return null;
                }
            }
        }
        boolean resetDeflater = serverNoContext || !contextTakeover;
        // With context takeover allowed the inflater keeps its window even when the client offered to reset its
        // own: decoding works either way, and some clients (Jetty's 12.1) offer it and do not keep to it.
        boolean resetInflater = !contextTakeover;
        StringBuilder response = new StringBuilder(NAME);
        if (resetDeflater) {
            response.append("; server_no_context_takeover");
        }
        if (resetInflater || clientNoContext) {
            // §7.1.1.2: allowed in the response even when the offer did not have it.
            response.append("; client_no_context_takeover");
        }
        int asked = Math.min(clientBits, windowBits);
        if (clientBits > 0 && asked < 15) {
            response.append("; client_max_window_bits=").append(asked);
        }
        return new Agreement(resetDeflater, resetInflater, response.toString());
    }

    /** A window size value (§7.1.2): a decimal integer from 8 to 15 without leading zeros, or -1. */
    private static int bits(String value) {
        if (!value.matches("[89]|1[0-5]")) {
            return -1;
        }
        return Integer.parseInt(value);
    }

    /** A token, or a quoted string with its quotes removed; null when the quotes are unbalanced. */
    private static String unquote(String value) {
        if (value.startsWith("\"")) {
            return value.length() >= 2 && value.endsWith("\"") ? value.substring(1, value.length() - 1) : null;
        }
        return value.contains("\"") ? null : value;
    }

    /** Splits on {@code separator} outside quoted strings, trimming each part and dropping empty ones. */
    private static List<String> split(String s, char separator) {
        List<String> parts = new ArrayList<>();
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i <= s.length(); i++) {
            char c = i < s.length() ? s.charAt(i) : separator;
            if (c == '"') {
                quoted = !quoted;
            } else if (c == separator && !quoted) {
                String part = s.substring(start, i).trim();
                if (!part.isEmpty()) {
                    parts.add(part);
                }
                start = i + 1;
            }
        }
        return parts;
    }
}
