package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

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

    /** Starts a long-running command on another thread and returns once it says it is running. */
    CompletableFuture<Integer> startUntilRunning(String... args) throws InterruptedException {
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> run(args));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!out().contains("running; Ctrl-C stops it")) {
            assertThat(exit).as("exited early: %s%s", out(), err()).isNotDone();
            assertThat(System.nanoTime())
                    .as("not running in time: %s%s", out(), err())
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
        return exit;
    }

    String out() {
        return out.toString();
    }

    String err() {
        return err.toString();
    }
}
