package io.mailstream.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/** Runs the mailstream command in this JVM and keeps what it printed. */
final class Cli {
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();
    final StopSignal stop = StopSignal.manual();
    private final Map<String, String> env;

    Cli(Map<String, String> env) {
        this.env = env;
    }

    int run(String... args) {
        return Main.execute(args, env, new PrintWriter(out, true), new PrintWriter(err, true), stop);
    }

    String out() {
        return out.toString();
    }

    String err() {
        return err.toString();
    }
}
