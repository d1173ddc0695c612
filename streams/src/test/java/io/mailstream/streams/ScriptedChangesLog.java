package io.mailstream.streams;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * mailstream.changes as a TopologyTestDriver test says it stands (the driver has one partition of
 * each topic): until {@link #readTo} the application has not read the log to its end, for
 * example because a body is still ahead of it on another partition.
 */
final class ScriptedChangesLog implements ChangesLog {
    private final List<CompletableFuture<Mark>> waiting = new ArrayList<>();
    private Mark mark;

    /** From now on the application has read mailstream.changes up to {@code end}, where the log ends. */
    void readTo(long end) {
        mark = new Mark(Map.of(0, end), 1);
        waiting.forEach(f -> f.complete(mark));
        waiting.clear();
    }

    @Override
    public CompletionStage<Mark> readToEnd() {
        if (mark != null) {
            return CompletableFuture.completedFuture(mark);
        }
        CompletableFuture<Mark> answer = new CompletableFuture<>();
        waiting.add(answer);
        return answer;
    }

    @Override
    public void close() {}
}
