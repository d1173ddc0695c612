package io.mailstream.cli;

import io.mailstream.core.config.MailstreamConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.BiConsumer;

/**
 * What a starting {@link Role} gets: the configuration, the Kafka it must use (the embedded
 * broker's address when {@code kafka.bootstrap.servers} is empty), the process's meter registry,
 * and a way to report a fatal failure.
 */
public record RoleContext(
        MailstreamConfig config,
        String bootstrapServers,
        MeterRegistry metrics,
        BiConsumer<Role, Throwable> failureHandler) {
    /** Reports that {@code role} cannot go on; the process stops every role and exits 1. */
    public void fail(Role role, Throwable cause) {
        failureHandler.accept(role, cause);
    }
}
