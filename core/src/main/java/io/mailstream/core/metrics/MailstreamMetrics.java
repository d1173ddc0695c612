package io.mailstream.core.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The Micrometer registry that every role of one mailstream process records into, so that the
 * command running them (and later an exporter) sees all meters in one place. Components take a
 * {@link MeterRegistry} in their constructor and are given this one by the cli; tests pass their
 * own registry so that counts do not leak between tests.
 */
public final class MailstreamMetrics {
    private static final MeterRegistry REGISTRY = new SimpleMeterRegistry();

    private MailstreamMetrics() {}

    public static MeterRegistry registry() {
        return REGISTRY;
    }
}
