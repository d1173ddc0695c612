package io.mailstream.core.kafka;

import io.mailstream.core.config.ConfigException;
import java.util.List;

/**
 * Topics that already exist with settings mailstream cannot run on (a history topic that expires,
 * a compacted topic that deletes, too few replicas). Refused at start rather than discovered when
 * the history is gone; each problem names the topic, the setting, the value found and the one expected.
 */
public final class TopicSettingsException extends ConfigException {
    private final List<String> problems;

    public TopicSettingsException(String bootstrapServers, List<String> problems) {
        super("existing topics on " + bootstrapServers + " have settings mailstream cannot run on (fix them with"
                + " kafka-configs.sh / kafka-reassign-partitions.sh, or delete the topic if it holds nothing yet):\n  "
                + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
