package io.mailstream.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * When a long-running command (run, kafka, a role) should stop: on Ctrl-C / SIGTERM in
 * production, on {@link #stop()} in tests. The JVM exits as soon as its shutdown hooks return, so
 * the hook waits until the command reports {@link #cleanedUp()}: a broker that is killed mid
 * shutdown needs log recovery on its next start.
 */
public final class StopSignal {
    private static final long CLEANUP_WAIT_SECONDS = 60;

    private final boolean jvmShutdown;
    private final AtomicBoolean hookInstalled = new AtomicBoolean();
    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch cleanedUp = new CountDownLatch(1);

    private StopSignal(boolean jvmShutdown) {
        this.jvmShutdown = jvmShutdown;
    }

    public static StopSignal onJvmShutdown() {
        return new StopSignal(true);
    }

    public static StopSignal manual() {
        return new StopSignal(false);
    }

    /** Blocks until a stop is requested (Ctrl-C, SIGTERM, {@link #stop()}, or a failed role). */
    void await() throws InterruptedException {
        if (jvmShutdown && hookInstalled.compareAndSet(false, true)) {
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                stop.countDown();
                                try {
                                    cleanedUp.await(CLEANUP_WAIT_SECONDS, TimeUnit.SECONDS);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            },
                            "mailstream-shutdown"));
        }
        stop.await();
    }

    public void stop() {
        stop.countDown();
    }

    /** The command has stopped everything it started. */
    void cleanedUp() {
        cleanedUp.countDown();
    }
}
