package io.mailstream.cli;

import io.mailstream.core.config.ConfigKey;
import io.mailstream.core.config.ConfigKeys;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "config",
        description = "Print the effective configuration (defaults, then --config FILE, then"
                + " MAILSTREAM_* environment variables), one 'key = value' per line, secrets masked.")
final class ConfigCommand extends Subcommand {
    private static final Pattern TIER_KEY = Pattern.compile("tier\\.[^.]+\\.(.+)");

    @Option(names = "--doc", description = "Also print each key's type, default and meaning.")
    boolean doc;

    @Option(
            names = "--markdown",
            description = "With --doc: print the documentation of every key as the Markdown"
                    + " table of README.md instead (the configuration is not read).")
    boolean markdown;

    @Override
    public Integer call() {
        PrintWriter out = out();
        if (markdown) {
            if (!doc) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--markdown needs --doc");
            out.print(markdownTable());
            return Main.OK;
        }
        for (Map.Entry<String, String> e : config().describe().entrySet()) {
            out.println(e.getKey() + " = " + e.getValue());
            if (doc) {
                documentation(e.getKey())
                        .ifPresent(key -> out.println(
                                "    # " + key.typeName() + ", default " + displayDefault(key) + ". " + key.doc()));
            }
        }
        return Main.OK;
    }

    /** The documented key behind a concrete key: itself, or the tier template of {@code tier.dc2.type}. */
    static Optional<ConfigKey<?>> documentation(String concreteKey) {
        if (concreteKey.startsWith(ConfigKeys.KAFKA_CLIENT.prefix())) {
            return Optional.of(ConfigKeys.KAFKA_CLIENT);
        }
        Matcher m = TIER_KEY.matcher(concreteKey);
        String name = m.matches() ? "tier.<name>." + m.group(1) : concreteKey;
        return ConfigKeys.all().stream().filter(k -> k.name().equals(name)).findFirst();
    }

    /** Every key of {@link ConfigKeys} as a Markdown table; README.md holds a copy that a test keeps equal. */
    static String markdownTable() {
        StringBuilder s = new StringBuilder("| Key | Type | Default | Meaning |\n|---|---|---|---|\n");
        for (ConfigKey<?> key : ConfigKeys.all()) {
            String def = key.defaultValue() == null || key.defaultValue().isEmpty()
                    ? "*" + displayDefault(key) + "*"
                    : "`" + key.defaultValue() + "`";
            s.append("| `")
                    .append(key.name())
                    .append("` | ")
                    .append(escape(key.typeName()))
                    .append(" | ")
                    .append(def)
                    .append(" | ")
                    .append(escape(key.doc()))
                    .append(" |\n");
        }
        return s.toString();
    }

    private static String displayDefault(ConfigKey<?> key) {
        if (key.defaultValue() == null) return "(required)";
        return key.defaultValue().isEmpty() ? "(empty)" : key.defaultValue();
    }

    // '|' would end the table cell; '<name>' would be swallowed as an HTML tag.
    private static String escape(String text) {
        return text.replace("|", "\\|").replace("<", "\\<").replace(">", "\\>");
    }
}
