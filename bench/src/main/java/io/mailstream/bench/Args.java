package io.mailstream.bench;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** {@code --key value} or {@code --key=value} options of a benchmark main; anything unknown is an error. */
final class Args {
    private final Map<String, String> values = new HashMap<>();

    private Args(String[] args, Set<String> known) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("expected --option, got '" + a + "' (options: " + known + ")");
            }
            String key = a.contains("=") ? a.substring(2, a.indexOf('=')) : a.substring(2);
            String value = a.contains("=") ? a.substring(a.indexOf('=') + 1) : (i + 1 < args.length ? args[++i] : null);
            if (!known.contains(key) || value == null) {
                throw new IllegalArgumentException(
                        "unknown option or missing value: " + a + " (options: " + known + ")");
            }
            values.put(key, value);
        }
    }

    static Args parse(String[] args, String... known) {
        return new Args(args, Set.of(known));
    }

    int integer(String key, int defaultValue) {
        String v = values.get(key);
        return v == null ? defaultValue : Integer.parseInt(v);
    }
}
