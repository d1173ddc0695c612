package io.mailstream.core.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The Micrometer registry that every role of one mailstream process records into, so that the
 * command running them sees all meters in one place and serves them at {@code /metrics}.
 * Components take a {@link MeterRegistry} in their constructor and are given this one by the cli;
 * tests pass their own registry so that counts do not leak between tests.
 *
 * <p>It is a Prometheus registry: every meter's name starts with {@code mailstream.} (the JVM's
 * meters are renamed to {@code mailstream.jvm...}, {@code mailstream.process...}), so that one
 * prefix selects everything mailstream exports.
 */
public final class MailstreamMetrics {
    /** Content type of {@link #scrape()}: the Prometheus text exposition format 0.0.4. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    static final String PREFIX = "mailstream.";

    private static final PrometheusMeterRegistry REGISTRY = create();

    private MailstreamMetrics() {}

    public static MeterRegistry registry() {
        return REGISTRY;
    }

    /** Every meter of this process in the Prometheus text format, as {@code GET /metrics} answers. */
    public static String scrape() {
        return REGISTRY.scrape();
    }

    static PrometheusMeterRegistry create() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().meterFilter(prefixed());
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        return registry;
    }

    /** Names every meter that does not start with {@code mailstream.} (the JVM binders') into it. */
    static MeterFilter prefixed() {
        return new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                return id.getName().startsWith(PREFIX) ? id : id.withName(PREFIX + id.getName());
            }
        };
    }
}
