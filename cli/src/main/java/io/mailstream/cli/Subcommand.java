package io.mailstream.cli;

import io.mailstream.core.config.MailstreamConfig;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** What every subcommand shares: the configuration, the output, and running roles until stopped. */
abstract class Subcommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    MailstreamCommand root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    protected MailstreamConfig config() {
        return root.config();
    }

    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }

    protected PrintWriter err() {
        return spec.commandLine().getErr();
    }

    protected String displayName() {
        return "mailstream " + spec.name();
    }

    /** Starts Kafka (embedded if configured), the topics and {@code roles}; blocks until Ctrl-C. */
    protected int runUntilStopped(MailstreamConfig config, List<Role> roles) throws Exception {
        return new RoleRunner(displayName(), out(), err(), root.stopSignal()).run(config, roles);
    }

    /** For subcommands that are not built yet. */
    protected NotImplementedException notImplemented() {
        return new NotImplementedException(spec.name());
    }
}
