package io.mailstream.streams;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.ConfigKeys.ContentMode;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.config.TierUsers;
import io.mailstream.core.kafka.Topics;
import java.util.List;
import java.util.function.Predicate;

/**
 * What one tier receives: which partition keys ({@code tier.<name>.users}) and whether message
 * bodies travel on its feed ({@code tier.<name>.content}).
 */
record TierRoute(String tier, Predicate<String> users, boolean inlineContent) {

    static List<TierRoute> all(MailstreamConfig config) {
        return config.tiers().stream()
                .map(tier -> new TierRoute(
                        tier,
                        TierUsers.of(config, tier),
                        config.get(ConfigKeys.TIER_CONTENT, tier) == ContentMode.INLINE))
                .toList();
    }

    /** {@link TierUsers#parse}: {@code all}, a comma list of userids, or a regex written {@code /.../}. */
    static Predicate<String> userFilter(String spec) {
        return TierUsers.parse(spec);
    }

    String feedTopic() {
        return Topics.feed(tier);
    }

    /** Name of the topology's sink node writing this tier's feed. */
    String sinkName() {
        return "feed-" + tier;
    }

    /**
     * Whether an event of {@code partitionKey} written by {@code sourceTier} belongs on this feed.
     * A tier never gets its own events back: when it is the source, it already holds them.
     */
    boolean wants(String partitionKey, String sourceTier) {
        return users.test(partitionKey) && !tier.equals(sourceTier);
    }
}
