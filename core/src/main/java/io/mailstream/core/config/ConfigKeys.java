package io.mailstream.core.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Every configuration key mailstream reads, with its default and meaning: the one place that
 * lists them (printed by {@code mailstream config} and copied into the README).
 * Environment variables override the file: {@code MAILSTREAM_} + the key upper-cased with
 * dots and dashes as underscores ({@code kafka.bootstrap.servers} -> {@code MAILSTREAM_KAFKA_BOOTSTRAP_SERVERS}).
 */
public final class ConfigKeys {
    private ConfigKeys() {}

    private static final List<ConfigKey<?>> ALL = new ArrayList<>();

    // --- Kafka -----------------------------------------------------------------------------
    public static final ConfigKey<String> KAFKA_BOOTSTRAP_SERVERS = string("kafka.bootstrap.servers", "",
            "Kafka bootstrap servers (host:port,...). Empty: start an embedded single-node KRaft broker under data.dir/kafka.");
    public static final ConfigKey<String> KAFKA_EMBEDDED_LISTEN = string("kafka.embedded.listen", "127.0.0.1:0",
            "Address of the embedded broker's client listener; port 0 picks a free port once and keeps it across restarts.");
    public static final ConfigKey<Integer> KAFKA_TOPIC_PARTITIONS = integer("kafka.topic.partitions", "",
            "Partitions of mailstream.changes, the feeds, state and progress. Empty: 3 on the embedded broker, 12 on a cluster.");
    public static final ConfigKey<Integer> KAFKA_TOPIC_REPLICATION_FACTOR = integer("kafka.topic.replication.factor", "",
            "Replication factor of every mailstream topic. Empty: 1 on the embedded broker, 3 on a cluster.");
    public static final ConfigKey<Integer> KAFKA_TOPIC_MIN_INSYNC_REPLICAS = integer("kafka.topic.min.insync.replicas", "",
            "min.insync.replicas of every mailstream topic. Empty: 1 on the embedded broker, 2 on a cluster.");
    public static final ConfigKey<Integer> KAFKA_MAX_RECORD_BYTES = integer("kafka.max.record.bytes", "1048576",
            "Largest Kafka record mailstream writes (the broker's message.max.bytes must allow it).");

    // --- General ---------------------------------------------------------------------------
    public static final ConfigKey<String> DATA_DIR = string("data.dir", "mailstream-data",
            "Folder for local state: the embedded broker's log, capture's shadow state, streams state stores.");
    public static final ConfigKey<String> SITE = string("site", "dc1",
            "Name of this data centre / site; stamped on every event this process produces.");
    public static final ConfigKey<Integer> CONTENT_CHUNK_BYTES = integer("content.chunk.bytes", "524288",
            "Message bodies larger than this are split into several MessageContent events.");

    // --- Errors (every role) -------------------------------------------------------------------
    public static final ConfigKey<Integer> ERRORS_RETRY_ATTEMPTS = integer("errors.retry.attempts", "10",
            "Attempts at an apply (sinks) or an event (streams) that fails for a reason that does not pass by itself (a permanent NO from a replica, an unexpected exception) before it goes to mailstream.dlq. Passing causes (Kafka or a replica unreachable) are retried forever.");
    public static final ConfigKey<Integer> ERRORS_RETRY_BACKOFF_MAX_MS = integer("errors.retry.backoff.max.ms", "30000",
            "Longest wait between two attempts; the wait doubles from 100 ms up to this.");

    // --- Capture (producers/) ----------------------------------------------------------------
    public static final ConfigKey<Boolean> CAPTURE_ENABLED = bool("capture.enabled", "true",
            "Whether 'mailstream run' starts the capture endpoint.");
    public static final ConfigKey<String> CAPTURE_LISTEN = string("capture.listen", "127.0.0.1:2005",
            "Address the capture csync endpoint listens on (host:port); the primary's mailstream channel points here.");
    public static final ConfigKey<String> CAPTURE_SERVER_ID = string("capture.server.id", "primary-1",
            "Identity of the Cyrus primary this capture serves; derives the Kafka transactional.id and is fenced by epoch.");
    public static final ConfigKey<String> CAPTURE_AUTH_USER = string("capture.auth.user", "mailstream",
            "User the primary's sync_client authenticates as (mailstream_sync_authname).");
    public static final ConfigKey<String> CAPTURE_AUTH_PASSWORD = secret("capture.auth.password", "",
            "Password of capture.auth.user (mailstream_sync_password). Required when capture is enabled.");

    // The Cyrus that capture fronts, read (never written) by 'mailstream check': the same three keys
    // a cyrus tier has, so that the primary becomes one more cyrus tier when roles can switch.
    public static final ConfigKey<String> CAPTURE_PRIMARY_ADDRESS = string("capture.primary.address", "",
            "host:port of a csync sync_server on the Cyrus primary, which 'mailstream check' reads like a tier (named by capture.server.id) to find changes capture never saw. Empty: check leaves the primary out.");
    public static final ConfigKey<String> CAPTURE_PRIMARY_USER = string("capture.primary.user", "admin",
            "csync user on the primary's sync_server; must be a Cyrus admin there.");
    public static final ConfigKey<String> CAPTURE_PRIMARY_PASSWORD = secret("capture.primary.password", "",
            "Password of capture.primary.user.");

