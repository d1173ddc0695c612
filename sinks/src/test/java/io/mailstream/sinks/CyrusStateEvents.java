package io.mailstream.sinks;

import io.mailstream.bridge.capture.CaptureTranslator;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.csync.model.SieveEntry;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.SeenUpsert;
import io.mailstream.schemas.SieveActivate;
import io.mailstream.schemas.SieveUpsert;
import io.mailstream.schemas.Subscribe;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.mailstream.schemas.content.MessageChunker;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A stand-in for capture in sink tests: reads a real Cyrus's state for a user over csync
 * (GET USER, FULLMAILBOX, FETCH, FETCH_SIEVE) and writes what capture emits when sync_client pushes
 * it (content chunks, records, header last; then quota, subscriptions, sieve, seen). Like
 * sync_client, it sends only the mailboxes that changed since its last call, with the records
 * changed since the header it sent then, and a body only once per user: what the sink sees after
 * a restart is exactly the deltas a real pipeline carries.
 */
final class CyrusStateEvents {
    private final MessageChunker chunker = new MessageChunker(256 * 1024);
    /** uniqueid -> the header last sent, as sync_client's cache of the replica's state. */
    private final Map<String, MailboxUpsert> sent = new HashMap<>();
    /** user -> bodies already sent: capture answers RESERVE from what Kafka holds for the key. */
    private final Map<String, Set<String>> bodiesSent = new HashMap<>();

    private long sequence;

    /** Reads the users' whole state from the Cyrus at {@code sourceCsyncPort} and writes it to the tiers' feeds in one transaction. */
    void publish(int sourceCsyncPort, String bootstrapServers, List<String> users, String... tiers) throws Exception {
        publish(sourceCsyncPort, bootstrapServers, users, Set.of(), tiers);
    }

    /** As {@link #publish(int, String, List, String...)}, leaving the bodies out of the feeds of {@code tiersWithoutBodies}. */
    void publish(
            int sourceCsyncPort,
            String bootstrapServers,
            List<String> users,
            Set<String> tiersWithoutBodies,
            String... tiers)
            throws Exception {
        List<ChangeEvent> events = new ArrayList<>();
        try (CsyncClient csync =
                CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", sourceCsyncPort, "admin", "adminpw"))) {
            for (String user : users) events.addAll(user(csync, user));
        }
        produce(bootstrapServers, events, tiersWithoutBodies, tiers);
    }

    /** Writes the events to the tiers' feeds in one transaction, as capture commits a change. */
    static void produce(String bootstrapServers, List<ChangeEvent> events, String... tiers) throws Exception {
        produce(bootstrapServers, events, Set.of(), tiers);
    }

    /**
     * Writes the events to the tiers' feeds in one transaction, and every body also to the content
     * topic (key {@code <guid>/<chunk>}) as streams does; the feeds of {@code tiersWithoutBodies} get no bodies.
     */
    static void produce(
            String bootstrapServers, List<ChangeEvent> events, Set<String> tiersWithoutBodies, String... tiers)
            throws Exception {
        Map<String, Object> props = KafkaClients.producerProps(bootstrapServers, "test-capture", 1 << 20);
        try (SchemaTopicRegistry schemas = new SchemaTopicRegistry(props);
                var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            AvroCodec<ChangeEvent> codec = AvroCodec.changeEvent(schemas);
            producer.initTransactions();
            producer.beginTransaction();
            for (ChangeEvent e : events) {
                byte[] key = e.getEnvelope().getPartitionKey().getBytes(StandardCharsets.UTF_8);
                byte[] value = codec.encode(e);
                boolean body = e.getPayload() instanceof MessageContent;
                if (e.getPayload() instanceof MessageContent c) {
                    byte[] chunkKey = Topics.contentChunkKey(c.getGuid(), c.getChunkIndex())
                            .getBytes(StandardCharsets.UTF_8);
                    producer.send(new ProducerRecord<>(Topics.STREAMS_CONTENT, chunkKey, value));
                }
                for (String tier : tiers) {
                    if (body && tiersWithoutBodies.contains(tier)) continue;
                    producer.send(new ProducerRecord<>(Topics.feed(tier), key, value));
                }
            }
            producer.commitTransaction();
        }
    }

