package io.mailstream.sinks;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe file writes: a file is written in full to the store's tmp folder, fsynced, renamed
 * into place atomically and its folder fsynced, so after a crash a path holds either the old or the
 * new content, never a mix. tmp lives on the same file system as the store (rename stays atomic)
 * and is emptied when the store opens, so leftovers of a crash are never mistaken for data.
 */
final class DurableFiles {
    private DurableFiles() {}

    /** Writes the content, then renames. */
    interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Writes {@code target} atomically; if {@code content} throws, nothing is left behind. */
    static void write(Path tmpDir, Path target, Content content) throws IOException {
        Path tmp = Files.createTempFile(tmpDir, target.getFileName().toString() + ".", ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
                content.writeTo(out);
                out.flush();
                channel.force(true);
            }
            createDirectories(target.getParent());
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            fsyncDirectory(target.getParent());
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Creates missing folders and fsyncs each new one's parent, so the new entries survive a crash too. */
    static void createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) return;
        createDirectories(dir.getParent());
        try {
            Files.createDirectory(dir);
        } catch (java.nio.file.FileAlreadyExistsException raced) {
            return; // another user's worker created the same body folder
        }
        fsyncDirectory(dir.getParent());
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** Deletes a folder tree (a body's chunk folder once assembled or rejected). */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
