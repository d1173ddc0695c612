package io.mailstream.core.errors;

import static io.mailstream.core.errors.ErrorPolicy.Action.DEAD_LETTER;
import static io.mailstream.core.errors.ErrorPolicy.Action.RETRY;
import static io.mailstream.core.errors.ErrorPolicy.Action.RETRY_THEN_DEAD_LETTER;
import static io.mailstream.core.errors.ErrorPolicy.Action.STOP;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.core.config.ConfigException;
import io.mailstream.core.kafka.KafkaUnavailableException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.Test;

class ErrorPolicyTest {
    @Test
    void everyErrorClassHasItsDecision() {
        assertThat(ErrorPolicy.classify(new ProducerFencedException("newer instance")))
                .isEqualTo(STOP);
        assertThat(ErrorPolicy.classify(new ConfigException("bad key"))).isEqualTo(STOP);
        assertThat(ErrorPolicy.classify(new FencedException("epoch"))).isEqualTo(STOP);
        assertThat(ErrorPolicy.classify(new SerializationException("garbage"))).isEqualTo(DEAD_LETTER);
        assertThat(ErrorPolicy.classify(new InvalidEventException("bad"))).isEqualTo(DEAD_LETTER);
        assertThat(ErrorPolicy.classify(new NotLeaderOrFollowerException("moving")))
                .isEqualTo(RETRY);
        assertThat(ErrorPolicy.classify(new KafkaUnavailableException("down", null)))
                .isEqualTo(RETRY);
        assertThat(ErrorPolicy.classify(new UncheckedIOException(new IOException("connection refused"))))
                .isEqualTo(RETRY);
        assertThat(ErrorPolicy.classify(new TransientException("replica: IMAP_AGAIN", null)))
                .isEqualTo(RETRY);
        assertThat(ErrorPolicy.classify(new KafkaException("some broker trouble")))
                .isEqualTo(RETRY);
        assertThat(ErrorPolicy.classify(new RefusedException("replica refused: IMAP_MAILBOX_MOVED", null)))
                .isEqualTo(RETRY_THEN_DEAD_LETTER);
        assertThat(ErrorPolicy.classify(new IllegalStateException("bug"))).isEqualTo(RETRY_THEN_DEAD_LETTER);
        assertThat(ErrorPolicy.classify(new NullPointerException())).isEqualTo(RETRY_THEN_DEAD_LETTER);
        // The cause decides when it is known: a refused change wrapped by a caller stays refused.
        assertThat(ErrorPolicy.classify(new RuntimeException(new RefusedException("refused", null))))
                .isEqualTo(RETRY_THEN_DEAD_LETTER);
        assertThat(ErrorPolicy.classify(new RuntimeException(new ProducerFencedException("x"))))
                .isEqualTo(STOP);
    }

    @Test
    void theLogRemembersABoundedNumberOfReasons() {
        // A long outage with ever-changing details (offsets, addresses) must not grow the heap.
        Level level = LogManager.getLogger(ErrorPolicy.class).getLevel();
        Configurator.setLevel(ErrorPolicy.class.getName(), Level.ERROR); // 100,000 WARN lines say nothing here
        try {
            for (int i = 0; i < 100_000; i++) {
                ErrorPolicy.handle("test", new IllegalStateException("distinct reason " + i));
            }
        } finally {
            Configurator.setLevel(ErrorPolicy.class.getName(), level);
        }
        assertThat(ErrorPolicy.rememberedReasons()).isLessThanOrEqualTo(ErrorPolicy.REMEMBERED_REASONS);
    }

    @Test
    void aCulpritThatMayBeAtFaultIsGivenUpOnAfterTheConfiguredAttempts() {
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        RetryOperator retries = new RetryOperator(
                "test",
                new RetryOperator.Settings(3, Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMinutes(1)),
                metrics);
        IllegalStateException bug = new IllegalStateException("bug");

        RetryOperator.Decision first = retries.failed("a", bug);
        RetryOperator.Decision second = retries.failed("a", bug);
        RetryOperator.Decision third = retries.failed("a", bug);

        assertThat(first.giveUp()).isFalse();
        assertThat(first.backoff()).isEqualTo(Duration.ofMillis(100));
        assertThat(second.giveUp()).isFalse();
        assertThat(second.backoff()).isEqualTo(Duration.ofMillis(200));
        assertThat(third.giveUp()).isTrue();
        assertThat(third.detail()).isEqualTo("gave up after 3 attempts: IllegalStateException: bug");
        assertThat(retries.attempts("a")).as("forgotten once given up").isZero();
        assertThat(metrics.get("mailstream.errors.retries")
                        .tag("role", "test")
                        .counter()
                        .count())
                .isEqualTo(2);
    }

    @Test
    void aPassingCauseIsRetriedForeverWithACappedBackoffAndSuccessStartsAfresh() {
        RetryOperator retries = new RetryOperator(
                "test",
                new RetryOperator.Settings(3, Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMinutes(1)),
                new SimpleMeterRegistry());
        RetryOperator.Decision last = null;
        for (int i = 0; i < 1_000; i++) {
            last = retries.failed("b", new IOException("replica unreachable"));
            assertThat(last.giveUp()).isFalse();
        }
        assertThat(last.action()).isEqualTo(RETRY);
        assertThat(last.attempt()).isEqualTo(1_000);
        assertThat(last.backoff()).isEqualTo(Duration.ofMillis(250));

        retries.forget("b");
        assertThat(retries.failed("b", new IllegalStateException("x")).attempt())
                .isEqualTo(1);
        assertThat(retries.failed("c", new SerializationException("garbage")).giveUp())
                .as("dead-lettered at once")
                .isTrue();
    }
}
