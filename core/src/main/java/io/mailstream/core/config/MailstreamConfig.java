package io.mailstream.core.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The effective configuration: defaults of {@link ConfigKeys}, overridden by a properties file,
 * overridden by {@code MAILSTREAM_*} environment variables. Immutable; validated on creation so
 * that a bad value stops start-up with a message naming the key.
 */
public final class MailstreamConfig {
    /** Client properties mailstream's guarantees rest on; kafka.client.* may not change them. */
    private static final Map<String, String> GUARANTEED_CLIENT_PROPERTIES = Map.ofEntries(
            Map.entry("bootstrap.servers", "use kafka.bootstrap.servers"),
            Map.entry("acks", "acks=all: nothing acknowledged is lost"),
            Map.entry("enable.idempotence", "idempotent producers"),
            Map.entry("transactional.id", "derived from capture.server.id"),
            Map.entry("isolation.level", "read_committed"),
            Map.entry("enable.auto.commit", "offsets are committed after the apply"),
            Map.entry("group.id", "derived from the tier or streams.application.id"),
            Map.entry("application.id", "use streams.application.id"),
            Map.entry("processing.guarantee", "exactly_once_v2"),
            Map.entry("key.serializer", "mailstream's serdes"),
            Map.entry("value.serializer", "mailstream's serdes"),
            Map.entry("key.deserializer", "mailstream's serdes"),
            Map.entry("value.deserializer", "mailstream's serdes"));

    private static final Pattern TIER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");
    private static final Pattern TIER_KEY = Pattern.compile("tier\\.([^.]+)\\.(.+)");

    private final Map<String, String> values;

    private MailstreamConfig(Map<String, String> values) {
        this.values = Map.copyOf(values);
        validate();
    }

