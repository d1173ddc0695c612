package io.mailstream.core.kafka;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Utils;

/** The names and settings of every mailstream topic: the one place topics are defined. */
public final class Topics {
    private Topics() {}

    /** Every captured change, keyed by partition key; kept forever: it is the audit history. */
    public static final String CHANGES = "mailstream.changes";
    /** Writer schemas keyed by fingerprint (compacted), so old events decode with nothing but the topics. */
    public static final String SCHEMAS = "mailstream.schemas";
    /** Primary assignments, epochs and tier roles (compacted). */
    public static final String CONTROL = "mailstream.control";
    /** Canonical state per mailbox and per user (compacted). */
    public static final String STATE = "mailstream.state";
    /** What each sink has applied (compacted per tier and key). */
    public static final String PROGRESS = "mailstream.progress";
    /** Events that never reached a feed, with the reason. */
    public static final String DLQ = "mailstream.dlq";
    /** Streams' index of message bodies by GUID (compacted), so a feed can supply any body a record references. */
    public static final String STREAMS_CONTENT = "mailstream.streams.content";
    /**
     * Which partition keys reference each body of {@link #STREAMS_CONTENT} (compacted, partitioned
     * by GUID): key {@code <guid>|<partitionKey>} present while that key holds a live record of
     * the body, key {@code <guid>} once the body is published. Streams deletes a body nothing
     * references any more after {@code streams.content.grace.seconds}.
     */
    public static final String STREAMS_CONTENT_REFERENCES = "mailstream.streams.content-references";

    private static final String FEED_PREFIX = "mailstream.feed.";

    /** Key of one chunk of a message body in {@link #STREAMS_CONTENT}. */
    public static String contentChunkKey(String guid, int chunkIndex) {
        return guid + "/" + chunkIndex;
    }

    public static String feed(String tier) {
        return FEED_PREFIX + tier;
    }

    /** Consumer group of a tier's sink; status reads its committed offsets to compute lag. */
    public static String sinkGroup(String tier) {
        return "mailstream-sink-" + tier;
    }

    /** Key of a sink's progress record in {@link #PROGRESS}. */
    public static String progressKey(String tier, String partitionKey) {
        return tier + "|" + partitionKey;
    }

    /**
     * The partition a record keyed {@code key} goes to among {@code partitions}: the producer's
     * default partitioner for a keyed record (murmur2 of the UTF-8 key), which every mailstream
     * writer uses. Lets a reader find a key's partition without reading the others.
     */
    public static int partitionOf(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    static final String UNCLEAN_LEADER_ELECTION = "unclean.leader.election.enable";

    /** A topic to create: name, partitions, and topic-level configs. */
    public record TopicSpec(String name, int partitions, short replicationFactor, Map<String, String> configs) {}

    /** Every topic the configuration needs, with partitions and replication from the config. */
    public static List<TopicSpec> required(MailstreamConfig config) {
        boolean embedded = config.embeddedKafka();
        int partitions = orDefault(config, ConfigKeys.KAFKA_TOPIC_PARTITIONS, embedded ? 3 : 12);
        short rf = (short) orDefault(config, ConfigKeys.KAFKA_TOPIC_REPLICATION_FACTOR, embedded ? 1 : 3);
        String minIsr = String.valueOf(orDefault(config, ConfigKeys.KAFKA_TOPIC_MIN_INSYNC_REPLICAS, embedded ? 1 : 2));
        String maxBytes = String.valueOf(config.get(ConfigKeys.KAFKA_MAX_RECORD_BYTES) + 64 * 1024);

        // Unclean leader election would let an out-of-sync replica lead and silently drop what
        // acks=all acknowledged: off on every topic, whatever the broker's default.
        Map<String, String> forever = Map.of(
                "cleanup.policy",
                "delete",
                "retention.ms",
                "-1",
                "retention.bytes",
                "-1",
                "min.insync.replicas",
                minIsr,
                "max.message.bytes",
                maxBytes,
                UNCLEAN_LEADER_ELECTION,
                "false");
        Map<String, String> compacted = Map.of(
                "cleanup.policy",
                "compact",
                "min.insync.replicas",
                minIsr,
                "max.message.bytes",
                maxBytes,
                UNCLEAN_LEADER_ELECTION,
                "false");
        Map<String, String> feed = Map.of(
                "cleanup.policy",
                "delete",
                "retention.ms",
                String.valueOf(30L * 24 * 3600 * 1000),
                "min.insync.replicas",
                minIsr,
                "max.message.bytes",
                maxBytes,
                UNCLEAN_LEADER_ELECTION,
                "false");

        List<TopicSpec> specs = new ArrayList<>();
        specs.add(new TopicSpec(CHANGES, partitions, rf, forever));
        specs.add(new TopicSpec(SCHEMAS, 1, rf, compacted));
        specs.add(new TopicSpec(CONTROL, 1, rf, compacted));
        specs.add(new TopicSpec(STATE, partitions, rf, compacted));
        specs.add(new TopicSpec(PROGRESS, partitions, rf, compacted));
        specs.add(new TopicSpec(DLQ, 1, rf, forever));
        specs.add(new TopicSpec(STREAMS_CONTENT, partitions, rf, compacted));
        specs.add(new TopicSpec(STREAMS_CONTENT_REFERENCES, partitions, rf, compacted));
        for (String tier : config.tiers()) {
            specs.add(new TopicSpec(feed(tier), partitions, rf, feed));
        }
        return specs;
    }

    private static int orDefault(
            MailstreamConfig config, io.mailstream.core.config.ConfigKey<Integer> key, int fallback) {
        return config.isSet(key.name()) ? config.get(key) : fallback;
    }
}
