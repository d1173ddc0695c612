package io.mailstream.bench;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.kafka.Topics;
import io.mailstream.operations.audit.Audit;
import io.mailstream.operations.audit.ChangeLogReader;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code mailstream audit} query time on a generated history: one user's year of mail as capture
 * would write it (a body, its record and the mailbox header per delivery; flag changes, moves,
 * expunges), produced straight into {@code mailstream.changes} of an embedded broker with record
 * timestamps spread over the year, plus other users' events on the same partitions. Then the
 * queries an auditor runs, each timed from a fresh reader (a new consumer) to the last line.
 */
public final class AuditBench {
    private static final String USER = "audited";
    private static final long YEAR_MS = 365L * 24 * 3600 * 1000;

    public static void main(String[] args) throws Exception {
        Args options = Args.parse(args, "events", "other-events", "body-bytes", "repeats");
        int events = options.integer("events", 1_000_000);
        int otherEvents = options.integer("other-events", 200_000);
        int bodyBytes = options.integer("body-bytes", 2048);
        int repeats = options.integer("repeats", 3);
        Report report = new Report("audit");
        Path dir = Files.createTempDirectory("mailstream-bench-audit-");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
            MailstreamConfig config = MailstreamConfig.of(Map.of(
                    "data.dir",
                    dir.resolve("data").toString(),
                    "kafka.bootstrap.servers",
                    kafka.bootstrapServers(),
                    "kafka.topic.partitions",
                    "3",
                    "kafka.topic.replication.factor",
                    "1",
                    "kafka.topic.min.insync.replicas",
                    "1"));
            TopicAdmin.ensureTopics(config, kafka.bootstrapServers());
            long yearStart = System.currentTimeMillis() - YEAR_MS - 3600_000;
            long genStart = System.nanoTime();
            History history = generate(kafka.bootstrapServers(), yearStart, events, otherEvents, bodyBytes);
            double genSeconds = (System.nanoTime() - genStart) / 1e9;
            report.row(
                    "history",
                    String.format(
                            "%,d events of user %s over a year (%,d deliveries, %,d bodies of %d bytes),"
                                    + " %,d events of other users on its partition; %.0f MB; generated in %.0f s",
                            history.userEvents,
                            USER,
                            history.deliveries,
                            history.deliveries,
                            bodyBytes,
                            history.otherEvents,
                            history.bytes / 1e6,
                            genSeconds));
            report.column("user_events", history.userEvents)
                    .column("other_events", history.otherEvents)
                    .column("body_bytes", bodyBytes)
                    .column("topic_mb", String.format("%.0f", history.bytes / 1e6));

            Map<String, Object> consumer = KafkaClients.consumerProps(kafka.bootstrapServers(), null);
            long mid = yearStart + YEAR_MS / 2;
            time(report, "read the partition only", "read", repeats, consumer, log -> {
                int[] n = {0};
                log.read(USER, 0, Long.MAX_VALUE, false, whole -> {}, e -> n[0]++);
                return n[0];
            });
            time(
                    report,
                    "whole timeline",
                    "timeline",
                    repeats,
                    consumer,
                    log -> Audit.timeline(log, new Audit.Query(USER, null, null, null, null, 0, Long.MAX_VALUE))
                            .entries()
                            .size());
            time(
                    report,
                    "one mailbox, whole year",
                    "mailbox",
                    repeats,
                    consumer,
                    log -> Audit.timeline(
                                    log,
                                    new Audit.Query(USER, "user." + USER + ".F3", null, null, null, 0, Long.MAX_VALUE))
                            .entries()
                            .size());
            time(
                    report,
                    "one message (--uid) ",
                    "uid",
                    repeats,
                    consumer,
                    log -> Audit.timeline(
                                    log, new Audit.Query(USER, "user." + USER, 1000L, null, null, 0, Long.MAX_VALUE))
                            .entries()
                            .size());
            time(
                    report,
                    "last 30 days (--since)",
                    "since30d",
                    repeats,
                    consumer,
                    log -> Audit.timeline(
                                    log,
                                    new Audit.Query(
                                            USER,
                                            null,
                                            null,
                                            null,
                                            null,
                                            yearStart + YEAR_MS - 30L * 24 * 3600 * 1000,
                                            Long.MAX_VALUE))
                            .entries()
                            .size());
            time(
                    report,
                    "--at mid-year, INBOX",
                    "at",
                    repeats,
                    consumer,
                    log -> Audit.at(log, USER, "user." + USER, mid).messages().size());
            report.column("repeats", repeats);
            report.finish();
        } finally {
            deleteTree(dir);
        }
    }

    private interface Query {
        int run(ChangeLogReader log);
    }

    private static void time(
            Report report, String label, String key, int repeats, Map<String, Object> consumer, Query query) {
        List<Double> ms = new ArrayList<>();
        int lines = 0;
        for (int i = 0; i < repeats; i++) {
            long start = System.nanoTime();
            try (ChangeLogReader log = new ChangeLogReader(consumer, SchemaResolver.none())) {
                lines = query.run(log);
            }
            ms.add((System.nanoTime() - start) / 1e6);
        }
        Stats s = Stats.of(ms);
        report.row(
                label,
                String.format(
                        "%,d lines; %.0f ms first, median %.0f ms (min %.0f .. max %.0f) of %d",
                        lines, ms.get(0), s.p50(), s.min(), s.max(), repeats));
        report.column(key + "_lines", lines)
                .column(key + "_ms_first", String.format("%.0f", ms.get(0)))
                .column(key + "_ms_p50", String.format("%.0f", s.p50()));
    }

    private record History(long userEvents, long otherEvents, long deliveries, long bytes) {}

    /** A mailbox of the generated user as the generator folds it. */
    private static final class Folder {
        final String uniqueId;
        final String name;
        long lastUid;
        long modseq;
        final TreeMap<Long, MessageRecord> live = new TreeMap<>();

        Folder(String uniqueId, String name) {
            this.uniqueId = uniqueId;
            this.name = name;
        }
    }

    private static History generate(String bootstrap, long yearStart, int events, int otherEvents, int bodyBytes) {
        Map<String, Object> props = KafkaClients.producerProps(bootstrap, null, 4 * 1024 * 1024);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        props.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        Random random = new Random(42);
        HexFormat hex = HexFormat.of();
        byte[] body = new byte[bodyBytes];
        random.nextBytes(body);
        long[] bytes = {0};
        long deliveries = 0;
        long sequence = 0;
        int partitions = 3;
        int userPartition = Topics.partitionOf(USER, partitions);
        List<String> others = new ArrayList<>();
        for (int i = 0; others.size() < 50; i++) {
            if (Topics.partitionOf("other" + i, partitions) == userPartition) others.add("other" + i);
        }
        try (KafkaProducer<String, ChangeEvent> producer = new KafkaProducer<>(
                props,
                new StringSerializer(),
                AvroSerdes.changeEvent(SchemaResolver.none()).serializer())) {
            List<Folder> folders = new ArrayList<>();
            folders.add(new Folder("inbox-" + USER, "user." + USER));
            for (int f = 1; f <= 12; f++)
                folders.add(new Folder("folder-" + f + "-" + USER, "user." + USER + ".F" + f));
            long total = (long) events + otherEvents;
            long written = 0;
            long userWritten = 0;
            long otherWritten = 0;
            while (userWritten < events || otherWritten < otherEvents) {
                long time = yearStart + (long) ((double) written / total * YEAR_MS);
                boolean other = otherWritten < otherEvents
                        && (userWritten >= events || random.nextDouble() < (double) otherEvents / total);
                List<ChangeEvent> change = new ArrayList<>();
                String key = other ? others.get(random.nextInt(others.size())) : USER;
                if (other) {
                    // Another user's delivery: its body and record share the partition.
                    String guid = hex.formatHex(randomBytes(random, 20));
                    change.add(event(
                            key,
                            null,
                            time,
                            ++sequence,
                            MessageContent.newBuilder()
                                    .setGuid(guid)
                                    .setSize(bodyBytes)
                                    .setData(ByteBuffer.wrap(body))
                                    .build()));
                    MessageRecord r = record(random.nextInt(100_000) + 1, sequence, time, List.of(), guid, bodyBytes);
                    change.add(event(
                            key,
                            "inbox-" + key,
                            time,
                            ++sequence,
                            RecordsUpsert.newBuilder()
                                    .setUniqueId("inbox-" + key)
                                    .setMailboxName("user." + key)
                                    .setRecords(List.of(r))
                                    .build()));
                    otherWritten += change.size();
                } else {
                    double op = random.nextDouble();
                    Folder inbox = folders.get(0);
                    if (op < 0.45 || inbox.live.size() < 10) {
                        String guid = hex.formatHex(randomBytes(random, 20));
                        change.add(event(
                                key,
                                null,
                                time,
                                ++sequence,
                                MessageContent.newBuilder()
                                        .setGuid(guid)
                                        .setSize(bodyBytes)
                                        .setData(ByteBuffer.wrap(body))
                                        .build()));
                        MessageRecord r = record(++inbox.lastUid, ++inbox.modseq, time, List.of(), guid, bodyBytes);
                        inbox.live.put(r.getUid(), r);
                        change.add(records(key, inbox, time, ++sequence, List.of(r)));
                        deliveries++;
                    } else if (op < 0.80) {
                        Folder f = pick(random, folders);
                        MessageRecord r = randomLive(random, f);
                        List<String> flags = new ArrayList<>(r.getFlags());
                        String flag = random.nextBoolean() ? "\\Seen" : "\\Flagged";
                        if (!flags.remove(flag)) flags.add(flag);
                        MessageRecord changed = MessageRecord.newBuilder(r)
                                .setFlags(flags)
                                .setModseq(++f.modseq)
                                .build();
                        f.live.put(r.getUid(), changed);
                        change.add(records(key, f, time, ++sequence, List.of(changed)));
                    } else if (op < 0.92) {
                        Folder from = pick(random, folders);
                        Folder to = folders.get(1 + random.nextInt(folders.size() - 1));
                        if (to == from) to = inbox;
                        MessageRecord r = randomLive(random, from);
                        MessageRecord arrived = MessageRecord.newBuilder(r)
                                .setUid(++to.lastUid)
                                .setModseq(++to.modseq)
                                .build();
                        to.live.put(arrived.getUid(), arrived);
                        change.add(records(key, to, time, ++sequence, List.of(arrived)));
                        change.add(header(key, to, time, ++sequence));
                        written += change.size();
                        sendAll(producer, change, bytes);
                        userWritten += change.size();
                        change.clear();
                        from.live.remove(r.getUid());
                        List<String> gone = new ArrayList<>(r.getFlags());
                        gone.add("\\Deleted");
                        gone.add("\\Expunged");
                        change.add(records(
                                key,
                                from,
                                time + 40,
                                ++sequence,
                                List.of(MessageRecord.newBuilder(r)
                                        .setFlags(gone)
                                        .setModseq(++from.modseq)
                                        .build())));
                        if (random.nextInt(10) == 0) {
                            change.add(event(
                                    key,
                                    from.uniqueId,
                                    time + 40,
                                    ++sequence,
                                    Expunge.newBuilder()
                                            .setUniqueId(from.uniqueId)
                                            .setMailboxName(from.name)
                                            .setUids(List.of(r.getUid()))
                                            .build()));
                        }
                        change.add(header(key, from, time + 40, ++sequence));
                        written += change.size();
                        sendAll(producer, change, bytes);
                        userWritten += change.size();
                        continue;
                    } else {
                        Folder f = pick(random, folders);
                        MessageRecord r = randomLive(random, f);
                        f.live.remove(r.getUid());
                        List<String> gone = new ArrayList<>(r.getFlags());
                        gone.add("\\Deleted");
                        gone.add("\\Expunged");
                        change.add(records(
                                key,
                                f,
                                time,
                                ++sequence,
                                List.of(MessageRecord.newBuilder(r)
                                        .setFlags(gone)
                                        .setModseq(++f.modseq)
                                        .build())));
                    }
                    Folder touched = folders.stream()
                            .filter(x -> x.uniqueId.equals(
                                    change.get(change.size() - 1).getEnvelope().getMailboxUniqueId()))
                            .findFirst()
                            .orElse(inbox);
                    change.add(header(key, touched, time, ++sequence));
                    userWritten += change.size();
                }
                written += change.size();
                sendAll(producer, change, bytes);
            }
            producer.flush();
            return new History(userWritten, otherWritten, deliveries, bytes[0]);
        }
    }

    private static Folder pick(Random random, List<Folder> folders) {
        for (int i = 0; i < 20; i++) {
            Folder f = folders.get(random.nextInt(folders.size()));
            if (!f.live.isEmpty()) return f;
        }
        return folders.get(0);
    }

    private static MessageRecord randomLive(Random random, Folder f) {
        Long uid = f.live.ceilingKey(1 + (long) (random.nextDouble() * f.lastUid));
        return f.live.get(uid != null ? uid : f.live.firstKey());
    }

    private static void sendAll(KafkaProducer<String, ChangeEvent> producer, List<ChangeEvent> change, long[] bytes) {
        for (ChangeEvent e : change) {
            producer.send(
                    new ProducerRecord<>(
                            Topics.CHANGES,
                            null,
                            e.getEnvelope().getCaptureTime(),
                            e.getEnvelope().getPartitionKey(),
                            e),
                    (md, ex) -> {
                        if (ex != null) throw new IllegalStateException(ex);
                        bytes[0] += md.serializedValueSize();
                    });
        }
    }

    private static MessageRecord record(long uid, long modseq, long time, List<String> flags, String guid, int size) {
        return MessageRecord.newBuilder()
                .setUid(uid)
                .setModseq(modseq)
                .setLastUpdated(time / 1000)
                .setFlags(flags)
                .setInternalDate(time / 1000)
                .setSize(size)
                .setGuid(guid)
                .build();
    }

    private static ChangeEvent records(String key, Folder f, long time, long sequence, List<MessageRecord> records) {
        return event(
                key,
                f.uniqueId,
                time,
                sequence,
                RecordsUpsert.newBuilder()
                        .setUniqueId(f.uniqueId)
                        .setMailboxName(f.name)
                        .setRecords(records)
                        .build());
    }

    private static ChangeEvent header(String key, Folder f, long time, long sequence) {
        return event(
                key,
                f.uniqueId,
                time,
                sequence,
                MailboxUpsert.newBuilder()
                        .setUniqueId(f.uniqueId)
                        .setName(f.name)
                        .setUidValidity(1700000000L)
                        .setLastUid(f.lastUid)
                        .setHighestModseq(f.modseq)
                        .setPartition("default")
                        .setAcl(key + "\tlrswipkxtecdan\t")
                        .build());
    }

    private static ChangeEvent event(String key, String uniqueId, long time, long sequence, Object payload) {
        Envelope envelope = Envelope.newBuilder()
                .setEventId(Long.toHexString(sequence) + "-bench")
                .setSourceServerId("primary-1")
                .setSite("dc1")
                .setTier("primary")
                .setEpoch(1)
                .setPartitionKey(key)
                .setMailboxUniqueId(uniqueId)
                .setCaptureTime(time)
                .setSequence(sequence)
                .build();
        return ChangeEvent.newBuilder()
                .setEnvelope(envelope)
                .setPayload(payload)
                .build();
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        } catch (java.io.IOException e) {
            System.err.println("could not delete " + dir + ": " + e);
        }
    }
}
