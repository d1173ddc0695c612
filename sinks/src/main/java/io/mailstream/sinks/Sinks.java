package io.mailstream.sinks;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.metrics.MailstreamMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Starts the sink of a configured tier: the feed loop with the target the tier's type names. */
public final class Sinks {
    private Sinks() {}

    /** {@link #start(MailstreamConfig, String, String, MeterRegistry)} recording into the process's shared registry. */
    public static SinkHandle start(MailstreamConfig config, String bootstrapServers, String tier) {
        return start(config, bootstrapServers, tier, MailstreamMetrics.registry());
    }

    /**
     * Ensures the topics exist and starts consuming {@code mailstream.feed.<tier>}; the sink runs
     * on its own threads until {@link SinkHandle#close()} or an error the policy stops on.
     */
    public static SinkHandle start(
            MailstreamConfig config, String bootstrapServers, String tier, MeterRegistry metrics) {
        if (!config.tiers().contains(tier)) {
            throw new IllegalArgumentException(
                    "tier '" + tier + "' is not configured (tiers=" + String.join(",", config.tiers()) + ")");
        }
        ConfigKeys.TierType type = config.get(ConfigKeys.TIER_TYPE, tier);
        TopicAdmin.ensureTopics(config, bootstrapServers);
        // Both kinds can also take a key's whole state: what a tier added later, or one past a retention gap, is
        // backfilled with.
        StateTarget target = type == ConfigKeys.TierType.CYRUS
                ? CyrusTarget.open(config, bootstrapServers, tier, metrics)
                : openStore(config, tier);
        try {
            TierBackfill backfill = new TierBackfill(config, bootstrapServers, tier, target);
            return new FeedSink(config, bootstrapServers, tier, target, backfill, metrics).start();
        } catch (RuntimeException e) {
            try {
                target.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static StateTarget openStore(MailstreamConfig config, String tier) {
        try {
            return new StoreTarget(config.storeDir(tier));
        } catch (IOException e) {
            throw new UncheckedIOException("tier " + tier + ": cannot open the store at " + config.storeDir(tier), e);
        }
    }
}
