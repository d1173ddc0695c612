package io.mailstream.bridge.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.csync.model.Guid;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.content.MessageChunker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spool writes bodies without an fsync each, so it must never hand out one a crash cut short. */
class MessageSpoolTest {
    private static final byte[] BODY =
            ("Subject: spooled\r\n\r\n" + "x".repeat(5000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    private static final Guid GUID = new Guid(MessageChunker.sha1Hex(BODY));

    @TempDir
    Path dir;

    @Test
    void aBodyAssembledFromItsChunksIsWholeUnderItsGuid() throws Exception {
        try (MessageSpool spool = new MessageSpool(dir)) {
            chunks().forEach(c -> accept(spool, c));
            assertThat(spool.open(GUID)).get().extracting(b -> b.readAllBytes()).isEqualTo(BODY);
            assertThat(spool.spooled()).containsExactly(GUID.hex());
        }
    }

    @Test
    void aFileFromBeforeARestartThatDoesNotMatchItsGuidIsDroppedSoTheBodyIsFetchedAgain() throws Exception {
        // What an operating system crash can leave of an unforced file: its name, not all of its bytes.
        Files.write(dir.resolve(GUID.hex()), Arrays.copyOf(BODY, BODY.length / 2));
        try (MessageSpool spool = new MessageSpool(dir)) {
            assertThat(spool.open(GUID)).isEmpty();
            assertThat(dir.resolve(GUID.hex())).doesNotExist();
            // The redelivered chunks then make it whole again.
            chunks().forEach(c -> accept(spool, c));
            assertThat(spool.open(GUID)).get().extracting(b -> b.readAllBytes()).isEqualTo(BODY);
        }
    }

    @Test
    void aWholeFileFromBeforeARestartIsUsed() throws Exception {
        Files.write(dir.resolve(GUID.hex()), BODY);
        try (MessageSpool spool = new MessageSpool(dir)) {
            assertThat(spool.open(GUID)).get().extracting(b -> b.readAllBytes()).isEqualTo(BODY);
        }
    }

    private static List<MessageContent> chunks() throws Exception {
        List<MessageContent> out = new ArrayList<>();
        new MessageChunker(1024).split(GUID.hex(), "default", BODY, out::add);
        assertThat(out).hasSizeGreaterThan(1);
        return out;
    }

    private static void accept(MessageSpool spool, MessageContent chunk) {
        try {
            spool.accept(chunk);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
