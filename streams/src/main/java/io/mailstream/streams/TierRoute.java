package io.mailstream.streams;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.ConfigKeys.ContentMode;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.Topics;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What one tier receives: which partition keys ({@code tier.<name>.users}) and whether message
 * bodies travel on its feed ({@code tier.<name>.content}).
 */
record TierRoute(String tier, Predicate<String> users, boolean inlineContent) {

    static List<TierRoute> all(MailstreamConfig config) {
        return config.tiers().stream()
                .map(tier -> new TierRoute(tier, userFilter(config.get(ConfigKeys.TIER_USERS, tier)),
                        config.get(ConfigKeys.TIER_CONTENT, tier) == ContentMode.INLINE))
                .toList();
    }

    /** {@code all}, a comma list of userids, or a regex written {@code /.../} matched against the whole key. */
    static Predicate<String> userFilter(String spec) {
        String s = spec.trim();
        if (s.equalsIgnoreCase("all")) {
            return key -> true;
        }
        if (s.length() >= 2 && s.startsWith("/") && s.endsWith("/")) {
            Pattern regex = Pattern.compile(s.substring(1, s.length() - 1));
            return key -> regex.matcher(key).matches();
        }
        Set<String> users = Arrays.stream(s.split(",")).map(String::trim).filter(u -> !u.isEmpty())
                .collect(Collectors.toUnmodifiableSet());
        return users::contains;
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
