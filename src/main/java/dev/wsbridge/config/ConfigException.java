package dev.wsbridge.config;

/** A bad or missing init-param. The message names the param and brackets the value. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
