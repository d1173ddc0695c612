package io.mailstream.schemas.content;

import io.mailstream.schemas.MessageContent;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * Splits a message body into {@link MessageContent} events of at most {@code maxChunkBytes} data
 * bytes, so that no Kafka record exceeds the broker's limit. Streams the body: only the chunk
 * being handed out is in memory. An empty body is one empty chunk.
 */
public final class MessageChunker {

    private final int maxChunkBytes;

    public MessageChunker(int maxChunkBytes) {
        if (maxChunkBytes <= 0) {
            throw new IllegalArgumentException("maxChunkBytes must be positive: " + maxChunkBytes);
        }
        this.maxChunkBytes = maxChunkBytes;
    }

    /** Like {@link #split(String, String, InputStream, long, Consumer)} for a body in memory. */
    public int split(String guid, String partition, byte[] body, Consumer<MessageContent> out)
            throws ContentIntegrityException {
        try {
            return split(guid, partition, new ByteArrayInputStream(body), body.length, out);
        } catch (ContentIntegrityException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException("reading a byte array cannot fail", e);
        }
    }

    /** Like {@link #split(String, String, InputStream, long, Consumer)} for a file. */
    public int split(String guid, String partition, Path file, Consumer<MessageContent> out) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return split(guid, partition, in, Files.size(file), out);
        }
    }

    /**
     * Hands {@code out} the chunks of a {@code size}-byte body, in order, and returns their count.
     * Fails if the stream is shorter or longer than {@code size}, or, after the last chunk, if the
     * body's SHA-1 is not {@code guid}; a transactional caller then aborts what it sent.
     */
    public int split(String guid, String partition, InputStream body, long size, Consumer<MessageContent> out)
            throws IOException {
        long count = size == 0 ? 1 : (size + maxChunkBytes - 1) / maxChunkBytes;
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(size + " bytes need more than 2^31 chunks of " + maxChunkBytes);
        }
        MessageDigest sha1 = sha1();
        long offset = 0;
        for (int index = 0; index < count; index++) {
            int length = (int) Math.min(maxChunkBytes, size - offset);
            byte[] data = body.readNBytes(length);
            if (data.length < length) {
                throw new EOFException(
                        "message " + guid + " ended after " + (offset + data.length) + " of " + size + " bytes");
            }
            sha1.update(data);
            offset += length;
            out.accept(MessageContent.newBuilder()
                    .setGuid(guid)
                    .setSize(size)
                    .setPartition(partition)
                    .setChunkIndex(index)
                    .setChunkCount((int) count)
                    .setData(ByteBuffer.wrap(data))
                    .build());
        }
        if (body.read() != -1) {
            throw new ContentIntegrityException("message " + guid + " is longer than its size " + size);
        }
        String actual = HexFormat.of().formatHex(sha1.digest());
        if (!actual.equalsIgnoreCase(guid)) {
            throw new ContentIntegrityException("message " + guid + " has SHA-1 " + actual);
        }
        return (int) count;
    }

    /** The GUID Cyrus gives a message: the SHA-1 of its bytes, 40 lower-case hex digits. */
    public static String sha1Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha1().digest(bytes));
    }

    /** A fresh SHA-1 digest: a message GUID is the SHA-1 of its bytes. */
    public static MessageDigest sha1() {
        try {
            return MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-1", e);
        }
    }
}
