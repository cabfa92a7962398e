package dev.wsbridge.frame;

/** A peer broke RFC 6455: the close code it earns (1002, 1007, 1009) and a short reason. */
public final class ProtocolException extends Exception {

    private static final long serialVersionUID = 1L;

    private final int code;

    public ProtocolException(int code, String reason) {
        super(reason, null, false, false);
        this.code = code;
    }

    public int code() {
        return code;
    }
}
