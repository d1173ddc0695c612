package io.mailstream.sinks;

import java.time.Duration;
import java.util.Optional;

/** A running tier sink. */
public interface SinkHandle extends AutoCloseable {

    String tier();

    /** False once the sink stopped, by {@link #close()} or by an error the policy says to stop on. */
    boolean isRunning();

    /** Why the sink stopped on its own (an ErrorPolicy STOP); empty while running or after close(). */
    Optional<String> failure();

    /** Waits up to {@code timeout} for the sink to stop; true if it has. */
    boolean awaitStop(Duration timeout) throws InterruptedException;

    /** Graceful stop: finishes the applies in progress, commits what was confirmed, closes the clients. */
    @Override
    void close();
}
