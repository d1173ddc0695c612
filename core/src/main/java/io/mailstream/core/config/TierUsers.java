package io.mailstream.core.config;

import java.util.Arrays;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Which partition keys a tier receives ({@code tier.<name>.users}): one reading for streams, which
 * routes the feed, and for a sink that backfills the tier from the canonical state.
 */
public final class TierUsers {
    private TierUsers() {}

    /** The filter {@code tier.<name>.users} of {@code tier} names. */
    public static Predicate<String> of(MailstreamConfig config, String tier) {
        return parse(config.get(ConfigKeys.TIER_USERS, tier));
    }

    /** {@code all}, a comma list of userids, or a regex written {@code /.../} matched against the whole key. */
    public static Predicate<String> parse(String spec) {
        String s = spec.trim();
        if (s.equalsIgnoreCase("all")) {
            return key -> true;
        }
        if (s.length() >= 2 && s.startsWith("/") && s.endsWith("/")) {
            Pattern regex = Pattern.compile(s.substring(1, s.length() - 1));
            return key -> regex.matcher(key).matches();
        }
        Set<String> users = Arrays.stream(s.split(","))
                .map(String::trim)
                .filter(u -> !u.isEmpty())
                .collect(Collectors.toUnmodifiableSet());
        return users::contains;
    }
}