    // --- Streams -----------------------------------------------------------------------------
    public static final ConfigKey<Boolean> STREAMS_ENABLED = bool("streams.enabled", "true",
            "Whether 'mailstream run' starts the streams processor (fencing, validation, state, fan-out).");
    public static final ConfigKey<String> STREAMS_APPLICATION_ID = string("streams.application.id", "mailstream-streams",
            "Kafka Streams application.id (consumer group and internal topic prefix).");

    // --- Tiers (sinks/) ------------------------------------------------------------------------
    public static final ConfigKey<List<String>> TIERS = list("tiers", "",
            "Comma list of tier names; each gets a feed topic mailstream.feed.<name> and a sink.");
    public static final ConfigKey<TierType> TIER_TYPE = new ConfigKey<>("tier.<name>.type", null, "cyrus|store",
            s -> TierType.valueOf(s.toUpperCase(Locale.ROOT)), false,
            "Kind of tier: 'cyrus' (a Cyrus replica fed over csync) or 'store' (the out-of-band store).");
    public static final ConfigKey<String> TIER_CYRUS_ADDRESS = string("tier.<name>.cyrus.address", "",
            "host:port of the replica's sync_server (cyrus tiers).");
    public static final ConfigKey<String> TIER_CYRUS_USER = string("tier.<name>.cyrus.user", "admin",
            "csync user on the replica; must be a Cyrus admin there (cyrus tiers).");
    public static final ConfigKey<String> TIER_CYRUS_PASSWORD = secret("tier.<name>.cyrus.password", "",
            "Password of tier.<name>.cyrus.user (cyrus tiers).");
    public static final ConfigKey<String> TIER_CYRUS_PARTITION = string("tier.<name>.cyrus.partition", "default",
            "Cyrus partition on the replica that mailboxes and bodies go to (cyrus tiers).");
    public static final ConfigKey<Integer> TIER_SESSIONS = integer("tier.<name>.sessions", "4",
            "Parallel csync sessions of a cyrus sink (users are applied in parallel, each user in order).");
    public static final ConfigKey<Integer> TIER_BUFFER_BYTES = integer("tier.<name>.buffer.bytes", "33554432",
            "Feed bytes a sink holds in memory (queued and being applied) before it stops fetching; one change larger than this still passes. Size the heap at about three times this.");
    public static final ConfigKey<String> TIER_STORE_DIR = string("tier.<name>.store.dir", "",
            "Folder of the out-of-band store (store tiers). Empty: data.dir/store-<name>.");
    public static final ConfigKey<String> TIER_USERS = string("tier.<name>.users", "all",
            "Which users this tier receives: 'all', a comma list of userids, or a regex written /.../.");
    public static final ConfigKey<ContentMode> TIER_CONTENT = new ConfigKey<>("tier.<name>.content", "inline", "inline|reference",
            s -> ContentMode.valueOf(s.toUpperCase(Locale.ROOT)), false,
            "'inline': the feed carries message bodies; 'reference': records only, no bodies on the feed (an index-only store; a cyrus tier needs 'inline').");

    /** Every key, in documentation order. */
    public static List<ConfigKey<?>> all() {
        return Collections.unmodifiableList(ALL);
    }

    /** Environment variable that overrides a concrete key. */
    public static String envName(String key) {
        return "MAILSTREAM_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    public enum TierType { CYRUS, STORE }

    public enum ContentMode { INLINE, REFERENCE }

    private static <T> ConfigKey<T> add(ConfigKey<T> key) {
        ALL.add(key);
        return key;
    }

    private static ConfigKey<String> string(String name, String def, String doc) {
        return add(new ConfigKey<>(name, def, "text", Function.identity(), false, doc));
    }

    private static ConfigKey<String> secret(String name, String def, String doc) {
        return add(new ConfigKey<>(name, def, "text", Function.identity(), true, doc));
    }

    private static ConfigKey<Integer> integer(String name, String def, String doc) {
        return add(new ConfigKey<>(name, def, "integer", Integer::valueOf, false, doc));
    }

    private static ConfigKey<Boolean> bool(String name, String def, String doc) {
        return add(new ConfigKey<>(name, def, "true|false", s -> {
            if (s.equalsIgnoreCase("true")) return true;
            if (s.equalsIgnoreCase("false")) return false;
            throw new IllegalArgumentException("not a boolean");
        }, false, doc));
    }

    private static ConfigKey<List<String>> list(String name, String def, String doc) {
        return add(new ConfigKey<>(name, def, "comma list",
                s -> s.isBlank() ? List.of() : Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList(),
                false, doc));
    }

    static {
        // Tier-template keys built with the generic constructor must be listed too.
        int typeIndex = ALL.indexOf(TIER_CYRUS_ADDRESS);
        ALL.add(typeIndex, TIER_TYPE);
        ALL.add(TIER_CONTENT);
    }
}
