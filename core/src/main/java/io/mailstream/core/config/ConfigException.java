package io.mailstream.core.config;

/** A configuration value that is missing, malformed or inconsistent; the message names the key. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