    List<ChangeEvent> user(CsyncClient source, String user) throws Exception {
        List<ChangeEvent> out = new ArrayList<>();
        Set<String> bodies = bodiesSent.computeIfAbsent(user, u -> new HashSet<>());
        List<CsyncReply> replies = source.execute(new CsyncCommand.GetUser(user));
        for (CsyncReply r : replies) {
            if (!(r instanceof CsyncReply.MailboxReply m) || m.mailbox().isHeaderOnly()) continue;
            Mailbox full = ((CsyncReply.MailboxReply) source.execute(
                                    new CsyncCommand.GetFullMailbox(m.mailbox().name()))
                            .get(0))
                    .mailbox();
            MailboxUpsert header = CaptureTranslator.header(full.header());
            MailboxUpsert before = sent.get(full.uniqueId());
            if (header.equals(before)) continue;
            long since = before == null ? -1 : before.getHighestModseq();
            List<MessageRecord> changed =
                    full.records().stream().filter(rec -> rec.modSeq() > since).toList();
            for (MessageRecord rec : changed) {
                if (rec.isExpunged() || !bodies.add(rec.guid().hex())) continue;
                CsyncReply.MessageReply body = (CsyncReply.MessageReply) source.execute(new CsyncCommand.GetFetch(
                                full.name(), full.partition(), full.uniqueId(), rec.guid(), rec.uid()))
                        .get(0);
                chunker.split(
                        rec.guid().hex(),
                        full.partition(),
                        body.file().body().readAllBytes(),
                        c -> out.add(event(user, full.uniqueId(), c)));
            }
            out.add(event(
                    user,
                    full.uniqueId(),
                    RecordsUpsert.newBuilder()
                            .setUniqueId(full.uniqueId())
                            .setMailboxName(full.name())
                            .setRecords(changed.stream()
                                    .map(CaptureTranslator::record)
                                    .toList())
                            .build()));
            out.add(event(user, full.uniqueId(), header));
            sent.put(full.uniqueId(), header);
        }
        List<ChangeEvent> activate = new ArrayList<>(); // after the scripts, whatever order Cyrus lists them in
        for (CsyncReply r : replies) {
            if (r instanceof CsyncReply.QuotaReply q) {
                Map<String, Long> limits = new LinkedHashMap<>();
                for (String res : List.of(
                        QuotaRoot.STORAGE, QuotaRoot.MESSAGE, QuotaRoot.ANNOTATION_STORAGE, QuotaRoot.NUM_FOLDERS)) {
                    q.quota().limit(res).ifPresent(v -> limits.put(res, v));
                }
                out.add(event(
                        user,
                        null,
                        QuotaUpsert.newBuilder()
                                .setRoot(q.quota().root())
                                .setLimits(limits)
                                .setModseq(q.quota().modSeq())
                                .build()));
            } else if (r instanceof CsyncReply.LsubReply l) {
                l.mboxNames().forEach(name -> out.add(event(user, null, new Subscribe(user, name))));
            } else if (r instanceof CsyncReply.SieveReply s
                    && s.sieve().fileName().endsWith(".script")) {
                SieveEntry script = ((CsyncReply.SieveReply) source.execute(new CsyncCommand.GetFetchSieve(
                                        user, s.sieve().fileName()))
                                .get(0))
                        .sieve();
                out.add(event(
                        user,
                        null,
                        new SieveUpsert(
                                user,
                                s.sieve().fileName(),
                                s.sieve().lastUpdate(),
                                ByteBuffer.wrap(script.content()))));
            } else if (r instanceof CsyncReply.SieveReply s && s.sieve().isActive()) {
                activate.add(event(user, null, new SieveActivate(user, s.sieve().fileName())));
            } else if (r instanceof CsyncReply.SeenReply s) {
                out.add(event(
                        user,
                        null,
                        SeenUpsert.newBuilder()
                                .setUserId(user)
                                .setUniqueId(s.seen().uniqueId())
                                .setLastRead(s.seen().lastRead())
                                .setLastUid(s.seen().lastUid())
                                .setLastChange(s.seen().lastChange())
                                .setSeenUids(s.seen().seenUids())
                                .build()));
            }
        }
        out.addAll(activate);
        return out;
    }

    private ChangeEvent event(String user, String uniqueId, SpecificRecord payload) {
        long now = System.currentTimeMillis();
        return ChangeEvent.newBuilder()
                .setEnvelope(Envelope.newBuilder()
                        .setEventId(UUID.randomUUID().toString())
                        .setSourceServerId("test")
                        .setSite("dc1")
                        .setTier("primary")
                        .setEpoch(1)
                        .setPartitionKey(user)
                        .setMailboxUniqueId(uniqueId)
                        .setCaptureTime(now)
                        .setSequence(++sequence)
                        .build())
                .setPayload(payload)
                .build();
    }
}
