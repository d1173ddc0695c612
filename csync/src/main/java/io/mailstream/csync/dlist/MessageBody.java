package io.mailstream.csync.dlist;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The bytes of a file literal: either held in memory (small) or in a file. Bodies read off the
 * wire above the spool threshold live in a temp file that {@link #close()} deletes; bodies made
 * with {@link #ofFile} belong to the caller and are never deleted.
 */
public final class MessageBody implements AutoCloseable {
    private final byte[] bytes;
    private final Path file;
    private final long size;
    private final boolean ownsFile;
    private volatile String sha1;

    private MessageBody(byte[] bytes, Path file, long size, boolean ownsFile, String sha1) {
        this.bytes = bytes;
        this.file = file;
        this.size = size;
        this.ownsFile = ownsFile;
        this.sha1 = sha1;
    }

    public static MessageBody of(byte[] bytes) {
        return new MessageBody(bytes.clone(), null, bytes.length, false, null);
    }

    /** A body streamed from an existing file, e.g. a message in a Cyrus spool. */
    public static MessageBody ofFile(Path file) throws IOException {
        return new MessageBody(null, file, Files.size(file), false, null);
    }

    static MessageBody inMemory(byte[] bytes, String sha1) {
        return new MessageBody(bytes, null, bytes.length, false, sha1);
    }

    static MessageBody spooled(Path file, long size, String sha1) {
        return new MessageBody(null, file, size, true, sha1);
    }

    public long size() {
        return size;
    }

    public boolean isSpooled() {
        return file != null;
    }

    public InputStream open() throws IOException {
        return bytes != null ? new ByteArrayInputStream(bytes) : Files.newInputStream(file);
    }

    /** Whole content in heap; only for bodies known to be small. */
    public byte[] readAllBytes() {
        if (bytes != null) {
            return bytes.clone();
        }
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SHA-1 of the bytes as 40 lower-case hex digits: the Cyrus message GUID (spec 2.5). */
    public String sha1Hex() {
        String s = sha1;
        if (s == null) {
            try (InputStream in = open()) {
                MessageDigest md = sha1Digest();
                byte[] buf = new byte[65536];
                int n;
                while ((n = in.read(buf)) > 0) {
                    md.update(buf, 0, n);
                }
                s = HexFormat.of().formatHex(md.digest());
                sha1 = s;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return s;
    }

    boolean contentEquals(MessageBody other) {
        if (other.size != size) {
            return false;
        }
        if (bytes != null && other.bytes != null) {
            return Arrays.equals(bytes, other.bytes);
        }
        return sha1Hex().equals(other.sha1Hex());
    }

    static MessageDigest sha1Digest() {
        try {
            return MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JRE has SHA-1", e);
        }
    }

    @Override
    public void close() {
        if (ownsFile) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
