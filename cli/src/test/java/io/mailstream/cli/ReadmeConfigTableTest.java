package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** README.md's table of configuration keys is generated from ConfigKeys and must not drift from it. */
class ReadmeConfigTableTest {
    static final String BEGIN = "<!-- config-keys:begin";
    static final String END = "<!-- config-keys:end -->";

    @Test
    void readmeTableEqualsTheGeneratedOne() throws Exception {
        // Surefire runs in the module folder; the README is at the repository root.
        String readme = Files.readString(Path.of("..", "README.md"));
        int begin = readme.indexOf(BEGIN);
        int end = readme.indexOf(END);
        assertThat(begin).as("README.md has no '%s' marker", BEGIN).isNotNegative();
        assertThat(end).as("README.md has no '%s' marker", END).isGreaterThan(begin);
        String table = readme.substring(readme.indexOf('\n', begin) + 1, end);
        assertThat(table)
                .as("README.md's configuration table differs from ConfigKeys: replace it with the output of"
                        + " 'bin/mailstream config --doc --markdown'")
                .isEqualTo(ConfigCommand.markdownTable());
    }
}
