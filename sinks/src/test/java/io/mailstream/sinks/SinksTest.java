package io.mailstream.sinks;

import io.mailstream.core.config.MailstreamConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SinksTest {
    private final MailstreamConfig config = MailstreamConfig.of(Map.of("tiers", "dc2",
            "tier.dc2.type", "cyrus", "tier.dc2.cyrus.address", "127.0.0.1:2006"));

    @Test
    void anUnknownTierIsRefused() {
        assertThatThrownBy(() -> Sinks.start(config, "127.0.0.1:1", "oob", new SimpleMeterRegistry()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not configured");
    }
}
