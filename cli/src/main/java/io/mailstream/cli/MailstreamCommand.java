package io.mailstream.cli;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.KafkaClients;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code mailstream} command: global options and the list of subcommands, one class each. */
@Command(
        name = "mailstream",
        mixinStandardHelpOptions = true,
        versionProvider = MailstreamCommand.Version.class,
        usageHelpAutoWidth = true,
        description =
                "Replicates Cyrus IMAP through Kafka: a primary's changes to Cyrus replicas and an out-of-band store.",
        footer = {
            "",
            "Configuration: --config FILE, overridden by MAILSTREAM_* environment variables"
                    + " (kafka.bootstrap.servers -> MAILSTREAM_KAFKA_BOOTSTRAP_SERVERS); 'mailstream config --doc' lists every key.",
            "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error, or not implemented yet."
        },
        subcommands = {
            RunCommand.class,
            KafkaCommand.class,
            ConfigCommand.class,
            CaptureCommand.class,
            StreamsCommand.class,
            SinkCommand.class,
            EventsCommand.class,
            StatusCommand.class,
            DashboardCommand.class,
            CheckCommand.class,
            PromoteCommand.class,
            ReconcileCommand.class,
            RebuildCommand.class,
            AuditCommand.class,
            DemoCommand.class,
            CommandLine.HelpCommand.class
        })
final class MailstreamCommand implements Callable<Integer> {
    static final String DEFAULT_CONFIG = "mailstream.properties";

    // Inherited, so that it may also follow the subcommand: mailstream run --config x.properties.
    @Option(
            names = "--config",
            paramLabel = "FILE",
            scope = CommandLine.ScopeType.INHERIT,
            description = "Properties file (default: " + DEFAULT_CONFIG + " in the current folder, if it exists).")
    Path configFile;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;
    private final StopSignal stop;

    MailstreamCommand(Map<String, String> env, StopSignal stop) {
        this.env = env;
        this.stop = stop;
    }

    /** The effective configuration; an explicitly named file must exist, the default one may not. */
    MailstreamConfig config() {
        boolean explicit = configFile != null;
        MailstreamConfig config = MailstreamConfig.load(explicit ? configFile : Path.of(DEFAULT_CONFIG), explicit, env);
        // Before any role makes a Kafka client: every client gets the kafka.client.* settings.
        KafkaClients.useClientSettings(config.kafkaClientProperties());
        return config;
    }

    /** The environment the command was started with (the real one, or a test's). */
    Map<String, String> env() {
        return env;
    }

    StopSignal stopSignal() {
        return stop;
    }

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    /** The version from the jar manifest (absent when run from classes, e.g. in an IDE). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = MailstreamCommand.class.getPackage().getImplementationVersion();
            return new String[] {"mailstream " + (v != null ? v : "(development build)")};
        }
    }
}
