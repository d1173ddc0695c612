package io.mailstream.cli;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.control.ControlState;
import io.mailstream.core.control.ControlTopic;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.mailstream.streams.StatusReport;
import java.util.Locale;
import picocli.CommandLine.Command;

@Command(
        name = "status",
        description =
                "Show which tier is primary at which epoch and each tier's role, and, per"
                        + " tier, how far behind the canonical state it is (events and seconds) and which mailboxes differ from it.")
final class StatusCommand extends Subcommand {
    @Override
    public Integer call() {
        MailstreamConfig config = config();
        String bootstrap = KafkaAddress.of(config);
        ControlState control;
        try (var schemas = new SchemaTopicRegistry(KafkaClients.adminProps(bootstrap))) {
            control = new ControlTopic(bootstrap, schemas).read();
        }
        out().print(roles(control));
        StatusReport report = StatusReport.compute(config, bootstrap);
        out().print(report.render());
        out().flush();
        return 0;
    }

    /** The primary, its epoch and whether its promotion finished fencing, then every tier's role. */
    static String roles(ControlState control) {
        StringBuilder s = new StringBuilder();
        control.primary()
                .ifPresentOrElse(
                        a -> s.append("primary: tier ")
                                .append(a.getTier())
                                .append(" at epoch ")
                                .append(a.getEpoch())
                                .append(a.getFencePending() ? " (still fencing the previous primary)" : "")
                                .append('\n'),
                        () -> s.append(
                                "primary: none; every capture refuses until 'mailstream promote --tier NAME --initial'\n"));
        control.roles()
                .forEach((tier, role) -> s.append("  ")
                        .append(tier)
                        .append(": ")
                        .append(role.getRole().name().toLowerCase(Locale.ROOT))
                        .append(" since epoch ")
                        .append(role.getEpoch())
                        .append('\n'));
        return s.toString();
    }
}
