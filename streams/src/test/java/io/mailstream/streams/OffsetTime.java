package io.mailstream.streams;

import java.time.Duration;
import java.util.function.Supplier;
import org.apache.kafka.common.utils.Time;

/** The system clock moved forward by a settable amount: an outage or a grace period without waiting it out. */
final class OffsetTime implements Time {
    private volatile long offsetMs;

    void shift(Duration by) {
        offsetMs += by.toMillis();
    }

    @Override
    public long milliseconds() {
        return SYSTEM.milliseconds() + offsetMs;
    }

    @Override
    public long nanoseconds() {
        return SYSTEM.nanoseconds() + offsetMs * 1_000_000;
    }

    @Override
    public void sleep(long ms) {
        SYSTEM.sleep(ms);
    }

    @Override
    public void waitObject(Object obj, Supplier<Boolean> condition, long deadlineMs) throws InterruptedException {
        SYSTEM.waitObject(obj, condition, deadlineMs - offsetMs);
    }
}
