package io.mailstream.cli;

import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.control.ControlConflictException;
import io.mailstream.core.control.ControlTopic;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.schemas.PrimaryAssignment;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "promote",
        description = "Make a tier the replication source: move the primary role and bump the"
                + " epoch in mailstream.control, fencing the old primary. --initial names the first primary of an empty"
                + " mailstream.control (until then every capture refuses).")
final class PromoteCommand extends Subcommand {
    @Option(
            names = "--tier",
            required = true,
            paramLabel = "NAME",
            description =
                    "The tier to make primary: a cyrus tier listed in 'tiers', or this configuration's capture.tier.")
    String tier;

    @Option(names = "--initial", description = "The first promotion: refused if any tier is primary already.")
    boolean initial;

    @Option(names = "--force", description = "The primary is gone: fence it as diverged (not implemented yet).")
    boolean force;

    @Override
    public Integer call() {
        if (!initial) {
            throw new NotImplementedException(
                    spec.name() + (force ? " --force" : "") + " (switching from a running primary)");
        }
        MailstreamConfig config = config();
        requireCyrusTier(config);
        String bootstrap = KafkaAddress.of(config);
        TopicAdmin.ensureTopics(config, bootstrap);
        try (var schemas = new SchemaTopicRegistry(KafkaClients.adminProps(bootstrap))) {
            PrimaryAssignment first = new ControlTopic(bootstrap, schemas)
                    .promoteInitial(tier, config.get(ConfigKeys.SITE), displayName(), "initial promotion");
            out().println(displayName() + ": tier " + tier + " is primary at epoch " + first.getEpoch()
                    + ": its capture accepts changes from now on, every other capture refuses");
            out().flush();
            return 0;
        } catch (ControlConflictException e) {
            err().println(displayName() + ": refused, nothing changed: " + e.getMessage());
            err().flush();
            return Main.FAILURE;
        }
    }

    /** Only a Cyrus server can be primary: a cyrus tier, or the (unlisted) tier this configuration's capture fronts. */
    private void requireCyrusTier(MailstreamConfig config) {
        if (tier.equals(config.get(ConfigKeys.CAPTURE_TIER)) && !config.tiers().contains(tier)) {
            return;
        }
        if (!config.tiers().contains(tier)) {
            throw new ConfigException(
                    "--tier " + tier + ": not a configured tier (tiers = " + String.join(",", config.tiers())
                            + ", capture.tier = " + config.get(ConfigKeys.CAPTURE_TIER) + ")");
        }
        if (config.get(ConfigKeys.TIER_TYPE, tier) != ConfigKeys.TierType.CYRUS) {
            throw new ConfigException("--tier " + tier + ": a "
                    + config.get(ConfigKeys.TIER_TYPE, tier).name().toLowerCase(java.util.Locale.ROOT)
                    + " tier cannot be primary; only a cyrus tier (a Cyrus server whose changes a capture takes) can");
        }
    }
}
