package io.mailstream.schemas.content;

import io.mailstream.schemas.MessageContent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Reassembles one message from its {@link MessageContent} chunks as they arrive on a partition:
 * in order, ignoring re-deliveries of chunks already taken (at-least-once delivery), and
 * verifying size and SHA-1 = GUID before the result is visible. A file target is written to a
 * temporary file next to it and moved into place only when verified.
 */
public final class ContentAssembler implements AutoCloseable {

    private final Path target; // null: in memory
    private final boolean forceToDisk;
    private final Path partial;
    private final FileChannel channel;
    private final OutputStream sink;
    private final MessageDigest sha1 = MessageChunker.sha1();
    private String guid;
    private long size;
    private int chunkCount;
    private int next;
    private long written;
    private boolean complete;
    private boolean failed;

    private ContentAssembler(Path target, boolean forceToDisk) throws IOException {
        this.target = target;
        this.forceToDisk = forceToDisk;
        if (target == null) {
            partial = null;
            channel = null;
            sink = new ByteArrayOutputStream();
        } else {
            Path dir = target.toAbsolutePath().getParent();
            partial = Files.createTempFile(dir, target.getFileName() + ".", ".part");
            channel = FileChannel.open(partial, StandardOpenOption.WRITE);
            sink = Channels.newOutputStream(channel);
        }
    }

    public static ContentAssembler inMemory() {
        try {
            return new ContentAssembler(null, false);
        } catch (IOException e) {
            throw new IllegalStateException("no I/O in memory", e);
        }
    }

    /** Assembles into {@code target}, which appears only once the whole verified message is there. */
    public static ContentAssembler toFile(Path target) throws IOException {
        return new ContentAssembler(target, true);
    }

    /**
     * As {@link #toFile}, but without forcing the file to disk before it appears: for a cache of
     * bodies that can be fetched again, whose reader verifies what an operating system crash may
     * have left (the name can survive without all of its bytes). An fsync per body is what limits
     * such a cache under a backlog.
     */
    public static ContentAssembler toFileUnforced(Path target) throws IOException {
        return new ContentAssembler(target, false);
    }

    /**
     * Takes the next chunk; returns whether the message is complete and verified. A chunk already
     * taken is ignored; a gap, a chunk of another message, or a wrong size or SHA-1 fails, after
     * which this assembler is spent.
     */
    public boolean accept(MessageContent chunk) throws IOException {
        if (failed) {
            throw new IllegalStateException("assembly of " + guid + " already failed");
        }
        try {
            return take(chunk);
        } catch (IOException | RuntimeException e) {
            failed = true;
            discard();
            throw e;
        }
    }

    private boolean take(MessageContent chunk) throws IOException {
        if (guid == null) {
            guid = chunk.getGuid();
            size = chunk.getSize();
            chunkCount = chunk.getChunkCount();
        } else if (!guid.equals(chunk.getGuid()) || size != chunk.getSize() || chunkCount != chunk.getChunkCount()) {
            throw new ContentIntegrityException("chunk of " + chunk.getGuid() + " (" + chunk.getSize() + " bytes, "
                    + chunk.getChunkCount() + " chunks) while assembling " + guid + " (" + size + " bytes, "
                    + chunkCount + " chunks)");
        }
        int index = chunk.getChunkIndex();
        if (index < next) {
            return complete; // a re-delivery: the chunk's bytes are already written
        }
        if (index > next || index >= chunkCount) {
            throw new ContentIntegrityException(
                    "chunk " + index + " of " + guid + " arrived while expecting chunk " + next + " of " + chunkCount);
        }
        ByteBuffer data = chunk.getData().duplicate();
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        written += bytes.length;
        if (written > size) {
            throw new ContentIntegrityException("chunks of " + guid + " exceed its size " + size);
        }
        sha1.update(bytes);
        sink.write(bytes);
        next++;
        if (next == chunkCount) {
            finish();
        }
        return complete;
    }

    private void finish() throws IOException {
        if (written != size) {
            throw new ContentIntegrityException(guid + ": chunks hold " + written + " bytes, expected " + size);
        }
        String actual = HexFormat.of().formatHex(sha1.digest());
        if (!actual.equalsIgnoreCase(guid)) {
            throw new ContentIntegrityException("assembled message has SHA-1 " + actual + ", not its GUID " + guid);
        }
        if (channel != null) {
            if (forceToDisk) {
                channel.force(true); // the file must be whole on disk before it appears under its name
            }
            sink.close();
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        complete = true;
    }

    public boolean isComplete() {
        return complete;
    }

    /** The assembled message (in-memory assembler, once complete). */
    public byte[] bytes() {
        if (!complete || target != null) {
            throw new IllegalStateException(
                    target != null ? "assembled into " + target : "message " + guid + " incomplete");
        }
        return ((ByteArrayOutputStream) sink).toByteArray();
    }

    /** Drops an incomplete assembly (its temporary file); a complete one is kept. */
    @Override
    public void close() throws IOException {
        if (!complete) {
            discard();
        }
    }

    private void discard() throws IOException {
        sink.close();
        if (partial != null) {
            Files.deleteIfExists(partial);
        }
    }
}
