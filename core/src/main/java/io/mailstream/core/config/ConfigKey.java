package io.mailstream.core.config;

import java.util.Objects;
import java.util.function.Function;

/**
 * One documented configuration key. Tier keys are templates containing {@code <name>}
 * ({@code tier.<name>.type}) and are instantiated per configured tier.
 */
public final class ConfigKey<T> {
    private final String name;
    private final String defaultValue;
    private final String doc;
    private final boolean secret;
    private final Function<String, T> parser;
    private final String typeName;

    ConfigKey(
            String name, String defaultValue, String typeName, Function<String, T> parser, boolean secret, String doc) {
        this.name = Objects.requireNonNull(name);
        this.defaultValue = defaultValue;
        this.typeName = typeName;
        this.parser = parser;
        this.secret = secret;
        this.doc = doc;
    }

    public String name() {
        return name;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String doc() {
        return doc;
    }

    public boolean secret() {
        return secret;
    }

    public String typeName() {
        return typeName;
    }

    public boolean isTierTemplate() {
        return name.contains("<name>");
    }
    /** A family of keys passed on under a prefix ({@code kafka.client.<property>}), not one value. */
    public boolean isPassThrough() {
        return name.endsWith(".<property>");
    }
    /** For a pass-through key: the prefix of its concrete keys, e.g. {@code kafka.client.}. */
    public String prefix() {
        return name.substring(0, name.length() - "<property>".length());
    }

    /** The concrete key for one tier, e.g. {@code tier.dc2.type}. */
    public String forTier(String tier) {
        return name.replace("<name>", tier);
    }

    T parse(String key, String raw) {
        try {
            return parser.apply(raw.trim());
        } catch (RuntimeException e) {
            throw new ConfigException(key + ": expected " + typeName + ", got '" + raw + "'"
                    + (e.getMessage() != null ? " (" + e.getMessage() + ")" : ""));
        }
    }
}
