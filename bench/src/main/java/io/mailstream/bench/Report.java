package io.mailstream.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The result of one benchmark run: a short table on stdout, and one dated line appended to
 * {@code bench/results/<name>.tsv} with the facts that make numbers from different machines
 * comparable (cores, Java, load at the start, commit).
 */
final class Report {
    private final String name;
    private final Map<String, String> machine;
    private final Map<String, String> columns = new LinkedHashMap<>();
    private final List<String[]> rows = new ArrayList<>();

    /** Takes the machine facts now, before the benchmark loads the machine itself. */
    Report(String name) {
        this.name = name;
        this.machine = machineFacts();
    }

    /** A line of the printed table; not recorded in the TSV (use {@link #column} for that). */
    Report row(String what, String value) {
        rows.add(new String[] {what, value});
        return this;
    }

    /** A value recorded in the TSV line (the table shows it through a {@link #row}). */
    Report column(String key, Object value) {
        columns.put(key, String.valueOf(value));
        return this;
    }

    /** The percentile columns {@code <prefix>_p50 .. _max} of latency samples. */
    Report percentileColumns(String prefix, Stats s, String format) {
        column(prefix + "_n", s.n());
        column(prefix + "_p50", String.format(format, s.p50()));
        column(prefix + "_p90", String.format(format, s.p90()));
        column(prefix + "_p99", String.format(format, s.p99()));
        column(prefix + "_max", String.format(format, s.max()));
        return this;
    }

    /** Prints the table and appends the TSV line (with a header when the file is new). */
    void finish() {
        System.out.println();
        System.out.println("== " + name + " ==");
        int width = rows.stream().mapToInt(r -> r[0].length()).max().orElse(0);
        String format = "  %-" + Math.max(width, 16) + "s  %s%n";
        machine.forEach((k, v) -> System.out.printf(format, k, v));
        for (String[] r : rows) {
            System.out.printf(format, r[0], r[1]);
        }
        Path file = resultsDir().resolve(name + ".tsv");
        Map<String, String> line = new LinkedHashMap<>(machine);
        line.putAll(columns);
        try {
            Files.createDirectories(file.getParent());
            String header = String.join("\t", line.keySet());
            StringBuilder out = new StringBuilder();
            // A header for a new file, and again when the columns changed, so older lines stay readable.
            if (!Files.exists(file) || !header.equals(lastHeader(file))) {
                out.append(header).append('\n');
            }
            out.append(String.join(
                            "\t",
                            line.values().stream()
                                    .map(v -> v.replace('\t', ' '))
                                    .toList()))
                    .append('\n');
            Files.writeString(file, out, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the result in " + file, e);
        }
        System.out.println("  recorded in " + file);
    }

    private static String lastHeader(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith("date\t")) {
                return lines.get(i);
            }
        }
        return "";
    }

    /** {@code -Dmailstream.bench.results} (bench/run.sh sets it), else bench/results under the working directory. */
    private static Path resultsDir() {
        String configured = System.getProperty("mailstream.bench.results");
        return configured != null ? Path.of(configured) : Path.of("bench", "results");
    }

    private static Map<String, String> machineFacts() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("date", OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString());
        m.put("commit", command("git", "rev-parse", "--short", "HEAD"));
        m.put("nproc", String.valueOf(Runtime.getRuntime().availableProcessors()));
        m.put("cpu", firstValue(Path.of("/proc/cpuinfo"), "model name"));
        m.put("mem", firstValue(Path.of("/proc/meminfo"), "MemTotal"));
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        // The machine is shared: a load far above nproc at the start says the numbers are pessimistic.
        m.put("load1_at_start", readOrUnknown(Path.of("/proc/loadavg")).split(" ")[0]);
        return m;
    }

    private static String firstValue(Path file, String key) {
        for (String l : readOrUnknown(file).split("\n")) {
            if (l.startsWith(key)) {
                return l.substring(l.indexOf(':') + 1).trim();
            }
        }
        return "unknown";
    }

    private static String readOrUnknown(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String command(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
