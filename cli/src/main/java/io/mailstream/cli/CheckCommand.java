package io.mailstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailstream.bridge.apply.ReplicaWriter;
import io.mailstream.bridge.state.CyrusState;
import io.mailstream.bridge.state.Difference;
import io.mailstream.bridge.state.StateSource;
import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.ConfigKeys.TierType;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.config.TierUsers;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.operations.Check;
import io.mailstream.operations.ProgressSettle;
import io.mailstream.sinks.CanonicalStates;
import io.mailstream.sinks.ContentBodies;
import io.mailstream.sinks.StoreReader;
import io.mailstream.sinks.StoreRepair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "check",
        description =
                "Compare every tier (and the primary, with capture.primary.address) with the"
                        + " canonical state: mailbox headers and SYNC_CRCs first, records only where they differ, then seen state,"
                        + " subscriptions, sieve and quotas. Exit 0: every tier equals; 3: a difference remains; 1: runtime error.")
final class CheckCommand extends Subcommand {
    /** Exit code when a tier differs from the canonical state. */
    static final int DIFFERENT = 3;

    @Option(
            names = "--tier",
            paramLabel = "NAME",
            description = "A tier to check (repeatable; none: every tier, and the primary if configured).")
    List<String> tiers;

    @Option(
            names = "--user",
            paramLabel = "USERID",
            description = "A user to check (repeatable; none: every user of the canonical state).")
    List<String> users;

    @Option(names = "--deep", description = "Also hash every body a store holds against its GUID.")
    boolean deep;

    @Option(names = "--json", description = "One JSON object per line: each difference, then each tier's summary.")
    boolean json;

    @Option(
            names = "--repair",
            description = "Push the canonical state of what differs to the tier, then check it again.")
    boolean repair;

    @Option(
            names = "--delete-extra",
            description = "With --repair: delete mailboxes a tier holds that the canonical state does not.")
    boolean deleteExtra;

    @Option(
            names = "--settle",
            paramLabel = "SECONDS",
            defaultValue = "120",
            description =
                    "How long to wait for a tier to apply what the canonical state holds before a difference counts (default: ${DEFAULT-VALUE}).")
    long settleSeconds;

