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
    public static final ConfigKey<String> KAFKA_BOOTSTRAP_SERVERS = string(
            "kafka.bootstrap.servers",
            "",
            "Kafka bootstrap servers (host:port,...). Empty: start an embedded single-node KRaft broker under data.dir/kafka.");
    public static final ConfigKey<String> KAFKA_EMBEDDED_LISTEN = string(
            "kafka.embedded.listen",
            "127.0.0.1:0",
            "Address of the embedded broker's client listener; port 0 picks a free port once and keeps it across restarts.");
    public static final ConfigKey<Integer> KAFKA_TOPIC_PARTITIONS = integer(
            "kafka.topic.partitions",
            "",
            "Partitions of mailstream.changes, the feeds, state and progress. Empty: 3 on the embedded broker, 12 on a cluster.");
    public static final ConfigKey<Integer> KAFKA_TOPIC_REPLICATION_FACTOR = integer(
            "kafka.topic.replication.factor",
            "",
            "Replication factor of every mailstream topic. Empty: 1 on the embedded broker, 3 on a cluster.");
    public static final ConfigKey<Integer> KAFKA_TOPIC_MIN_INSYNC_REPLICAS = integer(
            "kafka.topic.min.insync.replicas",
            "",
            "min.insync.replicas of every mailstream topic. Empty: 1 on the embedded broker, 2 on a cluster.");
    public static final ConfigKey<Integer> KAFKA_MAX_RECORD_BYTES = integer(
            "kafka.max.record.bytes",
            "1048576",
            "Largest Kafka record mailstream writes (the broker's message.max.bytes must allow it).");
    public static final ConfigKey<String> KAFKA_CLIENT = add(
            new ConfigKey<>(
                    "kafka.client.<property>",
                    "",
                    "text",
                    Function.identity(),
                    false,
                    "Any Kafka client property, given to every producer, consumer, admin client and Kafka Streams instance mailstream makes: e.g. kafka.client.security.protocol=SASL_SSL, kafka.client.sasl.mechanism=SCRAM-SHA-512, kafka.client.sasl.jaas.config, kafka.client.ssl.truststore.location. Values of secret-looking properties are masked in 'config' output. Not for what mailstream sets itself for its guarantees (acks, idempotence, isolation, transactions, offsets, serializers)."));

    // --- General ---------------------------------------------------------------------------
    public static final ConfigKey<String> DATA_DIR = string(
            "data.dir",
            "mailstream-data",
            "Folder for local state: the embedded broker's log, capture's shadow state, streams state stores.");
    public static final ConfigKey<String> SITE =
            string("site", "dc1", "Name of this data centre / site; stamped on every event this process produces.");
    public static final ConfigKey<Integer> CONTENT_CHUNK_BYTES = integer(
            "content.chunk.bytes",
            "524288",
            "Message bodies larger than this are split into several MessageContent events.");

    // --- Errors (every role) -------------------------------------------------------------------
    public static final ConfigKey<Integer> ERRORS_RETRY_ATTEMPTS = integer(
            "errors.retry.attempts",
            "10",
            "Attempts at an apply (sinks) or an event (streams) that fails for a reason that does not pass by itself (a permanent NO from a replica, an unexpected exception) before it goes to mailstream.dlq. Passing causes (Kafka or a replica unreachable) are retried forever.");
    public static final ConfigKey<Integer> ERRORS_RETRY_BACKOFF_MAX_MS = integer(
            "errors.retry.backoff.max.ms",
            "30000",
            "Longest wait between two attempts; the wait doubles from 100 ms up to this.");

    // --- Status page and metrics (every long-running command) ---------------------------------
    public static final ConfigKey<String> HTTP_LISTEN = string(
            "http.listen",
            "127.0.0.1:9025",
            "Address (host:port) of the status page (/ and /api/status) that run, the role commands, demo and dashboard serve; also /metrics unless metrics.listen names another address. Port 0 picks a free port (printed at start). Empty: no status page.");
    public static final ConfigKey<String> METRICS_LISTEN = string(
            "metrics.listen",
            "",
            "Address (host:port) of the Prometheus endpoint /metrics. Empty or equal to http.listen: served by the status page's server. Another address: a second server with /metrics only, e.g. 0.0.0.0:9464 for Prometheus while the page stays on loopback.");
    public static final ConfigKey<Integer> STATUS_REFRESH_SECONDS = integer(
            "status.refresh.seconds",
            "5",
            "Seconds between two reads of the cluster's status (tier lag, roles and epochs, dead letters, recent changes) for the status page and the mailstream.tier.* metrics; the page's lag chart keeps the last hour.");

    // --- Capture (producers/) ----------------------------------------------------------------
    public static final ConfigKey<Boolean> CAPTURE_ENABLED =
            bool("capture.enabled", "true", "Whether 'mailstream run' starts the capture endpoint.");
    public static final ConfigKey<String> CAPTURE_LISTEN = string(
            "capture.listen",
            "127.0.0.1:2005",
            "Address the capture csync endpoint listens on (host:port); the primary's mailstream channel points here.");
    public static final ConfigKey<String> CAPTURE_SERVER_ID = string(
            "capture.server.id",
            "primary-1",
            "Identity of the Cyrus server this capture serves, stamped on its events (each id numbers its events on its own). The Kafka transactional.id derives from capture.tier, so a second capture of the same tier fences the first.");
    public static final ConfigKey<String> CAPTURE_TIER = string(
            "capture.tier",
            "primary",
            "The tier whose Cyrus server feeds this capture. It accepts APPLYs only while mailstream.control names this tier primary, and answers NO otherwise (Cyrus keeps the change in its sync log). A name not in 'tiers' (the default 'primary': a single-site setup) makes itself primary at epoch 1 on first start, by compare-and-set; a Cyrus tier listed in 'tiers' waits for 'mailstream promote --tier NAME --initial'.");
    public static final ConfigKey<String> CAPTURE_AUTH_USER = string(
            "capture.auth.user",
            "mailstream",
            "User the primary's sync_client authenticates as (mailstream_sync_authname).");
    public static final ConfigKey<String> CAPTURE_AUTH_PASSWORD = secret(
            "capture.auth.password",
            "",
            "Password of capture.auth.user (mailstream_sync_password). Capture needs it or capture.auth.password.file.");
    public static final ConfigKey<String> CAPTURE_AUTH_PASSWORD_FILE = string(
            "capture.auth.password.file",
            "",
            "File whose first line is the password of capture.auth.user, instead of capture.auth.password (which must then be empty).");
    public static final ConfigKey<Integer> CAPTURE_AUTH_TIMEOUT_MS = integer(
            "capture.auth.timeout.ms",
            "30000",
            "A connection that has not authenticated this long after connecting is closed.");
    public static final ConfigKey<Integer> CAPTURE_MAX_SESSIONS = integer(
            "capture.max.sessions",
            "8",
            "Authenticated csync sessions at a time (one primary uses one per channel); more are refused with BYE.");
    public static final ConfigKey<Integer> CAPTURE_MAX_UNAUTHENTICATED = integer(
            "capture.max.unauthenticated",
            "32",
            "Connections waiting to authenticate, over all addresses, counted apart from the sessions. One more closes the oldest of the address holding the most.");
    public static final ConfigKey<Integer> CAPTURE_MAX_UNAUTHENTICATED_PER_ADDRESS = integer(
            "capture.max.unauthenticated.per.address",
            "4",
            "Connections waiting to authenticate from one address. One more closes that address's oldest, so a new connection always gets in.");
    public static final ConfigKey<Long> CAPTURE_MAX_COMMAND_BYTES = longInteger(
            "capture.max.command.bytes",
            "67108864",
            "Bytes of one csync command after decompression, message bodies excluded (literals included). A longer command ends the session with a fatal error.");
    public static final ConfigKey<Long> CAPTURE_MAX_COMMAND_VALUES = longInteger(
            "capture.max.command.values",
            "2000000",
            "Values (atoms, strings, lists, keys) in one csync command; each costs heap beyond its bytes. A mailbox sent whole needs about 20 per message.");
    public static final ConfigKey<Integer> CAPTURE_MAX_COMMAND_LITERALS = integer(
            "capture.max.command.literals",
            "100000",
            "{N} literals in one csync command (each at most 8 MiB, all within capture.max.command.bytes).");
    public static final ConfigKey<Integer> CAPTURE_MAX_COMMAND_BODIES = integer(
            "capture.max.command.bodies",
            "2048",
            "Message bodies (file literals) in one APPLY MESSAGE; sync_client sends at most 1024.");
    public static final ConfigKey<Long> CAPTURE_MAX_COMMAND_BODY_BYTES = longInteger(
            "capture.max.command.body.bytes",
            "8589934592",
            "Bytes of the message bodies of one APPLY MESSAGE together (spooled to data.dir, at most 1 GiB each).");

    // The Cyrus that capture fronts, read (never written) by 'mailstream check': the same three keys
    // a cyrus tier has, so that the primary becomes one more cyrus tier when roles can switch.
    public static final ConfigKey<String> CAPTURE_PRIMARY_ADDRESS = string(
            "capture.primary.address",
            "",
            "host:port of a csync sync_server on the Cyrus primary, which 'mailstream check' reads like a tier (named by capture.server.id) to find changes capture never saw. Empty: check leaves the primary out.");
    public static final ConfigKey<String> CAPTURE_PRIMARY_USER = string(
            "capture.primary.user", "admin", "csync user on the primary's sync_server; must be a Cyrus admin there.");
    public static final ConfigKey<String> CAPTURE_PRIMARY_PASSWORD =
            secret("capture.primary.password", "", "Password of capture.primary.user.");
    public static final ConfigKey<String> CAPTURE_PRIMARY_PASSWORD_FILE = string(
            "capture.primary.password.file",
            "",
            "File whose first line is the password of capture.primary.user, instead of capture.primary.password (which must then be empty).");

    // --- Streams -----------------------------------------------------------------------------
    public static final ConfigKey<Boolean> STREAMS_ENABLED = bool(
            "streams.enabled",
            "true",
            "Whether 'mailstream run' starts the streams processor (fencing, validation, state, fan-out).");
    public static final ConfigKey<String> STREAMS_APPLICATION_ID = string(
            "streams.application.id",
            "mailstream-streams",
            "Kafka Streams application.id (consumer group and internal topic prefix).");
    public static final ConfigKey<Integer> STREAMS_CONTENT_GRACE_SECONDS = integer(
            "streams.content.grace.seconds",
            "3024000",
            "How long a message body no live record references any more (expunged, its mailbox deleted) stays in streams' content index before it is deleted; a record referencing it again within this time keeps it. Default 35 days: longer than Cyrus's delayed expunge (Debian: cyr_expire -X 28), within which an expunged message can be restored.");

    // --- Tiers (sinks/) ------------------------------------------------------------------------
    public static final ConfigKey<List<String>> TIERS =
            list("tiers", "", "Comma list of tier names; each gets a feed topic mailstream.feed.<name> and a sink.");
    public static final ConfigKey<TierType> TIER_TYPE = new ConfigKey<>(
            "tier.<name>.type",
            null,
            "cyrus|store",
            s -> TierType.valueOf(s.toUpperCase(Locale.ROOT)),
            false,
            "Kind of tier: 'cyrus' (a Cyrus replica fed over csync) or 'store' (the out-of-band store).");
    public static final ConfigKey<String> TIER_CYRUS_ADDRESS =
            string("tier.<name>.cyrus.address", "", "host:port of the replica's sync_server (cyrus tiers).");
    public static final ConfigKey<String> TIER_CYRUS_USER = string(
            "tier.<name>.cyrus.user", "admin", "csync user on the replica; must be a Cyrus admin there (cyrus tiers).");
    public static final ConfigKey<String> TIER_CYRUS_PASSWORD =
            secret("tier.<name>.cyrus.password", "", "Password of tier.<name>.cyrus.user (cyrus tiers).");
    public static final ConfigKey<String> TIER_CYRUS_PASSWORD_FILE = string(
            "tier.<name>.cyrus.password.file",
            "",
            "File whose first line is that password, instead of tier.<name>.cyrus.password (cyrus tiers).");
    public static final ConfigKey<String> TIER_CYRUS_PARTITION = string(
            "tier.<name>.cyrus.partition",
            "default",
            "Cyrus partition on the replica that mailboxes and bodies go to (cyrus tiers).");
    public static final ConfigKey<Integer> TIER_SESSIONS = integer(
            "tier.<name>.sessions",
            "4",
            "Parallel csync sessions of a cyrus sink (users are applied in parallel, each user in order).");
    public static final ConfigKey<Integer> TIER_BUFFER_BYTES = integer(
            "tier.<name>.buffer.bytes",
            "33554432",
            "Feed bytes a sink holds in memory (queued and being applied) before it stops fetching; one change larger than this still passes. Size the heap at about three times this.");
    public static final ConfigKey<String> TIER_STORE_DIR = string(
            "tier.<name>.store.dir",
            "",
            "Folder of the out-of-band store (store tiers). Empty: data.dir/store-<name>.");
    public static final ConfigKey<String> TIER_USERS = string(
            "tier.<name>.users",
            "all",
            "Which users this tier receives: 'all', a comma list of userids, or a regex written /.../.");
    public static final ConfigKey<ContentMode> TIER_CONTENT = new ConfigKey<>(
            "tier.<name>.content",
            "inline",
            "inline|reference",
            s -> ContentMode.valueOf(s.toUpperCase(Locale.ROOT)),
            false,
            "'inline': the feed carries message bodies; 'reference': records only, no bodies on the feed (an index-only store; a cyrus tier needs 'inline').");

    /** Every key, in documentation order. */
    public static List<ConfigKey<?>> all() {
        return Collections.unmodifiableList(ALL);
    }

    /** Environment variable that overrides a concrete key. */
    public static String envName(String key) {
        return "MAILSTREAM_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    public enum TierType {
        CYRUS,
        STORE
    }

    public enum ContentMode {
        INLINE,
        REFERENCE
    }

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

    private static ConfigKey<Long> longInteger(String name, String def, String doc) {
        return add(new ConfigKey<>(name, def, "integer", Long::valueOf, false, doc));
    }

    private static ConfigKey<Boolean> bool(String name, String def, String doc) {
        return add(new ConfigKey<>(
                name,
                def,
                "true|false",
                s -> {
                    if (s.equalsIgnoreCase("true")) return true;
                    if (s.equalsIgnoreCase("false")) return false;
                    throw new IllegalArgumentException("not a boolean");
                },
                false,
                doc));
    }

    private static ConfigKey<List<String>> list(String name, String def, String doc) {
        return add(new ConfigKey<>(
                name,
                def,
                "comma list",
                s -> s.isBlank()
                        ? List.of()
                        : Arrays.stream(s.split(","))
                                .map(String::trim)
                                .filter(x -> !x.isEmpty())
                                .toList(),
                false,
                doc));
    }

    static {
        // Tier-template keys built with the generic constructor must be listed too.
        int typeIndex = ALL.indexOf(TIER_CYRUS_ADDRESS);
        ALL.add(typeIndex, TIER_TYPE);
        ALL.add(TIER_CONTENT);
    }
}
