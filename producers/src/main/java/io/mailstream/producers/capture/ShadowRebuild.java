package io.mailstream.producers.capture;

import io.mailstream.bridge.apply.EventCommands;
import io.mailstream.bridge.apply.MailboxTranslation;
import io.mailstream.bridge.apply.ReplicaUser;
import io.mailstream.bridge.capture.PartitionKeys;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.KafkaUnavailableException;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.MailboxNames;
import io.mailstream.csync.replica.ReplicaState;
import io.mailstream.schemas.AnnotationDelete;
import io.mailstream.schemas.AnnotationUpsert;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.UserDelete;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import io.mailstream.schemas.state.StateFold;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds a lost shadow from {@code mailstream.changes}: this server id's committed events,
 * folded with {@link StateFold} (the one definition of event semantics), then turned back into
 * the APPLYs that assert that state by the bridge's apply direction. A mailbox whose state
 * cannot be rebuilt (no header, unconvertible) is left out, so GET replies omit it and Cyrus
 * sends it whole again (spec 4.10); duplicates are harmless because events are upserts.
 */
final class ShadowRebuild {
    private static final Logger LOG = LoggerFactory.getLogger(ShadowRebuild.class);

    record Result(ReplicaState shadow, long lastSequence, int mailboxes, int skipped) {}

    private ShadowRebuild() {}

    static Result fromKafka(String bootstrapServers, SchemaResolver schemas, String serverId) {
        // Per mailbox, one fold per partition key: a key's events are in order, two keys' are not.
        Map<String, Map<String, MailboxState>> mailboxes = new LinkedHashMap<>();
        Map<String, UserState> users = new LinkedHashMap<>();
        List<CsyncCommand> serverAnnotations = new ArrayList<>();
        long lastSequence = 0;
        try (KafkaConsumer<String, ChangeEvent> consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrapServers, null),
                new StringDeserializer(),
                AvroSerdes.changeEvent(schemas).deserializer())) {
            List<TopicPartition> parts = consumer.partitionsFor(Topics.CHANGES, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(Topics.CHANGES, p.partition()))
                    .toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, Duration.ofSeconds(30));
            while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<String, ChangeEvent> r : consumer.poll(Duration.ofMillis(500))) {
                    ChangeEvent e = r.value();
                    if (e == null || !serverId.equals(e.getEnvelope().getSourceServerId())) {
                        continue;
                    }
                    lastSequence = Math.max(lastSequence, e.getEnvelope().getSequence());
                    Object p = e.getPayload();
                    String key = StateFold.stateKey(e);
                    if (p instanceof UserDelete u) {
                        dropUserMailboxes(mailboxes, u.getUserId());
                    }
                    if (key != null && key.startsWith(StateFold.mailboxKey(""))) {
                        mailboxes
                                .computeIfAbsent(key, k -> new LinkedHashMap<>())
                                .compute(
                                        e.getEnvelope().getPartitionKey(),
                                        (k, state) -> StateFold.applyToMailbox(state, e));
                    } else if (key != null) {
                        users.put(key, StateFold.applyToUser(users.get(key), e));
                    } else if ((p instanceof AnnotationUpsert || p instanceof AnnotationDelete)
                            && PartitionKeys.SERVER.equals(e.getEnvelope().getPartitionKey())) {
                        EventCommands.forPayload(p, "").ifPresent(serverAnnotations::add);
                    }
                }
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new KafkaUnavailableException("cannot read " + Topics.CHANGES + " to rebuild capture's shadow", e);
        }
        ReplicaState shadow = ShadowStore.newShadow();
        int rebuilt = 0;
        int skipped = 0;
        for (Map<String, MailboxState> copies : mailboxes.values()) {
            MailboxState state = current(copies);
            if (state == null) {
                continue;
            }
            try {
                if (state.getHeader() == null) {
                    throw new IllegalStateException("records without a header");
                }
                shadow.apply(new CsyncCommand.ApplyMailbox(MailboxTranslation.toMailbox(
                        state.getHeader(), state.getRecords(), state.getHeader().getPartition())));
                rebuilt++;
            } catch (RuntimeException e) {
                skipped++;
                LOG.warn(
                        "left mailbox {} out of the rebuilt shadow (Cyrus will resend it whole): {}",
                        state.getHeader() == null ? "?" : state.getHeader().getName(),
                        e.getMessage());
            }
        }
        for (UserState user : users.values()) {
            if (!user.getDeleted()) {
                EventCommands.forUser(user, ReplicaUser.from(List.of())).forEach(shadow::apply);
            }
        }
        serverAnnotations.forEach(shadow::apply);
        return new Result(shadow, lastSequence, rebuilt, skipped);
    }

    /**
     * A mailbox renamed to another key is left behind deleted under the old one, so its live copy
     * is the current one. Events written before renames were sent under both keys can leave two
     * live copies: the later one wins.
     */
    private static MailboxState current(Map<String, MailboxState> copies) {
        return copies.values().stream()
                .filter(m -> !m.getDeleted())
                .max(Comparator.comparingLong(MailboxState::getLastCaptureTime))
                .orElse(null);
    }

    /** APPLY UNUSER removes the user's mailboxes but its DELETED.* ones (as {@link ReplicaState#apply} does). */
    private static void dropUserMailboxes(Map<String, Map<String, MailboxState>> mailboxes, String userId) {
        mailboxes
                .values()
                .forEach(copies -> copies.values()
                        .removeIf(m -> m.getHeader() != null
                                && !MailboxNames.isDeleted(m.getHeader().getName())
                                && MailboxNames.userOf(m.getHeader().getName())
                                        .filter(userId::equals)
                                        .isPresent()));
    }
}
