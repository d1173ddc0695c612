package io.mailstream.schemas.content;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.schemas.MessageContent;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContentChunkingTest {

    @TempDir
    Path dir;

    private final byte[] body = randomBytes(10_000);
    private final String guid = MessageChunker.sha1Hex(body);

    @Test
    void splitsIntoBoundedNumberedChunks() throws Exception {
        List<MessageContent> chunks = split(body, 4096);

        assertThat(chunks).hasSize(3);
        assertThat(chunks).extracting(MessageContent::getChunkIndex).containsExactly(0, 1, 2);
        assertThat(chunks).allSatisfy(c -> {
            assertThat(c.getChunkCount()).isEqualTo(3);
            assertThat(c.getGuid()).isEqualTo(guid);
            assertThat(c.getSize()).isEqualTo(10_000);
            assertThat(c.getPartition()).isEqualTo("p1");
        });
        assertThat(chunks).extracting(c -> c.getData().remaining()).containsExactly(4096, 4096, 1808);
    }

    @Test
    void emptyBodyIsOneEmptyChunk() throws Exception {
        List<MessageContent> chunks = split(new byte[0], 4096);

        assertThat(chunks).singleElement().satisfies(c -> {
            assertThat(c.getChunkCount()).isEqualTo(1);
            assertThat(c.getData().remaining()).isZero();
        });
        ContentAssembler assembler = ContentAssembler.inMemory();
        assertThat(assembler.accept(chunks.get(0))).isTrue();
        assertThat(assembler.bytes()).isEmpty();
    }

    @Test
    void fileRoundTripsThroughChunksWithDuplicates() throws Exception {
        Path source = Files.write(dir.resolve("source.eml"), body);
        List<MessageContent> chunks = new ArrayList<>();
        assertThat(new MessageChunker(1000).split(guid, "p1", source, chunks::add))
                .isEqualTo(10);
        Path target = dir.resolve("assembled.eml");

        try (ContentAssembler assembler = ContentAssembler.toFile(target)) {
            // a producer retry re-sends chunks 0-3 after chunk 4; the final chunk arrives twice
            List<MessageContent> delivered = new ArrayList<>(chunks.subList(0, 5));
            delivered.addAll(chunks.subList(0, 4));
            delivered.addAll(chunks.subList(5, 10));
            delivered.add(chunks.get(9));
            for (MessageContent chunk : delivered.subList(0, delivered.size() - 2)) {
                assertThat(assembler.accept(chunk)).isFalse();
                assertThat(target).doesNotExist();
            }
            assertThat(assembler.accept(delivered.get(delivered.size() - 2))).isTrue();
            assertThat(assembler.accept(delivered.get(delivered.size() - 1))).isTrue();
        }

        assertThat(target).hasBinaryContent(body);
        assertThat(dir).isDirectoryNotContaining("glob:**.part");
    }

    @Test
    void wrongHashFailsAndLeavesNoFile() throws Exception {
        byte[] tampered = body.clone();
        tampered[5000] ^= 1;
        List<MessageContent> chunks = new ArrayList<>();
        // the chunker already refuses a body that is not its GUID ...
        assertThatThrownBy(() -> new MessageChunker(4096).split(guid, "p1", tampered, chunks::add))
                .isInstanceOf(ContentIntegrityException.class)
                .hasMessageContaining("has SHA-1");
        assertThat(chunks).hasSize(3); // ... but only after handing out the chunks (the caller aborts)
        Path target = dir.resolve("bad.eml");
        ContentAssembler assembler = ContentAssembler.toFile(target);

        assembler.accept(chunks.get(0));
        assembler.accept(chunks.get(1));
        assertThatThrownBy(() -> assembler.accept(chunks.get(2)))
                .isInstanceOf(ContentIntegrityException.class)
                .hasMessageContaining("not its GUID " + guid);
        assertThat(target).doesNotExist();
        assertThat(dir).isEmptyDirectory();
        assertThatThrownBy(() -> assembler.accept(chunks.get(2))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aMissingChunkFails() throws Exception {
        List<MessageContent> chunks = split(body, 4096);
        ContentAssembler assembler = ContentAssembler.inMemory();
        assembler.accept(chunks.get(0));

        assertThatThrownBy(() -> assembler.accept(chunks.get(2)))
                .isInstanceOf(ContentIntegrityException.class)
                .hasMessageContaining("chunk 2 of " + guid + " arrived while expecting chunk 1 of 3");
    }

    @Test
    void aChunkOfAnotherMessageFails() throws Exception {
        List<MessageContent> other = split(randomBytes(5000), 4096);
        ContentAssembler assembler = ContentAssembler.inMemory();
        assembler.accept(split(body, 4096).get(0));

        assertThatThrownBy(() -> assembler.accept(other.get(1)))
                .isInstanceOf(ContentIntegrityException.class)
                .hasMessageContaining("while assembling " + guid);
    }

    @Test
    void aStreamShorterOrLongerThanItsSizeFails() {
        MessageChunker chunker = new MessageChunker(4096);
        assertThatThrownBy(() -> chunker.split(guid, "p1", new ByteArrayInputStream(body), body.length + 1, c -> {}))
                .isInstanceOf(EOFException.class)
                .hasMessageContaining("ended after 10000 of 10001 bytes");
        assertThatThrownBy(() -> chunker.split(guid, "p1", new ByteArrayInputStream(body), body.length - 1, c -> {}))
                .isInstanceOf(ContentIntegrityException.class)
                .hasMessageContaining("longer than its size");
    }

    @Test
    void assemblesInMemoryWhenChunksAreReadOnlyBuffers() throws Exception {
        ContentAssembler assembler = ContentAssembler.inMemory();
        for (MessageContent chunk : split(body, 3000)) {
            chunk.setData(chunk.getData().asReadOnlyBuffer()); // as after a decode into a shared buffer
            assembler.accept(chunk);
        }
        assertThat(assembler.bytes()).isEqualTo(body);
    }

    private List<MessageContent> split(byte[] bytes, int max) throws Exception {
        List<MessageContent> chunks = new ArrayList<>();
        new MessageChunker(max).split(MessageChunker.sha1Hex(bytes), "p1", bytes, chunks::add);
        return chunks;
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new Random(n).nextBytes(bytes);
        return bytes;
    }
}
