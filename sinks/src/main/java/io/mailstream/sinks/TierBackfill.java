package io.mailstream.sinks;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.config.TierUsers;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicReader;
import io.mailstream.core.kafka.Topics;
import io.mailstream.core.progress.ProgressBar;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.mailstream.schemas.state.StateFold;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a tier to the canonical state ({@code mailstream.state}, bodies from the content topic)
 * where its feed alone cannot, before its sink follows the feed: a feed partition the sink's group
 * has no offset for (a tier added after mail flowed: its feed starts when streams first wrote it),
 * or one whose committed offset retention has deleted (said at ERROR: events were lost to the feed).
 *
 * <p>No gap between the state and the feed: the offsets the feed will continue from are fixed
 * first (the log start of a partition never consumed, the end of one with a gap), and only then is
 * the state read, so it holds at least everything before them (streams writes state and feeds in
 * the same transactions). What the state already holds comes again on the feed; events assert
 * state, so that overlap is harmless.
 *
 * <p>Resumable: the plan (those offsets) and each partition key finished are kept under
 * {@code data.dir/sink-<tier>/backfill/}, fsynced; a restart goes on with the keys not done yet,
 * against a fresh read of the state (newer still covers the planned offsets). Only when every key
 * is done (marked {@code complete}) are the offsets committed for the sink's group and the plan
 * removed; a commit the broker refuses (a killed sink's membership not expired yet) is retried
 * without reading the state again.
 *
 * <p>Memory: the state and content topics are indexed by offset (about a hundred bytes per
 * mailbox and per body chunk), and one key's state is read at a time.
 */
final class TierBackfill {
    private static final Logger LOG = LoggerFactory.getLogger(TierBackfill.class);
    /** Test hook: after this many keys the backfill waits until the sink stops, so a test can kill it at a known point. */
    static final String PAUSE_AFTER_KEYS = "mailstream.test.backfill.pauseAfterKeys";

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final String MAILBOX_PREFIX = StateFold.mailboxKey("");

    private final String tier;
    private final String role;
    private final String bootstrapServers;
    private final String feed;
    private final StateTarget target;
    private final Predicate<String> users;
    private final boolean inlineContent;
    private final Path dir;

    TierBackfill(MailstreamConfig config, String bootstrapServers, String tier, StateTarget target) {
        this.tier = tier;
        this.role = "tier " + tier;
        this.bootstrapServers = bootstrapServers;
        this.feed = Topics.feed(tier);
        this.target = target;
        this.users = TierUsers.of(config, tier);
        this.inlineContent = config.get(ConfigKeys.TIER_CONTENT, tier) == ConfigKeys.ContentMode.INLINE;
        this.dir = config.dataDir().resolve("sink-" + tier).resolve("backfill");
    }

    /**
     * Runs the backfill the feed's offsets call for, if any, to its end (true), or until
     * {@code running} turns false (false: the next start resumes it).
     */
    boolean run(BooleanSupplier running) throws Exception {
        Map<String, Object> props = KafkaClients.consumerProps(bootstrapServers, null);
        // Single records are fetched by offset: small fetches, not a megabyte per partition each time.
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 64 * 1024);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 200);
        try (SchemaTopicRegistry schemas = new SchemaTopicRegistry(KafkaClients.common(bootstrapServers));
                Admin admin = Admin.create(KafkaClients.adminProps(bootstrapServers));
                KafkaConsumer<String, byte[]> consumer =
                        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            Plan plan = resumablePlan(consumer).orElse(null);
            if (plan == null) {
                plan = plan(admin, consumer);
                if (plan == null) return true;
                Files.deleteIfExists(doneFile());
                Files.deleteIfExists(completeFile());
                plan.save(dir);
            }
            // Once every key is done only the commit is left (it fails while a killed sink's group membership lingers).
            if (!Files.exists(completeFile())) {
                if (!backfillKeys(
                        plan,
                        new Snapshot(consumer, AvroCodec.stateRecord(schemas), AvroCodec.changeEvent(schemas), plan),
                        running)) {
                    return false;
                }
                Files.createFile(completeFile());
                DurableFiles.fsyncDirectory(dir);
            }
            Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
            for (int p : plan.backfill)
                commit.put(new TopicPartition(feed, p), new OffsetAndMetadata(plan.resume.get(p)));
            // Refused while another consumer of the group is active: two sinks of one tier would race.
            admin.alterConsumerGroupOffsets(Topics.sinkGroup(tier), commit)
                    .all()
                    .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            // The plan first: without it the offsets just committed rule, and the other files are never read.
            Files.deleteIfExists(Plan.file(dir));
            Files.deleteIfExists(doneFile());
            Files.deleteIfExists(completeFile());
            DurableFiles.fsyncDirectory(dir);
            LOG.info("{}: backfill done; following {} from {}", role, feed, plan.resume);
            return true;
        }
    }

    /** Every key of the snapshot not done yet; false if the sink stops first. */
    private boolean backfillKeys(Plan plan, Snapshot snapshot, BooleanSupplier running) throws Exception {
        Set<String> done = loadDone();
        List<String> keys =
                snapshot.keys().stream().filter(k -> !done.contains(k)).toList();
        if (done.isEmpty()) {
            LOG.info(
                    "{}: backfilling {} partition keys of feed partitions {} from {}; the feed then continues from {}",
                    role,
                    keys.size(),
                    plan.backfill,
                    Topics.STATE,
                    plan.resume);
        } else {
            LOG.info("{}: resuming the backfill: {} partition keys done, {} to go", role, done.size(), keys.size());
        }
        int pauseAfter = Integer.getInteger(PAUSE_AFTER_KEYS, 0);
        int count = 0;
        try (ProgressBar bar = ProgressBar.onStderr(keys.size(), "keys backfilled (tier " + tier + ")")) {
            for (String key : keys) {
                if (!running.getAsBoolean()) return false;
                KeyState state = snapshot.read(key);
                target.assertState(key, state.mailboxes, state.user, inlineContent ? snapshot::chunks : null);
                markDone(key);
                bar.advance(1, 0);
                if (++count == pauseAfter) {
                    LOG.warn("{}: backfill paused after {} keys ({})", role, count, PAUSE_AFTER_KEYS);
                    while (running.getAsBoolean()) TimeUnit.MILLISECONDS.sleep(100);
                    return false;
                }
            }
        }
        LOG.info("{}: {} partition keys backfilled this run", role, count);
        return running.getAsBoolean();
    }

    /** The plan a killed backfill left, if retention has not overtaken it meanwhile. */
    private Optional<Plan> resumablePlan(KafkaConsumer<String, byte[]> consumer) throws IOException {
        Optional<Plan> saved = Plan.load(dir);
        if (saved.isEmpty()) return saved;
        Map<TopicPartition, Long> start = consumer.beginningOffsets(partitions(consumer), TIMEOUT);
        for (int p : saved.get().backfill) {
            long logStart = start.getOrDefault(new TopicPartition(feed, p), 0L);
            if (saved.get().resume.get(p) < logStart) {
                LOG.error(
                        "{}: {}-{}: the interrupted backfill was to continue the feed at offset {}, below the log start {} now:"
                                + " starting the backfill again",
                        role,
                        feed,
                        p,
                        saved.get().resume.get(p),
                        logStart);
                return Optional.empty();
            }
        }
        return saved;
    }

    /** Which feed partitions need the state and where their feed continues; null when none does. */
    private Plan plan(Admin admin, KafkaConsumer<String, byte[]> consumer) throws Exception {
        List<TopicPartition> parts = partitions(consumer);
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(Topics.sinkGroup(tier))
                .partitionsToOffsetAndMetadata()
                .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        Map<TopicPartition, Long> start = consumer.beginningOffsets(parts, TIMEOUT);
        Map<TopicPartition, Long> end = consumer.endOffsets(parts, TIMEOUT); // read_committed: the last stable offset
        TreeSet<Integer> backfill = new TreeSet<>();
        TreeMap<Integer, Long> resume = new TreeMap<>();
        for (TopicPartition tp : parts) {
            OffsetAndMetadata om = committed.get(tp);
            long logStart = start.get(tp);
            long logEnd = end.get(tp);
            if (om == null) {
                // Never consumed: its feed began when streams first wrote it; what came before is only in the state.
                backfill.add(tp.partition());
                resume.put(tp.partition(), logStart);
            } else if (om.offset() < logStart) {
                LOG.error(
                        "{}: {}: committed offset {} is below the log start {}: retention deleted feed events this tier never"
                                + " applied; backfilling its partition keys from {}",
                        role,
                        tp,
                        om.offset(),
                        logStart,
                        Topics.STATE);
                backfill.add(tp.partition());
                resume.put(tp.partition(), logEnd);
            } else if (om.offset() > logEnd) {
                LOG.error(
                        "{}: {}: committed offset {} is beyond the end {} (was the feed deleted and created again?);"
                                + " backfilling its partition keys from {}",
                        role,
                        tp,
                        om.offset(),
                        logEnd,
                        Topics.STATE);
                backfill.add(tp.partition());
                resume.put(tp.partition(), logEnd);
            }
        }
        return backfill.isEmpty() ? null : new Plan(parts.size(), backfill, resume);
    }

    private List<TopicPartition> partitions(KafkaConsumer<String, byte[]> consumer) {
        return consumer.partitionsFor(feed, TIMEOUT).stream()
                .map(p -> new TopicPartition(feed, p.partition()))
                .toList();
    }

    private Path doneFile() {
        return dir.resolve("done");
    }

    private Path completeFile() {
        return dir.resolve("complete");
    }

    private Set<String> loadDone() throws IOException {
        if (!Files.exists(doneFile())) return Set.of();
        // A line cut by a crash names no key (keys are encoded): that key is simply done again.
        return Files.readAllLines(doneFile(), StandardCharsets.UTF_8).stream()
                .map(StoreLayout::decode)
                .collect(Collectors.toSet());
    }

    private void markDone(String key) throws IOException {
        try (FileChannel out = FileChannel.open(
                doneFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            out.write(StandardCharsets.UTF_8.encode(StoreLayout.encode(key) + "\n"));
            out.force(true);
        }
    }

    /** The feed partitions to backfill and the offset each feed partition continues from, as saved under data.dir. */
    private record Plan(int partitions, TreeSet<Integer> backfill, TreeMap<Integer, Long> resume) {
        static Path file(Path dir) {
            return dir.resolve("plan.properties");
        }

        void save(Path dir) throws IOException {
            DurableFiles.createDirectories(dir.resolve("tmp"));
            Properties p = new Properties();
            p.setProperty("partitions", String.valueOf(partitions));
            p.setProperty("backfill", backfill.stream().map(String::valueOf).collect(Collectors.joining(",")));
            resume.forEach((partition, offset) -> p.setProperty("resume." + partition, String.valueOf(offset)));
            StringWriter text = new StringWriter();
            p.store(
                    text,
                    "backfill of this tier in progress: feed partitions to backfill, and where the feed continues");
            DurableFiles.write(
                    dir.resolve("tmp"),
                    file(dir),
                    out -> out.write(text.toString().getBytes(StandardCharsets.UTF_8)));
        }

        static Optional<Plan> load(Path dir) throws IOException {
            if (!Files.exists(file(dir))) return Optional.empty();
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file(dir), StandardCharsets.UTF_8)));
            TreeSet<Integer> backfill = new TreeSet<>();
            for (String s : p.getProperty("backfill", "").split(",")) {
                if (!s.isBlank()) backfill.add(Integer.parseInt(s.trim()));
            }
            TreeMap<Integer, Long> resume = new TreeMap<>();
            for (String name : p.stringPropertyNames()) {
                if (name.startsWith("resume."))
                    resume.put(Integer.parseInt(name.substring(7)), Long.parseLong(p.getProperty(name)));
            }
            return Optional.of(new Plan(Integer.parseInt(p.getProperty("partitions")), backfill, resume));
        }
    }

    private record Location(int partition, long offset) {}

    private record KeyState(Map<String, MailboxState> mailboxes, Optional<UserState> user) {}

    /**
     * Where in {@code mailstream.state} the latest record of every state key of the backfilled
     * partition keys is, and where the chunks of their bodies are in the content topic.
     */
    private final class Snapshot {
        private final KafkaConsumer<String, byte[]> consumer;
        private final AvroCodec<StateRecord> states;
        private final AvroCodec<ChangeEvent> events;
        private final Map<String, Map<String, Location>> byKey = new TreeMap<>();
        private final Map<String, String> keyOfState = new HashMap<>();
        private final Map<String, Location> chunks = new HashMap<>();
        private final Map<TopicPartition, Long> ends = new HashMap<>();

        Snapshot(
                KafkaConsumer<String, byte[]> consumer,
                AvroCodec<StateRecord> states,
                AvroCodec<ChangeEvent> events,
                Plan plan) {
            this.consumer = consumer;
            this.states = states;
            this.events = events;
            Set<String> guids = new HashSet<>();
            TopicReader.readToEndWhileProgressing(consumer, Topics.STATE, TIMEOUT, r -> index(r, plan, guids));
            if (inlineContent && !guids.isEmpty()) {
                TopicReader.readToEndWhileProgressing(consumer, Topics.STREAMS_CONTENT, TIMEOUT, r -> {
                    int slash = r.key() == null ? -1 : r.key().indexOf('/');
                    if (slash < 0 || !guids.contains(r.key().substring(0, slash))) return;
                    if (r.value() == null) chunks.remove(r.key());
                    else chunks.put(r.key(), new Location(r.partition(), r.offset()));
                });
            }
        }

        /** Keeps the latest location of each state key whose partition key this tier receives and the plan backfills. */
        private void index(ConsumerRecord<String, byte[]> r, Plan plan, Set<String> guids) {
            String previous = keyOfState.remove(r.key());
            if (previous != null) byKey.get(previous).remove(r.key());
            if (r.value() == null) return;
            Object state = states.decode(r.value()).getState();
            String key = state instanceof MailboxState m ? m.getPartitionKey() : ((UserState) state).getUserId();
            if (!users.test(key) || !plan.backfill.contains(Topics.partitionOf(key, plan.partitions))) return;
            byKey.computeIfAbsent(key, k -> new HashMap<>()).put(r.key(), new Location(r.partition(), r.offset()));
            keyOfState.put(r.key(), key);
            if (state instanceof MailboxState m && !m.getDeleted()) {
                for (MessageRecord record : m.getRecords()) {
                    if (!StateFold.isExpunged(record)) guids.add(record.getGuid());
                }
            }
        }

        List<String> keys() {
            return byKey.entrySet().stream()
                    .filter(e -> !e.getValue().isEmpty())
                    .map(Map.Entry::getKey)
                    .toList();
        }

        KeyState read(String key) {
            Map<String, MailboxState> mailboxes = new TreeMap<>();
            UserState user = null;
            for (Map.Entry<String, Location> e : byKey.get(key).entrySet()) {
                byte[] value = fetch(Topics.STATE, e.getValue(), e.getKey());
                if (value == null) continue;
                Object state = states.decode(value).getState();
                if (state instanceof MailboxState m && e.getKey().startsWith(MAILBOX_PREFIX)) {
                    mailboxes.put(e.getKey().substring(MAILBOX_PREFIX.length()), m);
                } else if (state instanceof UserState u) {
                    user = u;
                }
            }
            if (user != null && user.getDeleted()) {
                // The canonical state keeps a deleted user's mailboxes as they were (UNUSER names only
                // the user); those not touched since the delete went with it.
                for (Map.Entry<String, MailboxState> m : mailboxes.entrySet()) {
                    if (!m.getValue().getDeleted() && m.getValue().getLastCaptureTime() <= user.getLastCaptureTime()) {
                        m.setValue(MailboxState.newBuilder(m.getValue())
                                .setDeleted(true)
                                .setRecords(new ArrayList<>())
                                .build());
                    }
                }
            }
            return new KeyState(mailboxes, Optional.ofNullable(user));
        }

        /** Every chunk of a body, in order, or none if any is missing. */
        List<MessageContent> chunks(String guid) {
            List<MessageContent> out = new ArrayList<>();
            for (int i = 0, count = 1; i < count; i++) {
                String chunkKey = guid + "/" + i;
                Location at = chunks.get(chunkKey);
                byte[] value = at == null ? null : fetch(Topics.STREAMS_CONTENT, at, chunkKey);
                if (value == null) return List.of();
                MessageContent chunk = (MessageContent) events.decode(value).getPayload();
                out.add(chunk);
                count = chunk.getChunkCount();
            }
            return out;
        }

        /** The record of {@code key} at {@code at}, or the newer one compaction kept in its place. */
        private byte[] fetch(String topic, Location at, String key) {
            TopicPartition tp = new TopicPartition(topic, at.partition);
            if (!consumer.assignment().equals(Set.of(tp))) consumer.assign(List.of(tp));
            consumer.seek(tp, at.offset);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            // The end as last read (every indexed location lies below it); read again before giving up,
            // in case compaction removed the record for a version written since.
            boolean refreshed = false;
            while (true) {
                long end = refreshed
                        ? ends.get(tp)
                        : ends.computeIfAbsent(
                                tp,
                                p -> consumer.endOffsets(List.of(p), TIMEOUT).get(p));
                if (consumer.position(tp, TIMEOUT) >= end) {
                    if (refreshed) return null;
                    ends.put(tp, consumer.endOffsets(List.of(tp), TIMEOUT).get(tp));
                    refreshed = true;
                    continue;
                }
                if (System.nanoTime() > deadline) {
                    throw new org.apache.kafka.common.errors.TimeoutException(
                            "reading " + tp + " at offset " + at.offset);
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
                    if (key.equals(r.key())) return r.value();
                }
            }
        }
    }
}
