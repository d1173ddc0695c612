package io.mailstream.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A main class of the test classpath in a JVM of its own, so that a test can kill it abruptly
 * (SIGKILL: no close, no flush, no commit) and start it again. Its output goes to a log file under
 * {@code target/}, which outlives a failed run.
 */
public final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final Path log;

    private ChildJvm(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code mainClass} with {@code args} and returns once its output contains
     * {@code readyLine}; fails if it exits or is not ready within {@code timeout}.
     */
    public static ChildJvm start(String name, String mainClass, String readyLine, Duration timeout, String... args) {
        return start(name, List.of("-Xmx512m"), mainClass, readyLine, timeout, args);
    }

    /** As {@link #start(String, String, String, Duration, String...)}, with these JVM options (heap size, system properties). */
    public static ChildJvm start(
            String name,
            List<String> jvmOptions,
            String mainClass,
            String readyLine,
            Duration timeout,
            String... args) {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path log = Path.of("target", name + ".log").toAbsolutePath();
        List<String> cmd = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", classpath, mainClass));
        cmd.addAll(List.of(args));
        try {
            Files.createDirectories(log.getParent());
            ChildJvm child = new ChildJvm(
                    new ProcessBuilder(cmd)
                            .redirectErrorStream(true)
                            .redirectOutput(log.toFile())
                            .start(),
                    log);
            child.awaitOutput(readyLine, timeout);
            return child;
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + mainClass, e);
        }
    }

    /** Writes {@code settings} as a properties file, the usual way to hand a configuration to a child. */
    public static Path writeProperties(Path file, Map<String, String> settings) {
        Properties props = new Properties();
        props.putAll(settings);
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            props.store(w, null);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
        return file;
    }

    /** Waits until the output contains {@code line}; kills the child and fails if it exits or {@code timeout} passes first. */
    public void awaitOutput(String line, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!output().contains(line)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                kill();
                throw new AssertionError(
                        (process.isAlive() ? "not ready in " + timeout : "exited " + process.exitValue()) + ": " + log
                                + "\n" + output());
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** Everything the child printed so far. */
    public String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** SIGKILL, and waits until the process is gone. */
    public void kill() {
        process.destroyForcibly();
        awaitExit();
    }

    /** SIGTERM (the child's shutdown hooks run), and waits until the process is gone. */
    public void terminate() {
        process.destroy();
        awaitExit();
    }

    private void awaitExit() {
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) kill();
    }
}
