package dev.wsbridge.bridge;

import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.websocket.api.exceptions.WebSocketTimeoutException;

/**
 * How the end of one leg becomes a close on the other (RFC 6455 §7.4). A clean close crosses with its
 * code and reason; 1005 (no code) crosses as an empty close; a backend that vanishes or breaks the
 * protocol becomes 1014 toward the client; a client that vanishes becomes 1001 toward the backend.
 */
final class CloseMapping {

    /** Leave the leg alone: it has already ended. */
    static final int LEAVE = 0;
    /** Drop the leg's connection without a close handshake. */
    static final int ABORT = -1;

    static final int NORMAL = 1000;
    static final int GOING_AWAY = 1001;
    static final int NO_CODE = 1005;
    static final int NO_CLOSE = 1006;
    static final int MESSAGE_TOO_BIG = 1009;
    static final int BAD_GATEWAY = 1014;

    /** RFC 6455 §5.5: a control frame payload is at most 125 bytes, two of them the code. */
    static final int MAX_REASON_BYTES = 123;

    private CloseMapping() {
    }

    /** One close to send: code (or {@link #LEAVE}/{@link #ABORT}) and reason. */
    record Close(int code, String reason) {
        static final Close LEAVE_IT = new Close(LEAVE, "");

        Close {
            reason = truncate(reason);
        }
    }

    /** What the client gets when the backend leg ended with {@code code}, after {@code failure} if any. */
    static Close toClient(int code, String reason, Throwable failure) {
        if (failure instanceof WebSocketTimeoutException
                || failure instanceof org.eclipse.jetty.websocket.core.exception.WebSocketTimeoutException) {
            return new Close(GOING_AWAY, "Idle timeout");
        }
        if (failure != null) {
            return new Close(BAD_GATEWAY, "Backend failed: " + describe(failure));
        }
        if (code == NO_CLOSE) {
            return new Close(BAD_GATEWAY, "Backend connection lost");
        }
        return new Close(code, reason);
    }

    /** What the backend gets when the client leg ended with {@code code}. */
    static Close toBackend(int code, String reason) {
        if (code == NO_CLOSE) {
            return new Close(GOING_AWAY, "Client connection lost");
        }
        return new Close(code, reason);
    }

    static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    /** Cuts a reason to 123 bytes of UTF-8 without splitting a character. */
    static String truncate(String reason) {
        if (reason == null) {
            return "";
        }
        if (reason.length() * 3 <= MAX_REASON_BYTES) {
            return reason;
        }
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_REASON_BYTES) {
            return reason;
        }
        int end = MAX_REASON_BYTES;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
            end--;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }
}
