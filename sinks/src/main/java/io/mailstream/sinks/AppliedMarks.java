package io.mailstream.sinks;

import io.mailstream.schemas.Envelope;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * What a user's folder has applied: per source server the highest sequence (sequences grow in
 * commit order within a partition, so anything at or below it is a duplicate) and the event ids
 * seen at that sequence, plus the length of the history at the last complete apply. Written
 * atomically after everything else of an apply, it is the commit point of the user's folder.
 */
final class AppliedMarks {
    private static final String HISTORY_LENGTH = "history.length";

    private final Map<String, Long> sequences = new HashMap<>();
    private final Map<String, Set<String>> eventIdsAtSequence = new HashMap<>();
    private long historyLength;

    static AppliedMarks load(Path file) throws IOException {
        AppliedMarks marks = new AppliedMarks();
        if (!Files.exists(file)) return marks;
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        marks.historyLength = Long.parseLong(p.getProperty(HISTORY_LENGTH, "0"));
        for (String name : p.stringPropertyNames()) {
            if (name.startsWith("source.") && name.endsWith(".sequence")) {
                String source = name.substring("source.".length(), name.length() - ".sequence".length());
                marks.sequences.put(source, Long.parseLong(p.getProperty(name)));
                String ids = p.getProperty("source." + source + ".events", "");
                marks.eventIdsAtSequence.put(source, new HashSet<>(Arrays.asList(ids.split(","))));
            }
        }
        return marks;
    }

    boolean isNew(Envelope envelope) {
        Long applied = sequences.get(envelope.getSourceServerId());
        if (applied == null || envelope.getSequence() > applied) return true;
        return envelope.getSequence() == applied
                && !eventIdsAtSequence.get(envelope.getSourceServerId()).contains(envelope.getEventId());
    }

    void record(Envelope envelope) {
        String source = envelope.getSourceServerId();
        Long applied = sequences.get(source);
        if (applied == null || envelope.getSequence() > applied) {
            sequences.put(source, envelope.getSequence());
            eventIdsAtSequence.put(source, new HashSet<>());
        }
        eventIdsAtSequence.get(source).add(envelope.getEventId());
    }

    long historyLength() {
        return historyLength;
    }

    void save(Path tmpDir, Path file, long newHistoryLength) throws IOException {
        Properties p = new Properties();
        p.setProperty(HISTORY_LENGTH, String.valueOf(newHistoryLength));
        sequences.forEach((source, seq) -> {
            p.setProperty("source." + source + ".sequence", String.valueOf(seq));
            p.setProperty("source." + source + ".events", String.join(",", eventIdsAtSequence.get(source)));
        });
        // store() flushes but does not close the writer; DurableFiles fsyncs and closes the file.
        DurableFiles.write(
                tmpDir,
                file,
                out -> p.store(
                        new OutputStreamWriter(out, StandardCharsets.UTF_8),
                        "mailstream store: what this user's folder has applied"));
        historyLength = newHistoryLength;
    }
}
