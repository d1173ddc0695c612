package io.mailstream.cli;

import io.mailstream.core.config.ConfigException;
import io.mailstream.core.kafka.KafkaUnavailableException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * Entry point of {@code bin/mailstream}. Exit codes: 0 ok, 1 runtime failure, 2 usage error, bad
 * configuration or a subcommand that is not implemented yet. Expected failures print one line,
 * without a stack trace; only unexpected exceptions (bugs) print one.
 */
public final class Main {
    static {
        // Our shutdown hook logs while it stops the roles and the broker; Log4j's own hook would
        // close logging first (and lose those lines), so logging ends with the JVM instead.
        System.setProperty("log4j2.shutdownHookEnabled", "false");
    }

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        int code = execute(args, System.getenv(), out, err, StopSignal.onJvmShutdown());
        // Autoflush covers println only; System.exit would drop what print() left in the buffer.
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command line; tests call this with their own streams, environment and stop signal. */
    public static int execute(
            String[] args, Map<String, String> env, PrintWriter out, PrintWriter err, StopSignal stop) {
        return commandLine(env, stop).setOut(out).setErr(err).execute(args);
    }

    static CommandLine commandLine(Map<String, String> env, StopSignal stop) {
        CommandLine cl = new CommandLine(new MailstreamCommand(env, stop));
        cl.setExecutionExceptionHandler(Main::handle);
        return cl;
    }

    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        String command = "mailstream " + cl.getCommandName();
        if (e instanceof NotImplementedException) {
            err.println(e.getMessage());
            return USAGE;
        }
        if (e instanceof ConfigException) {
            err.println(command + ": configuration error: " + e.getMessage());
            return USAGE;
        }
        if (e instanceof KafkaUnavailableException || e instanceof UncheckedIOException) {
            err.println(command + ": " + e.getMessage());
            return FAILURE;
        }
        LOG.error("{} failed unexpectedly", command, e);
        err.println(command + ": failed: " + e);
        return FAILURE;
    }
}
