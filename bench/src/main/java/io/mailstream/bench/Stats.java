package io.mailstream.bench;

import java.util.Collection;

/** Order statistics of a set of samples (nearest-rank percentiles: every reported value was measured). */
record Stats(int n, double min, double p50, double p90, double p99, double max) {

    static Stats of(Collection<? extends Number> samples) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        double[] sorted =
                samples.stream().mapToDouble(Number::doubleValue).sorted().toArray();
        return new Stats(
                sorted.length,
                sorted[0],
                rank(sorted, 50),
                rank(sorted, 90),
                rank(sorted, 99),
                sorted[sorted.length - 1]);
    }

    private static double rank(double[] sorted, int percent) {
        int index = (int) Math.ceil(percent / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    /** Median and the full range: with about ten iterations, p90/p99 would just be the maximum again. */
    String medianAndSpread(String format) {
        return String.format(format, p50) + " (" + String.format(format, min) + " .. " + String.format(format, max)
                + ")";
    }

    String percentiles(String format) {
        return "p50 " + String.format(format, p50) + ", p90 " + String.format(format, p90) + ", p99 "
                + String.format(format, p99) + ", max " + String.format(format, max) + " (n=" + n + ")";
    }
}