    private final ObjectMapper mapper = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        MailstreamConfig config = config();
        if (deleteExtra && !repair) {
            err().println("mailstream check: --delete-extra needs --repair");
            return Main.USAGE;
        }
        String primary = config.get(ConfigKeys.CAPTURE_SERVER_ID);
        boolean primaryConfigured =
                !config.get(ConfigKeys.CAPTURE_PRIMARY_ADDRESS).isEmpty();
        List<String> chosen = new ArrayList<>();
        if (tiers == null || tiers.isEmpty()) {
            chosen.addAll(config.tiers());
            if (primaryConfigured) chosen.add(primary);
        } else {
            for (String t : tiers) {
                if (!config.tiers().contains(t) && !(primaryConfigured && t.equals(primary))) {
                    err().println("mailstream check: no tier '" + t + "' (tiers: " + String.join(",", config.tiers())
                            + (primaryConfigured ? "; the primary: " + primary : "; capture.primary.address is not set")
                            + ")");
                    return Main.USAGE;
                }
                chosen.add(t);
            }
        }
        String bootstrap = KafkaAddress.of(config);
        boolean anyDifference = false;
        try (CanonicalStates canonical = new CanonicalStates(bootstrap)) {
            Check check = new Check(canonical, deep);
            for (String tier : chosen) {
                boolean isPrimary = primaryConfigured
                        && tier.equals(primary)
                        && !config.tiers().contains(tier);
                Check.TierResult result = checkTier(config, bootstrap, check, tier, isPrimary);
                canonical.forget();
                print(result);
                anyDifference |= !result.clean();
            }
        }
        return anyDifference ? DIFFERENT : Main.OK;
    }

    private Check.TierResult checkTier(
            MailstreamConfig config, String bootstrap, Check check, String tier, boolean isPrimary) throws Exception {
        Predicate<String> receives = isPrimary ? key -> true : TierUsers.of(config, tier);
        List<String> keys = check.users(users, receives);
        if (!isPrimary && config.get(ConfigKeys.TIER_TYPE, tier) == TierType.STORE) {
            StoreReader store = StoreReader.open(config.storeDir(tier));
            try (ProgressSettle settle = new ProgressSettle(bootstrap, tier, Duration.ofSeconds(settleSeconds));
                    ContentBodies bodies =
                            new ContentBodies(bootstrap, config.dataDir().resolve("check-" + tier))) {
                StoreRepair writer = null;
                if (repair) {
                    try {
                        writer = StoreRepair.open(config.storeDir(tier), bodies);
                    } catch (java.io.IOException e) {
                        err().println("mailstream check: tier " + tier + " not repaired: " + e.getMessage()
                                + "; stop its sink first");
                    }
                }
                try {
                    return check.run(
                            tier,
                            store,
                            keys,
                            Check.Settle.applied(settle),
                            writer == null ? null : Check.storeRepairer(writer));
                } finally {
                    if (writer != null) writer.close();
                }
            }
        }
        CsyncClientConfig csync = isPrimary
                ? csync(
                        config.get(ConfigKeys.CAPTURE_PRIMARY_ADDRESS),
                        "capture.primary.address",
                        config.get(ConfigKeys.CAPTURE_PRIMARY_USER),
                        config.password(
                                ConfigKeys.CAPTURE_PRIMARY_PASSWORD, ConfigKeys.CAPTURE_PRIMARY_PASSWORD_FILE, null))
                : csync(
                        config.get(ConfigKeys.TIER_CYRUS_ADDRESS, tier),
                        "tier." + tier + ".cyrus.address",
                        config.get(ConfigKeys.TIER_CYRUS_USER, tier),
                        config.password(ConfigKeys.TIER_CYRUS_PASSWORD, ConfigKeys.TIER_CYRUS_PASSWORD_FILE, tier));
        try (CsyncClient session = CsyncClient.connect(csync)) {
            StateSource source = new CyrusState(isPrimary ? "primary " + tier : "tier " + tier, session);
            if (isPrimary) {
                if (repair)
                    err().println("mailstream check: the primary " + tier
                            + " is never written; its differences are only reported");
                return check.run(tier, source, keys, Check.Settle.upstream(Duration.ofSeconds(settleSeconds)), null);
            }
            try (ProgressSettle settle = new ProgressSettle(bootstrap, tier, Duration.ofSeconds(settleSeconds));
                    ContentBodies bodies =
                            new ContentBodies(bootstrap, config.dataDir().resolve("check-" + tier))) {
                Check.Repairer repairer = repair
                        ? Check.Repairer.cyrus(
                                new ReplicaWriter(session, config.get(ConfigKeys.TIER_CYRUS_PARTITION, tier)),
                                bodies,
                                deleteExtra)
                        : null;
                return check.run(tier, source, keys, Check.Settle.applied(settle), repairer);
            }
        }
    }

    private static CsyncClientConfig csync(String address, String key, String user, String password) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0) throw new ConfigException(key + ": expected host:port, got '" + address + "'");
        // Sieve scripts are compared as the user.X.#sieve mailbox, as capture and the sink see them.
        return CsyncClientConfig.of(
                        address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)), user, password)
                .withSieveMailbox(true);
    }

    private void print(Check.TierResult r) throws Exception {
        for (Difference d : r.differences()) {
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("tier", r.tier());
                o.put("user", d.partitionKey());
                o.put("mailbox", d.mailbox());
                o.put("uniqueId", d.uniqueId());
                o.put("kind", d.kind().name());
                o.put("detail", d.detail());
                out().println(mapper.writeValueAsString(o));
            } else {
                out().println("differs: tier " + r.tier() + " " + d.line());
            }
        }
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("tier", r.tier());
            o.put("summary", true);
            o.put("mailboxes", r.mailboxes());
            o.put("equal", r.equal());
            o.put("different", r.different());
            o.put("missing", r.missing());
            o.put("extra", r.extra());
            o.put(
                    "userDifferences",
                    r.differences().stream().filter(d -> !d.isMailbox()).count());
            o.put("repairedUsers", r.repairedUsers());
            o.put("millis", r.took().toMillis());
            out().println(mapper.writeValueAsString(o));
        } else {
            out().printf(
                            "tier %s: %d mailboxes checked, %d equal, %d different, %d missing, %d extra, %d user differences%s, %.1f s%n",
                            r.tier(),
                            r.mailboxes(),
                            r.equal(),
                            r.different(),
                            r.missing(),
                            r.extra(),
                            r.differences().stream().filter(d -> !d.isMailbox()).count(),
                            r.repairedUsers() > 0 ? ", " + r.repairedUsers() + " users repaired" : "",
                            r.took().toMillis() / 1000.0);
        }
        out().flush();
    }
}
