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
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.SeenUpsert;
import io.mailstream.schemas.SieveActivate;
import io.mailstream.schemas.SieveUpsert;
import io.mailstream.schemas.Subscribe;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.mailstream.schemas.content.MessageChunker;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A stand-in for capture in sink tests: reads a real Cyrus's whole state for a user over csync
 * (GET USER, FULLMAILBOX, FETCH, FETCH_SIEVE) and writes it as the events capture emits for a full
 * push (content chunks, records, header last; then quota, subscriptions, sieve, seen). Asserting
 * the same state again later is what capture sends after changes too: the sink must turn it
 * into deltas, and bodies go once per user, as sync_client uploads them.
 */
final class CyrusStateEvents {
    private final MessageChunker chunker = new MessageChunker(256 * 1024);
    private long sequence;

    /** Reads the users' whole state from the Cyrus at {@code sourceCsyncPort} and writes it to the tiers' feeds in one transaction. */
    void publish(int sourceCsyncPort, String bootstrapServers, List<String> users, String... tiers) throws Exception {
        List<ChangeEvent> events = new ArrayList<>();
        try (CsyncClient csync = CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", sourceCsyncPort, "admin", "adminpw"))) {
            for (String user : users) events.addAll(user(csync, user));
        }
        produce(bootstrapServers, events, tiers);
    }

    /** Writes the events to the tiers' feeds in one transaction, as capture commits a change. */
    static void produce(String bootstrapServers, List<ChangeEvent> events, String... tiers) throws Exception {
        Map<String, Object> props = KafkaClients.producerProps(bootstrapServers, "test-capture", 1 << 20);
        try (SchemaTopicRegistry schemas = new SchemaTopicRegistry(props);
             var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            AvroCodec<ChangeEvent> codec = AvroCodec.changeEvent(schemas);
            producer.initTransactions();
            producer.beginTransaction();
            for (ChangeEvent e : events) {
                byte[] key = e.getEnvelope().getPartitionKey().getBytes(StandardCharsets.UTF_8);
                byte[] value = codec.encode(e);
                for (String tier : tiers) producer.send(new ProducerRecord<>(Topics.feed(tier), key, value));
            }
            producer.commitTransaction();
        }
    }

    List<ChangeEvent> user(CsyncClient source, String user) throws Exception {
        List<ChangeEvent> out = new ArrayList<>();
        // As sync_client uploads a user's bodies: once per user batch, whatever folders share them.
        Set<String> bodiesSent = new HashSet<>();
        List<CsyncReply> replies = source.execute(new CsyncCommand.GetUser(user));
        for (CsyncReply r : replies) {
            if (!(r instanceof CsyncReply.MailboxReply m) || m.mailbox().isHeaderOnly()) continue;
            Mailbox full = ((CsyncReply.MailboxReply) source.execute(new CsyncCommand.GetFullMailbox(m.mailbox().name())).get(0)).mailbox();
            for (MessageRecord rec : full.records()) {
                if (rec.isExpunged() || !bodiesSent.add(rec.guid().hex())) continue;
                CsyncReply.MessageReply body = (CsyncReply.MessageReply) source.execute(new CsyncCommand.GetFetch(full.name(),
                        full.partition(), full.uniqueId(), rec.guid(), rec.uid())).get(0);
                chunker.split(rec.guid().hex(), full.partition(), body.file().body().readAllBytes(), c -> out.add(event(user, full.uniqueId(), c)));
            }
            out.add(event(user, full.uniqueId(), RecordsUpsert.newBuilder().setUniqueId(full.uniqueId()).setMailboxName(full.name())
                    .setRecords(full.records().stream().map(CaptureTranslator::record).toList()).build()));
            out.add(event(user, full.uniqueId(), CaptureTranslator.header(full.header())));
        }
        List<ChangeEvent> activate = new ArrayList<>(); // after the scripts, whatever order Cyrus lists them in
        for (CsyncReply r : replies) {
            if (r instanceof CsyncReply.QuotaReply q) {
                Map<String, Long> limits = new LinkedHashMap<>();
                for (String res : List.of(QuotaRoot.STORAGE, QuotaRoot.MESSAGE, QuotaRoot.ANNOTATION_STORAGE, QuotaRoot.NUM_FOLDERS)) {
                    q.quota().limit(res).ifPresent(v -> limits.put(res, v));
                }
                out.add(event(user, null, QuotaUpsert.newBuilder().setRoot(q.quota().root()).setLimits(limits).setModseq(q.quota().modSeq()).build()));
            } else if (r instanceof CsyncReply.LsubReply l) {
                l.mboxNames().forEach(name -> out.add(event(user, null, new Subscribe(user, name))));
            } else if (r instanceof CsyncReply.SieveReply s && s.sieve().fileName().endsWith(".script")) {
                SieveEntry script = ((CsyncReply.SieveReply) source.execute(new CsyncCommand.GetFetchSieve(user, s.sieve().fileName())).get(0)).sieve();
                out.add(event(user, null, new SieveUpsert(user, s.sieve().fileName(), s.sieve().lastUpdate(), ByteBuffer.wrap(script.content()))));
            } else if (r instanceof CsyncReply.SieveReply s && s.sieve().isActive()) {
                activate.add(event(user, null, new SieveActivate(user, s.sieve().fileName())));
            } else if (r instanceof CsyncReply.SeenReply s) {
                out.add(event(user, null, SeenUpsert.newBuilder().setUserId(user).setUniqueId(s.seen().uniqueId())
                        .setLastRead(s.seen().lastRead()).setLastUid(s.seen().lastUid()).setLastChange(s.seen().lastChange())
                        .setSeenUids(s.seen().seenUids()).build()));
            }
        }
        out.addAll(activate);
        return out;
    }

    private ChangeEvent event(String user, String uniqueId, SpecificRecord payload) {
        long now = System.currentTimeMillis();
        return ChangeEvent.newBuilder().setEnvelope(Envelope.newBuilder().setEventId(UUID.randomUUID().toString())
                .setSourceServerId("test").setSite("dc1").setTier("primary").setEpoch(1).setPartitionKey(user)
                .setMailboxUniqueId(uniqueId).setCaptureTime(now).setSequence(++sequence).build()).setPayload(payload).build();
    }
}
