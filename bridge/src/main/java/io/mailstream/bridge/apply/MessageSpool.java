package io.mailstream.bridge.apply;

import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.Guid;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.content.ContentAssembler;
import io.mailstream.schemas.content.MessageChunker;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Message bodies from a feed's {@link MessageContent} chunks, reassembled and verified into files
 * named by GUID, kept until the mailbox that needs them has been pushed. A file appears only when
 * whole and verified, and without an fsync per body (the bodies are in Kafka, and a backlog of
 * thousands of bodies would otherwise wait for as many disk flushes): a process that dies leaves
 * whole files, and a file this spool did not assemble itself (one from before a restart, which an
 * operating system crash may have cut short) is checked against its GUID when first opened, and
 * dropped if it does not match, so the caller fetches the body again. One spool per partition
 * key: its chunks arrive in order on one lane.
 */
public final class MessageSpool implements BodySource, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MessageSpool.class);

    private final Path dir;
    private final Map<String, ContentAssembler> assembling = new HashMap<>();
    /** GUIDs of the files known whole: assembled and verified by this spool, or checked since. */
    private final Set<String> verified = new HashSet<>();

    public MessageSpool(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    /** Takes one chunk. A chunk of a body already spooled (a redelivery) is ignored. */
    public void accept(MessageContent chunk) throws IOException {
        String guid = chunk.getGuid();
        Path file = dir.resolve(guid);
        if (Files.exists(file) && !assembling.containsKey(guid)) return;
        ContentAssembler assembler = assembling.get(guid);
        if (assembler == null) {
            if (chunk.getChunkIndex() != 0) {
                // The earlier chunks were consumed before a restart but never made a whole file.
                LOG.warn("chunk {} of {} without its predecessors: ignored", chunk.getChunkIndex(), guid);
                return;
            }
            assembler = ContentAssembler.toFileUnforced(file);
            assembling.put(guid, assembler);
        }
        try {
            if (assembler.accept(chunk)) {
                assembling.remove(guid);
                verified.add(guid);
            }
        } catch (IOException | RuntimeException e) {
            assembling.remove(guid);
            throw e;
        }
    }

    @Override
    public Optional<MessageBody> open(Guid guid) throws IOException {
        Path file = dir.resolve(guid.hex());
        if (!Files.exists(file)) return Optional.empty();
        if (!verified.contains(guid.hex())) {
            if (!guid.hex().equalsIgnoreCase(sha1(file))) {
                LOG.warn(
                        "spooled body {} does not match its GUID (cut short by a crash?): dropped, to be fetched again",
                        guid.hex());
                Files.deleteIfExists(file);
                return Optional.empty();
            }
            verified.add(guid.hex());
        }
        return Optional.of(MessageBody.ofFile(file));
    }

    private static String sha1(Path file) throws IOException {
        MessageDigest sha1 = MessageChunker.sha1();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[65536];
            for (int n; (n = in.read(buffer)) > 0; ) sha1.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(sha1.digest());
    }

    /** GUIDs of the whole bodies in the spool. */
    public Set<String> spooled() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> n.length() == 40 && !assembling.containsKey(n))
                    .collect(Collectors.toSet());
        }
    }

    /** Whether no body is half-assembled: then nothing of the spool lives only in memory. */
    public boolean idle() {
        return assembling.isEmpty();
    }

    /** Forgets a body once the replica holds it. */
    public void release(String guid) throws IOException {
        Files.deleteIfExists(dir.resolve(guid));
        verified.remove(guid);
    }

    /** Drops unfinished assemblies; whole bodies stay for the next start. */
    @Override
    public void close() throws IOException {
        for (ContentAssembler a : assembling.values()) a.close();
        assembling.clear();
    }
}
