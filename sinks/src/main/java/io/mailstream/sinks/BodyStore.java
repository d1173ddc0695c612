package io.mailstream.sinks;

import io.mailstream.core.errors.InvalidEventException;
import io.mailstream.schemas.MessageContent;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Message bodies, content-addressed by GUID and gzip-compressed (readable with zcat; the JDK's
 * zlib keeps the store free of native code). A body is written once, and only if the SHA-1 of its
 * bytes is its GUID and its length the announced size: a bad body leaves nothing behind. Chunks of
 * a large body are kept as files until the last one arrives (they may span polls and restarts),
 * then streamed through SHA-1 and gzip, so no whole body is ever held in memory.
 */
final class BodyStore {
    private final StoreLayout layout;

    BodyStore(StoreLayout layout) {
        this.layout = layout;
    }

    /** Applies one content event of {@code userDir}'s feed; idempotent. */
    void accept(Path userDir, MessageContent content) throws IOException {
        String guid = content.getGuid();
        Path body = layout.body(guid);
        Path incoming = layout.incoming(userDir, guid);
        if (Files.exists(body)) {
            DurableFiles.deleteTree(incoming); // another user's copy, or a replay: written once
            return;
        }
        int count = content.getChunkCount();
        int index = content.getChunkIndex();
        if (count <= 1) {
            write(guid, content.getSize(), List.of(() -> stream(content.getData())));
            return;
        }
        if (index < 0 || index >= count) {
            throw new InvalidEventException("chunk " + index + " of " + count + " of body " + guid);
        }
        DurableFiles.write(
                layout.tmp(),
                part(incoming, index),
                out -> stream(content.getData()).transferTo(out));
        List<Part> parts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Path file = part(incoming, i);
            if (!Files.exists(file)) return; // more chunks to come
            parts.add(() -> Files.newInputStream(file));
        }
        try {
            write(guid, content.getSize(), parts);
        } finally {
            // Assembled, or rejected: either way the chunks have served (a rejected body is not kept).
            DurableFiles.deleteTree(incoming);
        }
    }

    private static Path part(Path incoming, int index) {
        return incoming.resolve(index + ".part");
    }

    private interface Part {
        InputStream open() throws IOException;
    }

    private void write(String guid, long size, List<Part> parts) throws IOException {
        DurableFiles.write(layout.tmp(), layout.body(guid), out -> {
            MessageDigest sha1 = sha1();
            long length = 0;
            // finish(), not close(): DurableFiles fsyncs the file before closing it.
            GZIPOutputStream gzip = new GZIPOutputStream(out, 64 * 1024);
            byte[] buffer = new byte[64 * 1024];
            for (Part part : parts) {
                try (InputStream in = part.open()) {
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        sha1.update(buffer, 0, n);
                        gzip.write(buffer, 0, n);
                        length += n;
                    }
                }
            }
            gzip.finish();
            String actual = HexFormat.of().formatHex(sha1.digest());
            if (!actual.equals(guid) || length != size) {
                throw new InvalidEventException("body " + guid + " (" + size + " bytes) arrived as " + length
                        + " bytes with SHA-1 " + actual + ": not stored");
            }
        });
    }

    private static InputStream stream(ByteBuffer data) {
        ByteBuffer d = data.duplicate();
        if (d.hasArray()) return new ByteArrayInputStream(d.array(), d.arrayOffset() + d.position(), d.remaining());
        byte[] copy = new byte[d.remaining()];
        d.get(copy);
        return new ByteArrayInputStream(copy);
    }

    private static MessageDigest sha1() {
        try {
            return MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every JVM", e);
        }
    }
}
