package io.mailstream.streams;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * How far the streams application has read {@code mailstream.changes}. It decides when a body that
 * a parked record references can no longer come: by log positions, never by the clock.
 */
public interface ChangesLog extends AutoCloseable {
    /**
     * Completes once the application has read and committed every partition of mailstream.changes
     * at least up to where that partition ended when this was asked, uncommitted records included
     * (a body in a transaction still open is in the log too). By then every body before those
     * ends has been published to the content topic. Concurrent callers may share one answer.
     */
    CompletionStage<Mark> readToEnd();

    @Override
    void close();

    /** Where each partition of mailstream.changes ended when asked, and how many partitions the content topic has. */
    record Mark(Map<Integer, Long> changesEnd, int contentPartitions) {
        public Mark {
            changesEnd = Map.copyOf(changesEnd);
        }

        /** True when the record at this position was in the log when the mark was taken. */
        boolean covers(int partition, long offset) {
            Long end = changesEnd.get(partition);
            return end != null && offset < end;
        }
    }
}
