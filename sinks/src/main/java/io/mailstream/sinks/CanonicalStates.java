package io.mailstream.sinks;

import io.mailstream.bridge.state.StateSource;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.mailstream.schemas.state.StateFold;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * The canonical state as streams publishes it to the compacted {@code mailstream.state} topic
 * (keyed {@code mailbox:<uniqueid>} and {@code user:<key>}), as a {@link StateSource}. One
 * mailbox or user is looked up by reading only the partition its key hashes to, from its start:
 * the complete record set a repair needs, fresh at every call. Listing users and their mailboxes
 * reads the whole topic once, keeping headers only, so that a check of millions of mailboxes
 * fits in memory.
 */
public final class CanonicalStates implements StateSource {
    private final SchemaTopicRegistry schemas;
    private final AvroCodec<StateRecord> codec;
    private final CompactedTopic topic;
    private Map<String, Map<String, MailboxState>> headersByKey;

    public CanonicalStates(String bootstrapServers) {
        this.schemas = new SchemaTopicRegistry(KafkaClients.common(bootstrapServers));
        this.codec = AvroCodec.stateRecord(schemas);
        this.topic = new CompactedTopic(bootstrapServers, Topics.STATE);
    }

    @Override
    public String describe() {
        return Topics.STATE;
    }

    /** The mailbox's canonical state with every record; empty when deleted or still without a header (a change in progress). */
    public Optional<MailboxState> mailbox(String uniqueId) throws Exception {
        return latest(StateFold.mailboxKey(uniqueId))
                .map(StateRecord::getState)
                .filter(s -> s instanceof MailboxState m && !m.getDeleted() && m.getHeader() != null)
                .map(s -> (MailboxState) s);
    }

    @Override
    public Optional<MailboxState> mailbox(String partitionKey, String uniqueId, String name) throws Exception {
        return mailbox(uniqueId).filter(m -> m.getPartitionKey().equals(partitionKey));
    }

    /** Every state of the mailbox still in the topic (not yet compacted away), oldest first; headerless and deleted ones left out. */
    @Override
    public List<MailboxState> versions(String partitionKey, String uniqueId) throws Exception {
        String key = StateFold.mailboxKey(uniqueId);
        List<MailboxState> out = new ArrayList<>();
        topic.scan(List.of(topic.partitionOf(key)), key::equals, (k, value) -> {
            if (value != null
                    && codec.decode(value).getState() instanceof MailboxState m
                    && !m.getDeleted()
                    && m.getHeader() != null
                    && m.getPartitionKey().equals(partitionKey)) {
                out.add(m);
            }
        });
        return out;
    }

    /** Deleted mailboxes too: their delete is a change a tier must have applied. */
    @Override
    public java.util.OptionalLong lastChange(String partitionKey, String uniqueId) throws Exception {
        return latest(StateFold.mailboxKey(uniqueId))
                .map(StateRecord::getState)
                .filter(s -> s instanceof MailboxState m && m.getPartitionKey().equals(partitionKey))
                .map(s -> java.util.OptionalLong.of(((MailboxState) s).getLastCaptureTime()))
                .orElse(java.util.OptionalLong.empty());
    }

    @Override
    public Optional<UserState> user(String partitionKey) throws Exception {
        return latest(StateFold.userKey(partitionKey))
                .map(StateRecord::getState)
                .filter(s -> s instanceof UserState u && !u.getDeleted())
                .map(s -> (UserState) s);
    }

    @Override
    public synchronized List<String> users() throws Exception {
        return new ArrayList<>(all().keySet());
    }

    /** Headers only, whatever {@code withRecords} asks: the records of one mailbox come from {@link #mailbox(String)}. */
    @Override
    public synchronized List<MailboxState> mailboxes(String partitionKey, boolean withRecords) throws Exception {
        List<MailboxState> out =
                new ArrayList<>(all().getOrDefault(partitionKey, Map.of()).values());
        out.sort(Comparator.comparing(m -> m.getHeader().getName()));
        return out;
    }

    /** Reads the whole topic again at the next listing (after a repair, say). */
    public synchronized void forget() {
        headersByKey = null;
    }

    private Map<String, Map<String, MailboxState>> all() throws Exception {
        if (headersByKey != null) return headersByKey;
        Map<String, MailboxState> mailboxes = new TreeMap<>();
        Map<String, Boolean> users = new TreeMap<>();
        String mailboxPrefix = StateFold.mailboxKey("");
        String userPrefix = StateFold.userKey("");
        int partitions = topic.partitions();
        topic.scan(IntStream.range(0, partitions).boxed().toList(), k -> true, (key, value) -> {
            if (key.startsWith(mailboxPrefix)) {
                if (value == null) {
                    mailboxes.remove(key);
                    return;
                }
                MailboxState m = (MailboxState) codec.decode(value).getState();
                if (m.getDeleted() || m.getHeader() == null) mailboxes.remove(key);
                else
                    mailboxes.put(
                            key,
                            MailboxState.newBuilder(m)
                                    .setRecords(new ArrayList<>())
                                    .build());
            } else if (key.startsWith(userPrefix)) {
                users.put(
                        key.substring(userPrefix.length()),
                        value != null && !((UserState) codec.decode(value).getState()).getDeleted());
            }
        });
        Map<String, Map<String, MailboxState>> byKey = new TreeMap<>();
        users.forEach((user, live) -> {
            if (live) byKey.computeIfAbsent(user, k -> new TreeMap<>());
        });
        for (MailboxState m : mailboxes.values()) {
            byKey.computeIfAbsent(m.getPartitionKey(), k -> new TreeMap<>())
                    .put(m.getHeader().getUniqueId(), m);
        }
        headersByKey = byKey;
        return byKey;
    }

    private Optional<StateRecord> latest(String key) throws Exception {
        byte[][] latest = new byte[1][];
        topic.scan(List.of(topic.partitionOf(key)), key::equals, (k, value) -> latest[0] = value);
        return latest[0] == null ? Optional.empty() : Optional.of(codec.decode(latest[0]));
    }

    @Override
    public void close() {
        topic.close();
        schemas.close();
    }
}