    /** Reads {@code file} (if it exists; a missing default file is fine) and applies {@code env} overrides. */
    public static MailstreamConfig load(Path file, boolean fileMustExist, Map<String, String> env) {
        Map<String, String> raw = new LinkedHashMap<>();
        if (file != null && Files.exists(file)) {
            Properties props = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                props.load(reader);
            } catch (IOException e) {
                throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage());
            }
            props.forEach((k, v) -> raw.put(k.toString().trim(), v.toString().trim()));
        } else if (fileMustExist) {
            throw new ConfigException("configuration file " + file + " does not exist");
        }
        applyEnv(raw, env);
        return new MailstreamConfig(raw);
    }

    /** A configuration from explicit values (tests, the demo); environment not consulted. */
    public static MailstreamConfig of(Map<String, String> values) {
        return new MailstreamConfig(values);
    }

    /** A copy with some values replaced. */
    public MailstreamConfig with(Map<String, String> overrides) {
        Map<String, String> merged = new LinkedHashMap<>(values);
        merged.putAll(overrides);
        return new MailstreamConfig(merged);
    }

    private static void applyEnv(Map<String, String> raw, Map<String, String> env) {
        // Kafka property names are lower case with dots, so MAILSTREAM_KAFKA_CLIENT_SASL_MECHANISM maps back.
        String clientEnv = ConfigKeys.envName(ConfigKeys.KAFKA_CLIENT.prefix());
        env.forEach((name, value) -> {
            if (name.startsWith(clientEnv) && name.length() > clientEnv.length()) {
                raw.put(
                        ConfigKeys.KAFKA_CLIENT.prefix()
                                + name.substring(clientEnv.length())
                                        .toLowerCase(java.util.Locale.ROOT)
                                        .replace('_', '.'),
                        value);
            }
        });
        for (ConfigKey<?> key : ConfigKeys.all()) {
            if (!key.isTierTemplate() && !key.isPassThrough()) {
                String v = env.get(ConfigKeys.envName(key.name()));
                if (v != null) raw.put(key.name(), v);
            }
        }
        // Tier names come from 'tiers' (possibly itself overridden) so tier keys can be overridden too.
        String tiers = raw.getOrDefault(ConfigKeys.TIERS.name(), "");
        for (String tier : ConfigKeys.TIERS.parse(ConfigKeys.TIERS.name(), tiers)) {
            for (ConfigKey<?> key : ConfigKeys.all()) {
                if (key.isTierTemplate()) {
                    String v = env.get(ConfigKeys.envName(key.forTier(tier)));
                    if (v != null) raw.put(key.forTier(tier), v);
                }
            }
        }
    }

    public <T> T get(ConfigKey<T> key) {
        if (key.isTierTemplate()) throw new IllegalArgumentException(key.name() + " is per tier: use get(key, tier)");
        return parse(key, key.name());
    }

    public <T> T get(ConfigKey<T> key, String tier) {
        return parse(key, key.forTier(tier));
    }

    /** Whether the key was set explicitly (file or environment) rather than defaulted. */
    public boolean isSet(String concreteKey) {
        String v = values.get(concreteKey);
        return v != null && !v.isEmpty();
    }

    private <T> T parse(ConfigKey<T> key, String concrete) {
        String raw = values.get(concrete);
        if (raw == null) raw = key.defaultValue();
        if (raw == null) throw new ConfigException(concrete + " is required (" + key.doc() + ")");
        return key.parse(concrete, raw);
    }

    /**
     * A password from its key or from the file its {@code .file} key names (first line; the
     * file keeps it out of the environment and of any command line). Empty if neither is set;
     * setting both is an error, since one of them would be silently ignored.
     */
    public String password(ConfigKey<String> key, ConfigKey<String> fileKey, String tier) {
        String concrete = tier == null ? key.name() : key.forTier(tier);
        String fileConcrete = tier == null ? fileKey.name() : fileKey.forTier(tier);
        String direct = tier == null ? get(key) : get(key, tier);
        String file = tier == null ? get(fileKey) : get(fileKey, tier);
        if (file.isBlank()) {
            return direct;
        }
        if (!direct.isEmpty()) {
            throw new ConfigException("both " + concrete + " and " + fileConcrete + " are set: keep one");
        }
        return readPasswordFile(Path.of(file), fileConcrete);
    }

    /** The first line of a password file, without its line end. */
    public static String readPasswordFile(Path file, String what) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int eol = text.indexOf('\n');
            String line = eol < 0 ? text : text.substring(0, eol);
            line = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (line.isEmpty()) {
                throw new ConfigException(what + ": the password file " + file + " is empty");
            }
            return line;
        } catch (IOException e) {
            throw new ConfigException(what + ": cannot read the password file " + file + ": " + e.getMessage());
        }
    }

    /** The {@code kafka.client.*} properties without their prefix, for every Kafka client mailstream makes. */
    public Map<String, String> kafkaClientProperties() {
        Map<String, String> out = new TreeMap<>();
        String prefix = ConfigKeys.KAFKA_CLIENT.prefix();
        values.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    public List<String> tiers() {
        return get(ConfigKeys.TIERS);
    }

    public boolean embeddedKafka() {
        return get(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS).isBlank();
    }

    public Path dataDir() {
        return Path.of(get(ConfigKeys.DATA_DIR)).toAbsolutePath();
    }

    /** Folder of a store tier. */
    public Path storeDir(String tier) {
        String dir = get(ConfigKeys.TIER_STORE_DIR, tier);
        return dir.isBlank() ? dataDir().resolve("store-" + tier) : Path.of(dir).toAbsolutePath();
    }

    /**
     * Every effective key (defaults included, tier keys for each configured tier, unknown keys
     * kept so that typos are visible), with secrets masked.
     */
    public Map<String, String> describe() {
        Map<String, String> out = new TreeMap<>();
        for (ConfigKey<?> key : ConfigKeys.all()) {
            if (key.isPassThrough()) {
                kafkaClientProperties().forEach((k, v) -> out.put(key.prefix() + k, looksSecret(k) ? "******" : v));
            } else if (key.isTierTemplate()) {
                for (String tier : tiers()) {
                    put(out, key, key.forTier(tier));
                }
            } else {
                put(out, key, key.name());
            }
        }
        values.forEach((k, v) -> out.putIfAbsent(k, (looksSecret(k) ? "******" : v) + "   (unknown key: ignored)"));
        return out;
    }

    /** Names that mean a secret: passwords (also misspelt), passphrases, tokens, JAAS configs, private keys. */
    private static final Pattern SECRET_NAME = Pattern.compile(
            "(?i).*(pas+w|passphrase|pwd|secret|token|credential|jaas|private|apikey).*|(?i).*(^|[._-])key$");

    /** Whether a key's name says its value is a secret (an unknown key may be a misspelt password key). */
    public static boolean looksSecret(String key) {
        return SECRET_NAME.matcher(key).matches();
    }

    /** The effective configuration with secrets masked: never a password in a log line. */
    @Override
    public String toString() {
        return "MailstreamConfig" + describe();
    }

    private void put(Map<String, String> out, ConfigKey<?> key, String concrete) {
        String v = values.getOrDefault(concrete, key.defaultValue() == null ? "" : key.defaultValue());
        out.put(concrete, key.secret() && !v.isEmpty() ? "******" : v);
    }

    private void validate() {
        for (ConfigKey<?> key : ConfigKeys.all()) {
            if (!key.isTierTemplate() && !key.isPassThrough() && values.containsKey(key.name())) {
                get(key);
            }
        }
        for (String property : kafkaClientProperties().keySet()) {
            String reason = GUARANTEED_CLIENT_PROPERTIES.get(property);
            if (reason != null) {
                throw new ConfigException(
                        ConfigKeys.KAFKA_CLIENT.prefix() + property + ": mailstream sets this itself (" + reason + ")");
            }
        }
        for (String tier : tiers()) {
            if (!TIER_NAME.matcher(tier).matches()) {
                throw new ConfigException(
                        "tiers: '" + tier + "' is not a valid tier name (letters, digits, '-' and '_')");
            }
            if (tier.equals("primary")) {
                throw new ConfigException("tiers: 'primary' is reserved for the capture source");
            }
            ConfigKeys.TierType type = get(ConfigKeys.TIER_TYPE, tier);
            get(ConfigKeys.TIER_CONTENT, tier);
            get(ConfigKeys.TIER_SESSIONS, tier);
            if (type == ConfigKeys.TierType.CYRUS) {
                if (get(ConfigKeys.TIER_CONTENT, tier) == ConfigKeys.ContentMode.REFERENCE) {
                    throw new ConfigException(
                            ConfigKeys.TIER_CONTENT.forTier(tier)
                                    + ": 'reference' leaves message bodies off the feed, but a cyrus tier must upload them; use 'inline'");
                }
                String address = get(ConfigKeys.TIER_CYRUS_ADDRESS, tier);
                if (!address.matches(".+:\\d+")) {
                    throw new ConfigException(ConfigKeys.TIER_CYRUS_ADDRESS.forTier(tier)
                            + ": expected host:port of the replica's sync_server, got '" + address + "'");
                }
            }
        }
        String captureTier = get(ConfigKeys.CAPTURE_TIER);
        if (!TIER_NAME.matcher(captureTier).matches()) {
            throw new ConfigException(ConfigKeys.CAPTURE_TIER.name() + ": '" + captureTier
                    + "' is not a valid tier name (letters, digits, '-' and '_')");
        }
        if (tiers().contains(captureTier) && get(ConfigKeys.TIER_TYPE, captureTier) != ConfigKeys.TierType.CYRUS) {
            throw new ConfigException(
                    ConfigKeys.CAPTURE_TIER.name() + ": '" + captureTier + "' is a store tier, but a capture"
                            + " is fed by a Cyrus server: name a cyrus tier, or a name not in 'tiers' for a single-site primary");
        }
        for (String key : values.keySet()) {
            var m = TIER_KEY.matcher(key);
            if (m.matches() && !tiers().contains(m.group(1))) {
                throw new ConfigException(key + ": tier '" + m.group(1) + "' is not listed in 'tiers' ("
                        + String.join(",", tiers()) + ")");
            }
        }
    }
}
