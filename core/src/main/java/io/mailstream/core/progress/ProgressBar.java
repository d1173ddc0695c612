package io.mailstream.core.progress;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress of a long job (a rebuild, a backfill) for a person watching it:
 * {@code [=====>    ] 42/100 users 3.1 MB/s eta 12s}. On a terminal the line is redrawn in
 * place (carriage return, at most every 100 ms); elsewhere (log files, CI) the same text is
 * printed as a plain line at most once per interval, so logs do not fill up with redraws.
 * Thread-safe: several workers may report into one bar.
 */
public final class ProgressBar implements AutoCloseable {
    private static final int WIDTH = 20;
    private static final long TTY_REDRAW_NANOS = Duration.ofMillis(100).toNanos();

    private final PrintStream out;
    private final boolean tty;
    private final long total;
    private final String unit;
    private final long plainIntervalNanos;
    private final LongSupplier nanoClock;
    private final long startNanos;
    private long done;
    private long bytes;
    private long lastDrawNanos;
    private int lastLength;
    private boolean drawn;
    private boolean dirty;
    private boolean closed;

    /**
     * @param total  units expected (0 or less: unknown, no bar and no eta)
     * @param unit   what is counted, e.g. "users"
     */
    public ProgressBar(
            PrintStream out, boolean tty, long total, String unit, Duration plainInterval, LongSupplier nanoClock) {
        this.out = out;
        this.tty = tty;
        this.total = total;
        this.unit = unit;
        this.plainIntervalNanos = plainInterval.toNanos();
        this.nanoClock = nanoClock;
        this.startNanos = nanoClock.getAsLong();
        this.lastDrawNanos = startNanos;
    }

    /** A bar on stderr, redrawn in place when this process has a terminal, a line every 10 s otherwise. */
    public static ProgressBar onStderr(long total, String unit) {
        return new ProgressBar(
                System.err, System.console() != null, total, unit, Duration.ofSeconds(10), System::nanoTime);
    }

    /** Records {@code units} more finished and {@code byteCount} more bytes moved. */
    public synchronized void advance(long units, long byteCount) {
        if (closed) return;
        done += units;
        bytes += byteCount;
        dirty = true;
        long now = nanoClock.getAsLong();
        if (now - lastDrawNanos >= (tty ? TTY_REDRAW_NANOS : plainIntervalNanos)) {
            draw(now);
        }
    }

    /** Draws the final state (unless already shown) and ends the line; further advances are ignored. */
    @Override
    public synchronized void close() {
        if (closed) return;
        if (dirty || !drawn) draw(nanoClock.getAsLong());
        if (tty) out.println();
        closed = true;
    }

    private void draw(long now) {
        lastDrawNanos = now;
        drawn = true;
        dirty = false;
        String line = render(done, bytes, now - startNanos);
        if (tty) {
            // Pad with spaces so that a shorter line fully covers the previous one.
            out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
            lastLength = line.length();
        } else {
            out.println(line);
        }
        out.flush();
    }

    String render(long done, long bytes, long elapsedNanos) {
        StringBuilder s = new StringBuilder();
        if (total > 0) {
            int filled = (int) Math.min(WIDTH, done * WIDTH / total);
            s.append('[').append("=".repeat(filled));
            if (filled < WIDTH) s.append('>').append(" ".repeat(WIDTH - filled - 1));
            s.append("] ").append(done).append('/').append(total);
        } else {
            s.append(done);
        }
        s.append(' ').append(unit);
        double seconds = elapsedNanos / 1e9;
        if (bytes > 0 && seconds > 0) {
            s.append(' ').append(rate(bytes / seconds));
        }
        if (total > 0 && done < total) {
            s.append(" eta ").append(done > 0 ? duration((long) (seconds * (total - done) / done)) : "?");
        }
        return s.toString();
    }

    private static String rate(double bytesPerSecond) {
        if (bytesPerSecond < 1e3) return String.format(Locale.ROOT, "%.0f B/s", bytesPerSecond);
        if (bytesPerSecond < 1e6) return String.format(Locale.ROOT, "%.1f kB/s", bytesPerSecond / 1e3);
        if (bytesPerSecond < 1e9) return String.format(Locale.ROOT, "%.1f MB/s", bytesPerSecond / 1e6);
        return String.format(Locale.ROOT, "%.1f GB/s", bytesPerSecond / 1e9);
    }

    private static String duration(long seconds) {
        if (seconds < 60) return seconds + "s";
        if (seconds < 3600) return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
        return String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, seconds % 3600 / 60);
    }
}
