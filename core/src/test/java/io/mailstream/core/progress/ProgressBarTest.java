package io.mailstream.core.progress;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    private final AtomicLong clock = new AtomicLong();
    private final ByteArrayOutputStream sink = new ByteArrayOutputStream();

    private ProgressBar bar(boolean tty, long total) {
        return new ProgressBar(
                new PrintStream(sink, true, StandardCharsets.UTF_8),
                tty,
                total,
                "users",
                Duration.ofSeconds(10),
                clock::get);
    }

    private String output() {
        return sink.toString(StandardCharsets.UTF_8);
    }

    @Test
    void rendersBarCountRateAndEta() {
        // 42 of 100 users and 31 MB in 10 s: 3.1 MB/s, 58 users left at 4.2 users/s = 13 s.
        assertThat(bar(true, 100).render(42, 31_000_000, Duration.ofSeconds(10).toNanos()))
                .isEqualTo("[========>           ] 42/100 users 3.1 MB/s eta 13s");
    }

    @Test
    void unknownTotalHasNoBarAndFinishedJobNoEta() {
        assertThat(bar(false, 0).render(7, 0, 1_000_000_000L)).isEqualTo("7 users");
        assertThat(bar(false, 5).render(5, 2_000, 1_000_000_000L))
                .isEqualTo("[====================] 5/5 users 2.0 kB/s");
        assertThat(bar(false, 5).render(0, 0, 0)).isEqualTo("[>                   ] 0/5 users eta ?");
        assertThat(bar(false, 1000).render(1, 0, Duration.ofSeconds(10).toNanos()))
                .endsWith("eta 2h46m");
    }

    @Test
    void terminalRedrawsInPlaceAndEndsTheLineOnClose() {
        try (ProgressBar bar = bar(true, 10)) {
            clock.set(Duration.ofSeconds(1).toNanos());
            bar.advance(5, 0);
            clock.set(Duration.ofSeconds(2).toNanos());
            bar.advance(5, 0);
        }
        assertThat(output())
                .isEqualTo(
                        "\r[==========>         ] 5/10 users eta 1s" + "\r[====================] 10/10 users      \n");
    }

    @Test
    void withoutTerminalPrintsALinePerIntervalAndTheFinalState() {
        try (ProgressBar bar = bar(false, 3)) {
            clock.set(Duration.ofSeconds(1).toNanos());
            bar.advance(1, 0); // within the interval: nothing printed
            clock.set(Duration.ofSeconds(12).toNanos());
            bar.advance(1, 0);
            bar.advance(1, 0);
        }
        assertThat(output().lines())
                .containsExactly("[=============>      ] 2/3 users eta 6s", "[====================] 3/3 users");
        assertThat(output()).doesNotContain("\r");
    }
}
