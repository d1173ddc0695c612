package io.mailstream.core.errors;

import java.time.Duration;

/** Exponential backoff with a cap, for the RETRY action; reset after a success. */
public final class Backoff {
    private final long initialMillis;
    private final long maxMillis;
    private long nextMillis;

    public Backoff(Duration initial, Duration max) {
        this.initialMillis = initial.toMillis();
        this.maxMillis = max.toMillis();
        this.nextMillis = initialMillis;
    }

    /** The delay before the next attempt; doubles each call up to the cap. */
    public Duration next() {
        long current = nextMillis;
        nextMillis = Math.min(maxMillis, nextMillis * 2);
        return Duration.ofMillis(current);
    }

    /** Sleeps for {@link #next()}; returns false if interrupted (the caller should stop). */
    public boolean pause() {
        try {
            Thread.sleep(next().toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public void reset() {
        nextMillis = initialMillis;
    }
}
