package io.mailstream.core.errors;

import io.mailstream.core.config.ConfigException;
import io.mailstream.core.kafka.KafkaUnavailableException;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that decides what an error means, for every role (as Debezium's ErrorHandler and
 * Kafka Connect's error tolerance). Every error class has an explicit decision:
 *
 * <table>
 *   <caption>Error class → decision</caption>
 *   <tr><th>Error</th><th>Decision</th><th>Why</th></tr>
 *   <tr><td>Kafka: ProducerFenced, InvalidProducerEpoch, InvalidPidMapping, OutOfOrderSequence,
 *       Authentication, Authorization, UnsupportedVersion; {@link ConfigException}; {@link FencedException}</td>
 *       <td>{@link Action#STOP}</td>
 *       <td>a newer instance of ourselves took over, or credentials or configuration are wrong:
 *       continuing would be wrong, so the role stops and says why</td></tr>
 *   <tr><td>{@link InvalidEventException}, Kafka SerializationException (an undecodable event, an
 *       unknown schema)</td>
 *       <td>{@link Action#DEAD_LETTER} at once</td>
 *       <td>the bytes are wrong; no retry can change them</td></tr>
 *   <tr><td>Kafka RetriableException and timeouts, {@link KafkaUnavailableException}, IOException
 *       (network, a replica unreachable or restarting, a broken csync session),
 *       {@link TransientException} (a replica's IMAP_AGAIN, IMAP_MAILBOX_LOCKED, IMAP_IOERROR), any
 *       other KafkaException</td>
 *       <td>{@link Action#RETRY} forever, with capped back-off, counted and logged every so often</td>
 *       <td>the cause is outside us and passes; the data waits upstream (Cyrus's sync log, the
 *       consumer offset), so waiting loses nothing</td></tr>
 *   <tr><td>{@link RefusedException} (a replica's NO that no retry changes: IMAP_PROTOCOL_BAD_PARAMETERS,
 *       IMAP_MAILBOX_MOVED, IMAP_MAILBOX_NONEXISTENT or IMAP_INVALID_USER left after the sink's own
 *       repairs, IMAP_MAILBOX_NOTSUPPORTED, IMAP_SYNC_BADSIEVE, a checksum a full update could not
 *       settle, an unknown NO) and every other exception (IllegalStateException,
 *       NullPointerException, ClassCastException...)</td>
 *       <td>{@link Action#RETRY_THEN_DEAD_LETTER}: {@code errors.retry.attempts} attempts with capped
 *       back-off, then the culprit goes to {@code mailstream.dlq} with its reason</td>
 *       <td>it may pass (a race, a replica being repaired), but if it does not, one change must not
 *       pin its user's lane forever</td></tr>
 * </table>
 *
 * Roles whose data waits upstream without a DLQ of their own (capture: Cyrus keeps the change in
 * its sync log) treat both retry decisions as RETRY. {@link RetryOperator} applies the retry
 * decisions to one culprit; {@link #handle} is for errors with no culprit (a commit, a progress
 * record): it logs each distinct reason at WARN/ERROR, repeats at DEBUG with a WARN again every
 * {@link #REPEAT_LOG_INTERVAL_MS} ms, and remembers at most {@link #REMEMBERED_REASONS} reasons.
 */
public final class ErrorPolicy {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorPolicy.class);
    /** Most distinct reasons the log remembers; the least recently seen is forgotten first. */
    static final int REMEMBERED_REASONS = 1024;

    static final long REPEAT_LOG_INTERVAL_MS = 60_000;
    /** Reason -> {time it was last logged at WARN, repeats since}. */
    private static final Map<String, long[]> LOGGED = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, long[]> eldest) {
            return size() > REMEMBERED_REASONS;
        }
    };

    public enum Action {
        RETRY,
        RETRY_THEN_DEAD_LETTER,
        DEAD_LETTER,
        STOP
    }

    private ErrorPolicy() {}

    public static Action classify(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            // Kafka 4's transactions (KIP-890) report a newer instance with our transactional id
            // as InvalidProducerEpochException on send/commit, not only ProducerFencedException.
            if (t instanceof ProducerFencedException
                    || t instanceof InvalidProducerEpochException
                    || t instanceof InvalidPidMappingException
                    || t instanceof OutOfOrderSequenceException
                    || t instanceof AuthenticationException
                    || t instanceof AuthorizationException
                    || t instanceof UnsupportedVersionException
                    || t instanceof ConfigException
                    || t instanceof FencedException) {
                return Action.STOP;
            }
            if (t instanceof InvalidEventException || t instanceof SerializationException) {
                return Action.DEAD_LETTER;
            }
            if (t instanceof RefusedException) {
                return Action.RETRY_THEN_DEAD_LETTER;
            }
            if (t instanceof RetriableException
                    || t instanceof KafkaUnavailableException
                    || t instanceof org.apache.kafka.common.errors.TimeoutException
                    || t instanceof java.util.concurrent.TimeoutException
                    || t instanceof IOException
                    || t instanceof TransientException) {
                return Action.RETRY;
            }
        }
        // Kafka's own failures are the broker's or the client's, not the event's; anything else
        // is unexpected here and may be the event's: retried, but not forever.
        return error instanceof KafkaException ? Action.RETRY : Action.RETRY_THEN_DEAD_LETTER;
    }

    /** Classifies and logs the error: once per distinct (role, action, message), again every so often while it repeats. */
    public static Action handle(String role, Throwable error) {
        Action action = classify(error);
        String reason = reason(error);
        long repeats = repeatsToReport(role + "|" + action + "|" + reason, System.currentTimeMillis());
        if (repeats < 0) {
            LOG.debug("{}: {} again after {}", role, action, reason);
        } else if (action == Action.STOP) {
            LOG.error("{}: stopping: {}", role, reason, error);
        } else {
            LOG.warn(
                    "{}: {} after {}{}",
                    role,
                    action == Action.DEAD_LETTER ? "dead-lettered" : "will retry",
                    reason,
                    repeats > 0 ? " (" + repeats + " times since the last report)" : "");
        }
        return action;
    }

    /** The class and message, the way DLQ details and log lines name an error. */
    public static String reason(Throwable error) {
        return error.getClass().getSimpleName() + ": " + error.getMessage();
    }

    /** -1 to log at DEBUG; otherwise log at WARN, reporting this many repeats since the last WARN. */
    private static synchronized long repeatsToReport(String key, long now) {
        long[] seen = LOGGED.get(key);
        if (seen == null) {
            LOGGED.put(key, new long[] {now, 0});
            return 0;
        }
        if (now - seen[0] < REPEAT_LOG_INTERVAL_MS) {
            seen[1]++;
            return -1;
        }
        long repeats = seen[1];
        seen[0] = now;
        seen[1] = 0;
        return repeats;
    }

    /** How many distinct reasons the log remembers (for tests). */
    static synchronized int rememberedReasons() {
        return LOGGED.size();
    }
}
