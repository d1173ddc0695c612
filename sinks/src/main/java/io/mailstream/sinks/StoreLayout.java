package io.mailstream.sinks;

import io.mailstream.core.errors.InvalidEventException;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.SchemaResolver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where everything lives in an out-of-band store (documented in sinks/README.md); shared by the
 * writer ({@link StoreTarget}) and {@link StoreReader} so the two cannot disagree.
 */
final class StoreLayout {
    static final String FORMAT = "mailstream-store 1";
    private static final String MAILBOX_SUFFIX = ".avro";
    private static final Pattern GUID = Pattern.compile("[0-9a-f]{40}");
    /** State files are the same single-object Avro StateRecord as the mailstream.state topic. */
    static final AvroCodec<StateRecord> STATE = AvroCodec.stateRecord(SchemaResolver.none());

    final Path root;

    StoreLayout(Path root) {
        this.root = root;
    }

    Path formatFile() {
        return root.resolve("FORMAT");
    }

    Path tmp() {
        return root.resolve("tmp");
    }

    Path body(String guid) {
        checkGuid(guid);
        return root.resolve("bodies")
                .resolve(guid.substring(0, 2))
                .resolve(guid.substring(2, 4))
                .resolve(guid + ".gz");
    }

    Path users() {
        return root.resolve("users");
    }

    Path user(String partitionKey) {
        return users().resolve(encode(partitionKey));
    }

    Path mailboxes(Path userDir) {
        return userDir.resolve("mailboxes");
    }

    Path mailbox(Path userDir, String uniqueId) {
        return mailboxes(userDir).resolve(encode(uniqueId) + MAILBOX_SUFFIX);
    }

    /** The uniqueids of the mailbox files in a user's folder. */
    List<String> mailboxIds(Path userDir) throws IOException {
        Path dir = mailboxes(userDir);
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(MAILBOX_SUFFIX))
                    .map(n -> decode(n.substring(0, n.length() - MAILBOX_SUFFIX.length())))
                    .sorted()
                    .toList();
        }
    }

    Path userState(Path userDir) {
        return userDir.resolve("user.avro");
    }

    Path history(Path userDir) {
        return userDir.resolve("history.jsonl");
    }

    Path applied(Path userDir) {
        return userDir.resolve("applied.properties");
    }

    /** Chunks of a body still being received, per user so that two users' copies never meet. */
    Path incoming(Path userDir, String guid) {
        checkGuid(guid);
        return userDir.resolve("incoming").resolve(guid);
    }

    static void checkGuid(String guid) {
        if (!GUID.matcher(guid).matches()) throw new InvalidEventException("not a message GUID: '" + guid + "'");
    }

    static Optional<StateRecord> readState(Path file) throws IOException {
        if (!Files.exists(file)) return Optional.empty();
        return Optional.of(STATE.decode(Files.readAllBytes(file)));
    }

    /**
     * A userid or uniqueid as one safe file name: bytes outside {@code [A-Za-z0-9._@+-]} (and a
     * leading dot) become %XX, so any Cyrus name maps to exactly one folder and back.
     */
    static String encode(String name) {
        StringBuilder sb = new StringBuilder();
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            boolean plain = (b >= 'a' && b <= 'z')
                    || (b >= 'A' && b <= 'Z')
                    || (b >= '0' && b <= '9')
                    || b == '_'
                    || b == '@'
                    || b == '+'
                    || b == '-'
                    || (b == '.' && i > 0);
            if (plain) sb.append((char) b);
            else sb.append('%').append(String.format("%02X", b));
        }
        return sb.toString();
    }

    static String decode(String fileName) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < fileName.length(); i++) {
            char c = fileName.charAt(i);
            if (c == '%') {
                out.write(Integer.parseInt(fileName.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
