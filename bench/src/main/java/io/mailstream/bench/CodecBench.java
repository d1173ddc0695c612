package io.mailstream.bench;

import io.mailstream.bridge.capture.CaptureContext;
import io.mailstream.bridge.capture.CaptureSource;
import io.mailstream.bridge.capture.CaptureTranslator;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.dlist.DKeyed;
import io.mailstream.csync.dlist.DListLimits;
import io.mailstream.csync.dlist.DListReader;
import io.mailstream.csync.dlist.DListWriter;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.codec.AvroSerdes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Codec throughput on real data: csync parse (DList + typed decode, as capture's server does it)
 * and write (as the replica sink's client does it) over the csync transcripts Cyrus 3.6.1 sent in
 * the reference lab, and Avro encode/decode of the ChangeEvents capture's translator makes of
 * those same commands. Each workload is warmed up, then timed in several fixed-length iterations;
 * the result is the median rate with the min..max spread of the iterations.
 */
public final class CodecBench {
    /** Capture's own value (private in Capture): at most this many index records per RecordsUpsert. */
    private static final int RECORDS_PER_EVENT = 2000;
    /** Results of the timed passes go here so the JIT cannot drop the work. */
    private static long blackhole;

    private CodecBench() {}

    /** One pass over the whole corpus; returns something derived from the work. */
    @FunctionalInterface
    private interface Pass {
        long run() throws Exception;
    }

    /** A command line of a transcript, parsed and typed. */
    private record Command(String verb, CsyncCommand command) {}

    public static void main(String[] args) throws Exception {
        Args options = Args.parse(args, "iterations", "iteration-ms", "warmup-ms");
        int iterations = options.integer("iterations", 10);
        int iterationMs = options.integer("iteration-ms", 1000);
        int warmupMs = options.integer("warmup-ms", 5000);
        Report report = new Report("codec");

        List<byte[]> streams = clientStreams(transcriptsDir());
        long streamBytes = streams.stream().mapToLong(b -> b.length).sum();
        List<Command> commands = new ArrayList<>();
        for (byte[] s : streams) {
            commands.addAll(parse(s));
        }
        List<ChangeEvent> events = translate(commands);
        Serde<ChangeEvent> serde = AvroSerdes.changeEvent();
        Serializer<ChangeEvent> serializer = serde.serializer();
        Deserializer<ChangeEvent> deserializer = serde.deserializer();
        List<byte[]> encoded = events.stream()
                .map(e -> serializer.serialize(Topics.CHANGES, e))
                .toList();
        long encodedBytes = encoded.stream().mapToLong(b -> b.length).sum();
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        long writtenBytes = write(commands, written);

        report.row(
                "corpus",
                streams.size() + " client streams, " + streamBytes + " bytes, " + commands.size()
                        + " APPLY/GET commands -> " + events.size() + " events, " + encodedBytes + " Avro bytes");
        report.row(
                "timing",
                "warm-up " + warmupMs + " ms, then " + iterations + " x " + iterationMs
                        + " ms; median (min .. max) of the iterations");

        Stats parse = passesPerSecond(warmupMs, iterations, iterationMs, () -> {
            long n = 0;
            for (byte[] s : streams) {
                n += parse(s).size();
            }
            return n;
        });
        Stats write = passesPerSecond(warmupMs, iterations, iterationMs, () -> write(commands, written));
        Stats encode = passesPerSecond(warmupMs, iterations, iterationMs, () -> {
            long n = 0;
            for (ChangeEvent e : events) {
                n += serializer.serialize(Topics.CHANGES, e).length;
            }
            return n;
        });
        Stats decode = passesPerSecond(warmupMs, iterations, iterationMs, () -> {
            long n = 0;
            for (byte[] b : encoded) {
                n += deserializer.deserialize(Topics.CHANGES, b).getEnvelope().getSequence();
            }
            return n;
        });

        record(report, "csync parse", "parse", parse, streamBytes, commands.size(), "commands");
        record(report, "csync write", "write", write, writtenBytes, commands.size(), "commands");
        record(report, "avro encode", "encode", encode, encodedBytes, events.size(), "events");
        record(report, "avro decode", "decode", decode, encodedBytes, events.size(), "events");
        report.column("iterations", iterations)
                .column("iteration_ms", iterationMs)
                .column("corpus_bytes", streamBytes)
                .column("commands", commands.size())
                .column("events", events.size());
        report.finish();
    }

    private static void record(
            Report report,
            String label,
            String prefix,
            Stats passes,
            long bytesPerPass,
            long itemsPerPass,
            String unit) {
        Stats mbPerSecond = scaled(passes, bytesPerPass / 1e6);
        Stats itemsPerSecond = scaled(passes, itemsPerPass);
        report.row(
                label,
                mbPerSecond.medianAndSpread("%.1f") + " MB/s, " + itemsPerSecond.medianAndSpread("%.0f") + " " + unit
                        + "/s");
        report.column(prefix + "_mb_s", String.format("%.2f", mbPerSecond.p50()))
                .column(prefix + "_mb_s_min", String.format("%.2f", mbPerSecond.min()))
                .column(prefix + "_mb_s_max", String.format("%.2f", mbPerSecond.max()))
                .column(prefix + "_" + unit + "_s", String.format("%.0f", itemsPerSecond.p50()));
    }

    private static Stats scaled(Stats s, double factor) {
        return new Stats(
                s.n(), s.min() * factor, s.p50() * factor, s.p90() * factor, s.p99() * factor, s.max() * factor);
    }

    /** Runs {@code pass} for the warm-up, then counts passes per second in each timed iteration. */
    private static Stats passesPerSecond(int warmupMs, int iterations, int iterationMs, Pass pass) throws Exception {
        long warmupEnd = System.nanoTime() + warmupMs * 1_000_000L;
        while (System.nanoTime() < warmupEnd) {
            blackhole += pass.run();
        }
        List<Double> rates = new ArrayList<>();
        for (int i = 0; i < iterations; i++) {
            long start = System.nanoTime();
            long end = start + iterationMs * 1_000_000L;
            long passes = 0;
            long now;
            do {
                blackhole += pass.run();
                passes++;
                now = System.nanoTime();
            } while (now < end);
            rates.add(passes / ((now - start) / 1e9));
        }
        return Stats.of(rates);
    }

    /**
     * Every line of a client stream: APPLY and GET as DList and then typed, as capture's csync
     * server reads them; the rest (AUTHENTICATE, COMPRESS, RESTART, EXIT) as text, skipped.
     */
    private static List<Command> parse(byte[] stream) throws IOException, CsyncException {
        DListReader reader = new DListReader(new ByteArrayInputStream(stream), DListLimits.DEFAULTS);
        List<Command> out = new ArrayList<>();
        while (!reader.atEof()) {
            reader.beginLine();
            String verb = reader.readWord();
            if (verb.equals("APPLY") || verb.equals("GET")) {
                reader.skipBlanks();
                DKeyed keyed = reader.readKeyed();
                reader.readEndOfLine();
                out.add(new Command(verb, CsyncCommand.decode(verb, keyed)));
            } else {
                reader.readLine();
            }
        }
        return out;
    }

    /** The commands as a csync client sends them (the replica sink's direction); returns the bytes written. */
    private static long write(List<Command> commands, ByteArrayOutputStream buffer) throws IOException {
        buffer.reset();
        DListWriter writer = new DListWriter(buffer, DListWriter.Mode.CLIENT);
        for (Command c : commands) {
            writer.writeRaw(c.verb() + " ");
            writer.writeKeyed(c.command().toDKeyed());
            writer.writeCrlf();
        }
        return buffer.size();
    }

    /**
     * The events capture would publish for these commands, with the translator configured as
     * capture configures it by default. The context is the least a translation needs: the
     * mailboxes seen so far by name (renames and deletes refer to them) and the bodies sent by
     * APPLY MESSAGE; no body counts as already held, so every body becomes content events.
     */
    private static List<ChangeEvent> translate(List<Command> commands) throws IOException {
        MailstreamConfig defaults = MailstreamConfig.of(Map.of());
        CaptureTranslator translator = new CaptureTranslator(
                RECORDS_PER_EVENT,
                defaults.get(ConfigKeys.KAFKA_MAX_RECORD_BYTES),
                defaults.get(ConfigKeys.CONTENT_CHUNK_BYTES));
        CaptureSource source = new CaptureSource("bench", defaults.get(ConfigKeys.SITE), 1);
        Map<String, Mailbox> mailboxes = new HashMap<>();
        Map<Guid, MessageFile> staged = new HashMap<>();
        CaptureContext context = new CaptureContext() {
            @Override
            public Optional<Mailbox> mailbox(String name) {
                return Optional.ofNullable(mailboxes.get(name));
            }

            @Override
            public List<MessageRecord> records(String uniqueId) {
                // The records of the last APPLY MAILBOX of it: the shadow's full index is not needed to time the codec.
                return mailboxes.values().stream()
                        .filter(m -> m.uniqueId().equals(uniqueId))
                        .findFirst()
                        .map(Mailbox::records)
                        .orElse(List.of());
            }

            @Override
            public Set<Guid> heldGuids(String partitionKey) {
                return Set.of();
            }

            @Override
            public Optional<MessageFile> staged(Guid guid) {
                return Optional.ofNullable(staged.get(guid));
            }
        };
        List<ChangeEvent> events = new ArrayList<>();
        for (Command c : commands) {
            translator.translate(
                    c.command(),
                    context,
                    change -> events.add(source.event(change, events.size(), System.currentTimeMillis())));
            if (c.command() instanceof CsyncCommand.ApplyMessage m) {
                m.files().forEach(f -> staged.put(f.guid(), f));
            } else if (c.command() instanceof CsyncCommand.ApplyMailbox m) {
                mailboxes.put(m.mailbox().name(), m.mailbox());
            } else if (c.command() instanceof CsyncCommand.ApplyRename r) {
                mailboxes.put(r.newName(), mailboxes.remove(r.oldName()));
            } else if (c.command() instanceof CsyncCommand.ApplyUnmailbox u) {
                mailboxes.remove(u.name());
            }
        }
        return events;
    }

    /**
     * The decoded client streams {@code csync/*.c2s}; the {@code *.wire.c2s} files are the same
     * streams still deflate-compressed as they crossed the wire, which a DList reader cannot read.
     */
    private static List<byte[]> clientStreams(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> paths = files.filter(p -> p.getFileName().toString().endsWith(".c2s"))
                    .filter(p -> !p.getFileName().toString().endsWith(".wire.c2s"))
                    .sorted()
                    .toList();
            if (paths.isEmpty()) {
                throw new IllegalStateException("no *.c2s transcripts in " + dir);
            }
            List<byte[]> out = new ArrayList<>();
            for (Path p : paths) {
                out.add(Files.readAllBytes(p));
            }
            return out;
        }
    }

    /** {@code $MAILSTREAM_SHARED/reference/cyrus-lab/transcripts/csync} (bench/run.sh defaults it to ../shared). */
    private static Path transcriptsDir() {
        String shared = System.getenv("MAILSTREAM_SHARED");
        if (shared == null || shared.isBlank()) {
            throw new IllegalStateException("MAILSTREAM_SHARED is not set (bench/run.sh sets it to the shared folder)");
        }
        return Path.of(shared, "reference", "cyrus-lab", "transcripts", "csync");
    }
}
