package io.mailstream.sinks;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.core.config.MailstreamConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SinksTest {
    private final MailstreamConfig config = MailstreamConfig.of(
            Map.of("tiers", "dc2", "tier.dc2.type", "cyrus", "tier.dc2.cyrus.address", "127.0.0.1:2006"));

    @Test
    void anUnknownTierIsRefused() {
        assertThatThrownBy(() -> Sinks.start(config, "127.0.0.1:1", "oob", new SimpleMeterRegistry()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not configured");
    }
}
