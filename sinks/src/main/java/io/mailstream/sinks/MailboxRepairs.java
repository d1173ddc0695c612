package io.mailstream.sinks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * Mailboxes whose change was dead-lettered, so the target may lack some of their records: one empty
 * file per uniqueid, so that the mark outlives a restart (what the sink had folded does not). The
 * next push of a marked mailbox completes it from the canonical state first.
 */
final class MailboxRepairs {
    private final Path dir;

    MailboxRepairs(Path dir) {
        this.dir = dir;
    }

    /** Durable when it returns: a crash after the dead letter is written cannot lose the mark. */
    void mark(String uniqueId) throws IOException {
        Path file = file(uniqueId);
        if (Files.exists(file)) return;
        DurableFiles.createDirectories(dir);
        Files.createFile(file);
        DurableFiles.fsyncDirectory(dir);
    }

    boolean isMarked(String uniqueId) {
        return Files.exists(file(uniqueId));
    }

    void done(String uniqueId) throws IOException {
        Files.deleteIfExists(file(uniqueId));
    }

    private Path file(String uniqueId) {
        return dir.resolve(HexFormat.of().formatHex(uniqueId.getBytes(StandardCharsets.UTF_8)));
    }
}
