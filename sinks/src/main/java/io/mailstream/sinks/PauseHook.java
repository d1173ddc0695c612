package io.mailstream.sinks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Deterministic kill points for crash tests, each off unless the JVM is started with its system
 * properties:
 * <ul>
 *   <li>{@code -Dmailstream.sink.pause-after-events=N -Dmailstream.sink.pause-marker=FILE}: the
 *       apply that brings the applied events to N or more has reached the target but never returns
 *       (so it is never confirmed or committed), no further apply starts, and FILE appears;</li>
 *   <li>{@code -Dmailstream.sink.idle-marker=FILE}: FILE appears the first time the sink has read
 *       its whole feed, applied it and committed as far as it may.</li>
 * </ul>
 * A test waits for FILE and kills the process at exactly that point, every time.
 */
final class PauseHook {
    static final String AFTER_EVENTS = "mailstream.sink.pause-after-events";
    static final String PAUSE_MARKER = "mailstream.sink.pause-marker";
    static final String IDLE_MARKER = "mailstream.sink.idle-marker";

    private final long afterEvents;
    private final Path pauseMarker;
    private final Path idleMarker;
    private final AtomicLong applied = new AtomicLong();
    private final CountDownLatch never = new CountDownLatch(1);
    private volatile boolean paused;
    private boolean idleMarked;

    private PauseHook(long afterEvents, Path pauseMarker, Path idleMarker) {
        this.afterEvents = afterEvents;
        this.pauseMarker = pauseMarker;
        this.idleMarker = idleMarker;
    }

    static PauseHook fromSystemProperties() {
        String after = System.getProperty(AFTER_EVENTS);
        String pause = System.getProperty(PAUSE_MARKER);
        String idle = System.getProperty(IDLE_MARKER);
        return new PauseHook(
                after == null || pause == null ? 0 : Long.parseLong(after),
                pause == null ? null : Path.of(pause),
                idle == null ? null : Path.of(idle));
    }

    /** Holds the calling worker once the sink is paused. */
    void beforeApply() throws InterruptedException {
        if (paused) never.await();
    }

    /** Counts events the target has applied; the apply that reaches the limit pauses the sink and holds. */
    void afterApply(int events) throws InterruptedException {
        if (afterEvents <= 0 || applied.addAndGet(events) < afterEvents) return;
        synchronized (this) {
            if (!paused) {
                paused = true;
                mark(pauseMarker, applied.get() + " events applied");
            }
        }
        never.await();
    }

    /** Poll thread, after each round: marks the first round that finds the sink idle. */
    void whenIdle(BooleanSupplier idle) {
        if (idleMarker == null || idleMarked || !idle.getAsBoolean()) return;
        idleMarked = true;
        mark(idleMarker, "idle");
    }

    private static void mark(Path marker, String text) {
        try {
            Files.writeString(marker, text + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("writing the test marker " + marker, e);
        }
    }
}
