package io.mailstream.sinks;

import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MessageContent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.specific.SpecificDatumWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A user's append-only history: one JSON line per applied event, {@code {"appliedTime":ms,"event":E}}
 * with E the event in Avro's JSON encoding (readable with jq), bodies reduced to GUID and size.
 * Bytes past the length recorded in {@link AppliedMarks} belong to an apply that never completed
 * (a crash before its marks were written); they are cut off before the next append, and the
 * replayed events are written again exactly once.
 */
final class UserHistory {
    private static final Logger LOG = LoggerFactory.getLogger(UserHistory.class);
    private static final SpecificDatumWriter<ChangeEvent> WRITER = new SpecificDatumWriter<>(ChangeEvent.class);

    private UserHistory() {}

    /** Appends the lines after {@code committedLength}, fsyncs, and returns the new length. */
    static long append(Path file, long committedLength, List<String> lines) throws IOException {
        boolean created = !Files.exists(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            long size = channel.size();
            long at = committedLength;
            if (size > committedLength) {
                channel.truncate(committedLength);
            } else if (size < committedLength) {
                LOG.error(
                        "{} is {} bytes but {} were recorded as applied: it was damaged outside mailstream; appending after what is left",
                        file,
                        size,
                        committedLength);
                at = size;
            }
            channel.position(at);
            ByteBuffer bytes = ByteBuffer.wrap(String.join("", lines).getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) channel.write(bytes);
            channel.force(true);
            if (created) DurableFiles.fsyncDirectory(file.getParent());
            return channel.position();
        }
    }

    /** The history line of an event, ending in a newline. */
    static String line(ChangeEvent event, long appliedTime) {
        ChangeEvent recorded = event;
        if (event.getPayload() instanceof MessageContent content) {
            recorded = ChangeEvent.newBuilder(event)
                    .setPayload(MessageContent.newBuilder(content)
                            .setData(ByteBuffer.allocate(0))
                            .build())
                    .build();
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(512);
            JsonEncoder json = EncoderFactory.get().jsonEncoder(ChangeEvent.getClassSchema(), out);
            WRITER.write(recorded, json);
            json.flush();
            return "{\"appliedTime\":" + appliedTime + ",\"event\":" + out.toString(StandardCharsets.UTF_8) + "}\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory
        }
    }

    /** The committed lines (what a reader may trust), given the length recorded in the marks. */
    static List<String> read(Path file, long committedLength) throws IOException {
        if (!Files.exists(file)) return List.of();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer bytes = ByteBuffer.allocate((int) Math.min(channel.size(), committedLength));
            while (bytes.hasRemaining() && channel.read(bytes) > 0) {}
            String text = new String(bytes.array(), 0, bytes.position(), StandardCharsets.UTF_8);
            return text.isEmpty() ? List.of() : List.of(text.split("\n"));
        }
    }
}
