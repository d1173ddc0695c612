package io.mailstream.producers.capture;

import io.mailstream.csync.dlist.DListLimits;
import io.mailstream.csync.dlist.DListReader;
import io.mailstream.csync.dlist.DListWriter;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.replica.ReplicaState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shadow on disk: a snapshot plus an append-only journal of what was applied since, in
 * {@code data.dir/capture/<server id>/}. Every entry is one frame, {@code length, CRC-32,
 * payload}, fsynced before capture answers OK. A torn or garbled journal tail (a crash in the
 * middle of a write) is cut off on open: the APPLY it held was never answered OK, so Cyrus
 * still has it. A bad snapshot means the state is lost, and capture rebuilds it from Kafka.
 *
 * <p>Snapshot {@code g} covers journal {@code g}; a new snapshot starts journal {@code g+1} before
 * the old one is deleted, so a crash at any point never replays a journal over a newer snapshot.
 *
 * <p>The store also keeps the per-source event sequence durable: it reserves blocks of
 * {@value #SEQUENCE_BLOCK} numbers ahead of use, so a restart continues above anything used. A
 * copy of the folder put back, or a journal cut short, knows less than Kafka does: capture checks
 * it against the source's newest event in Kafka on start ({@link #continueAbove}).
 */
final class ShadowStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShadowStore.class);
    static final int SEQUENCE_BLOCK = 10_000;
    private static final long SNAPSHOT_AFTER_BYTES = 64L << 20;
    private static final byte COMMAND = 'C';
    private static final byte FORGET = 'F';
    private static final byte SEQUENCE = 'Q';

    private final Path dir;
    private long generation;
    private FileChannel journal;
    private long nextSequence;
    private long reservedUpTo;

    private ShadowStore(Path dir) {
        this.dir = dir;
    }

    /**
     * Opens the store in {@code dir} and loads its shadow, or returns an empty result when there is
     * no usable state (first start, deleted, corrupt): the caller then rebuilds from Kafka and
     * calls {@link #reset}.
     */
    static Loaded open(Path dir) throws IOException {
        Files.createDirectories(dir);
        ShadowStore store = new ShadowStore(dir);
        return new Loaded(store, store.load());
    }

    /**
     * An empty shadow. It reports the SYNC_CRCs of its own records, as a real replica does: after a
     * CRC mismatch taken as sent, or a rebuild from Kafka, those are what the primary must compare with.
     */
    static ReplicaState newShadow() {
        return new ReplicaState(ReplicaState.CrcReport.COMPUTED);
    }

    record Loaded(ShadowStore store, Optional<ReplicaState> shadow) {}

    private Optional<ReplicaState> load() throws IOException {
        Optional<Long> gen = latestSnapshot();
        if (gen.isEmpty()) {
            return Optional.empty();
        }
        generation = gen.get();
        ReplicaState shadow = newShadow();
        try (InputStream in = Files.newInputStream(snapshotFile(generation))) {
            if (replay(in, shadow, false) < 0) {
                LOG.warn(
                        "shadow snapshot {} is corrupt; the state will be rebuilt from Kafka",
                        snapshotFile(generation));
                return Optional.empty();
            }
        }
        Path journalFile = journalFile(generation);
        long good = 0;
        if (Files.exists(journalFile)) {
            try (InputStream in = Files.newInputStream(journalFile)) {
                good = replay(in, shadow, true);
            }
        }
        journal = FileChannel.open(journalFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        if (journal.size() > good) {
            LOG.warn("cutting a torn journal tail of {} bytes from {}", journal.size() - good, journalFile);
            journal.truncate(good);
        }
        journal.position(good);
        nextSequence = reservedUpTo + 1;
        return Optional.of(shadow);
    }

    /** Starts over from {@code shadow} (rebuilt from Kafka) with sequences above {@code lastSequence}. */
    void reset(ReplicaState shadow, long lastSequence) throws IOException {
        nextSequence = lastSequence + 1;
        reservedUpTo = lastSequence;
        snapshot(shadow);
    }

    /** Appends an applied command (fsynced); snapshots when the journal has grown large. */
    void append(CsyncCommand command, ReplicaState shadow) throws IOException {
        write(journal, frame(COMMAND, commandBytes(command)));
        if (journal.size() > SNAPSHOT_AFTER_BYTES) {
            snapshot(shadow);
        }
    }

    /** Appends that a mailbox was dropped from the shadow (fsynced). */
    void appendForget(String mboxName) throws IOException {
        write(journal, frame(FORGET, mboxName.getBytes(StandardCharsets.UTF_8)));
    }

    /** The next event sequence number; durable before it is handed out. */
    long nextSequence() throws IOException {
        if (nextSequence > reservedUpTo) {
            long reserve = nextSequence + SEQUENCE_BLOCK - 1;
            // Memory follows the disk: after a failed write the next call tries to reserve again.
            write(
                    journal,
                    frame(SEQUENCE, ByteBuffer.allocate(8).putLong(reserve).array()));
            reservedUpTo = reserve;
        }
        return nextSequence++;
    }

    /** Highest sequence reserved on disk: every number this store handed out is at or below it. */
    long reservedUpTo() {
        return reservedUpTo;
    }

    /**
     * Continues above {@code used}, a sequence Kafka already holds for this source (a restored or
     * copied data.dir reserved less). The next number then takes a new durable reservation.
     */
    void continueAbove(long used) {
        if (used >= nextSequence) {
            nextSequence = used + 1;
            reservedUpTo = Math.max(reservedUpTo, used);
        }
    }

    /** Writes the whole shadow as snapshot g+1 with an empty journal g+1, then drops generation g. */
    void snapshot(ReplicaState shadow) throws IOException {
        long next = generation + 1;
        Path tmp = dir.resolve("snapshot.tmp");
        try (FileChannel out = FileChannel.open(
                tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            out.write(
                    frame(SEQUENCE, ByteBuffer.allocate(8).putLong(reservedUpTo).array()));
            for (CsyncCommand c : shadow.asCommands()) {
                out.write(frame(COMMAND, commandBytes(c)));
            }
            out.force(true);
        }
        FileChannel newJournal = FileChannel.open(
                journalFile(next),
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        Files.move(tmp, snapshotFile(next), StandardCopyOption.ATOMIC_MOVE);
        syncDirectory();
        if (journal != null) {
            journal.close();
        }
        Files.deleteIfExists(journalFile(generation));
        Files.deleteIfExists(snapshotFile(generation));
        journal = newJournal;
        generation = next;
    }

    @Override
    public void close() throws IOException {
        if (journal != null) {
            journal.close();
        }
    }

    /**
     * Applies the frames of {@code in} to {@code shadow}; returns the byte length of the good
     * frames, or -1 at the first bad one when {@code tolerateTail} is false (a snapshot must be whole).
     */
    private long replay(InputStream raw, ReplicaState shadow, boolean tolerateTail) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        long good = 0;
        while (true) {
            byte[] payload;
            try {
                int length = in.readInt();
                long crc = in.readInt() & 0xFFFFFFFFL;
                if (length < 1) {
                    return tolerateTail ? good : -1;
                }
                payload = in.readNBytes(length);
                if (payload.length < length || crc32(payload) != crc) {
                    return tolerateTail ? good : -1;
                }
            } catch (EOFException e) {
                return good; // clean end, or a tail torn inside the frame header
            }
            try {
                applyFrame(payload, shadow);
            } catch (IOException | CsyncException | RuntimeException e) {
                LOG.warn("undecodable shadow frame at byte {}: {}", good, e.toString());
                return tolerateTail ? good : -1;
            }
            good += 8 + payload.length;
        }
    }

    private void applyFrame(byte[] payload, ReplicaState shadow) throws IOException, CsyncException {
        byte type = payload[0];
        byte[] body = java.util.Arrays.copyOfRange(payload, 1, payload.length);
        switch (type) {
            case COMMAND -> {
                DListReader reader = new DListReader(new ByteArrayInputStream(body), DListLimits.DEFAULTS);
                String verb = reader.readWord();
                reader.skipBlanks();
                shadow.apply(CsyncCommand.decode(verb, reader.readKeyed()));
            }
            case FORGET -> shadow.forget(new String(body, StandardCharsets.UTF_8));
            case SEQUENCE ->
                reservedUpTo = Math.max(reservedUpTo, ByteBuffer.wrap(body).getLong());
            default -> throw new IOException("unknown frame type " + type);
        }
    }

    private static byte[] commandBytes(CsyncCommand command) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DListWriter writer = new DListWriter(out, DListWriter.Mode.CLIENT);
        try {
            writer.writeRaw(command.verb() + " ");
            writer.writeKeyed(command.toDKeyed());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static ByteBuffer frame(byte type, byte[] body) {
        byte[] payload = new byte[body.length + 1];
        payload[0] = type;
        System.arraycopy(body, 0, payload, 1, body.length);
        ByteBuffer b = ByteBuffer.allocate(8 + payload.length);
        b.putInt(payload.length).putInt((int) crc32(payload)).put(payload).flip();
        return b;
    }

    private static void write(FileChannel channel, ByteBuffer frame) throws IOException {
        while (frame.hasRemaining()) {
            channel.write(frame);
        }
        channel.force(false);
    }

    private static long crc32(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }

    private Optional<Long> latestSnapshot() throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("snapshot\\.\\d+"))
                    .map(n -> Long.parseLong(n.substring("snapshot.".length())))
                    .max(Long::compare);
        }
    }

    private Path snapshotFile(long gen) {
        return dir.resolve("snapshot." + gen);
    }

    private Path journalFile(long gen) {
        return dir.resolve("journal." + gen);
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
