package io.mailstream.core.errors;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@link ErrorPolicy}'s decision to one culprit (a sink's batch, a streams record) across
 * its attempts, as Kafka Connect's retry operator does for a connector: counts the attempts, says
 * how long to back off (doubling, capped), and gives up on a {@link ErrorPolicy.Action#RETRY_THEN_DEAD_LETTER}
 * error after {@code errors.retry.attempts}. Every retried failure is counted
 * ({@code mailstream.errors.retries}, tag {@code role}) and logged at WARN on the first failure,
 * then again every {@link Settings#warnEvery} with the count, so a stuck culprit stays visible.
 * The caller does the retrying and the dead-lettering; this only keeps score. Thread-safe; the
 * culprits it remembers are bounded (a forgotten one starts counting again: more attempts, never fewer).
 */
public final class RetryOperator {
    private static final Logger LOG = LoggerFactory.getLogger(RetryOperator.class);
    private static final int REMEMBERED_CULPRITS = 10_000;

    /** {@code maxAttempts}: attempts at a RETRY_THEN_DEAD_LETTER culprit before giving up on it. */
    public record Settings(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration warnEvery) {
        public static Settings of(MailstreamConfig config) {
            return new Settings(
                    Math.max(1, config.get(ConfigKeys.ERRORS_RETRY_ATTEMPTS)),
                    Duration.ofMillis(100),
                    Duration.ofMillis(config.get(ConfigKeys.ERRORS_RETRY_BACKOFF_MAX_MS)),
                    Duration.ofMinutes(1));
        }
    }

    /**
     * What to do after a failed attempt. {@code giveUp}: dead-letter the culprit now (always for
     * DEAD_LETTER, for RETRY_THEN_DEAD_LETTER once the attempts are spent); otherwise, unless the
     * action is STOP, wait {@code backoff} and try again. {@code detail} is the reason to record.
     */
    public record Decision(ErrorPolicy.Action action, boolean giveUp, int attempt, Duration backoff, String detail) {}

    private final String role;
    private final Settings settings;
    private final Counter retries;
    private final Map<String, Attempts> culprits = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Attempts> eldest) {
            return size() > REMEMBERED_CULPRITS;
        }
    };

    public RetryOperator(String role, Settings settings, MeterRegistry metrics) {
        this.role = role;
        this.settings = settings;
        this.retries = Counter.builder("mailstream.errors.retries")
                .tag("role", role)
                .description("Failed attempts that are tried again (see mailstream.dlq for those given up on)")
                .register(metrics);
    }

    public Settings settings() {
        return settings;
    }

    /** Records a failed attempt at {@code culprit} (an id stable across attempts) and decides what comes next. */
    public Decision failed(String culprit, Throwable error) {
        ErrorPolicy.Action action = ErrorPolicy.classify(error);
        String reason = ErrorPolicy.reason(error);
        long now = System.currentTimeMillis();
        Attempts attempts;
        synchronized (culprits) {
            attempts = culprits.computeIfAbsent(culprit, c -> new Attempts(now));
            attempts.count++;
        }
        int attempt = attempts.count;
        switch (action) {
            case STOP -> {
                forget(culprit);
                LOG.error("{}: stopping: {} failed: {}", role, culprit, reason, error);
                return new Decision(action, false, attempt, Duration.ZERO, reason);
            }
            case DEAD_LETTER -> {
                forget(culprit);
                return new Decision(action, true, attempt, Duration.ZERO, reason);
            }
            case RETRY_THEN_DEAD_LETTER -> {
                if (attempt >= settings.maxAttempts()) {
                    forget(culprit);
                    String detail = "gave up after " + attempt + " attempts: " + reason;
                    LOG.warn("{}: {}: {}; dead-lettering it", role, culprit, detail);
                    return new Decision(action, true, attempt, Duration.ZERO, detail);
                }
            }
            case RETRY -> {}
        }
        retries.increment();
        Duration backoff = backoff(attempt);
        if (attempt == 1) {
            LOG.warn(
                    "{}: {} failed, will retry{}: {}",
                    role,
                    culprit,
                    action == ErrorPolicy.Action.RETRY
                            ? " until it passes"
                            : " up to " + settings.maxAttempts() + " attempts",
                    reason);
        } else if (now - attempts.lastWarned >= settings.warnEvery().toMillis()) {
            attempts.lastWarned = now;
            LOG.warn(
                    "{}: {} still failing after {} attempts in {} s, next in {} ms: {}",
                    role,
                    culprit,
                    attempt,
                    (now - attempts.since) / 1000,
                    backoff.toMillis(),
                    reason);
        } else {
            LOG.debug("{}: {} failed again (attempt {}): {}", role, culprit, attempt, reason);
        }
        return new Decision(action, false, attempt, backoff, reason);
    }

    /** The culprit went through (or is no longer ours): its count starts afresh. */
    public void forget(String culprit) {
        synchronized (culprits) {
            culprits.remove(culprit);
        }
    }

    /** Attempts recorded for a culprit so far (0 if none). */
    public int attempts(String culprit) {
        synchronized (culprits) {
            Attempts a = culprits.get(culprit);
            return a == null ? 0 : a.count;
        }
    }

    private Duration backoff(int attempt) {
        long initial = settings.initialBackoff().toMillis();
        long max = Math.max(initial, settings.maxBackoff().toMillis());
        long millis = attempt >= 32 ? max : Math.min(max, initial << (attempt - 1));
        return Duration.ofMillis(millis);
    }

    private static final class Attempts {
        final long since;
        long lastWarned;
        int count;

        Attempts(long since) {
            this.since = since;
            this.lastWarned = since;
        }
    }
}
