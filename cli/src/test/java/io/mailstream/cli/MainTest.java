package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MainTest {
    @TempDir
    Path dir;

    @Test
    void helpListsEverySubcommand() {
        Cli cli = new Cli(Map.of());
        assertThat(cli.run("--help")).isZero();
        for (String sub : new String[] {
            "run",
            "kafka",
            "config",
            "capture",
            "streams",
            "sink",
            "events",
            "status",
            "dashboard",
            "check",
            "promote",
            "reconcile",
            "rebuild",
            "audit",
            "demo"
        }) {
            assertThat(cli.out()).containsPattern("(?m)^\\s+" + sub + "\\s");
        }
    }

    @Test
    void noSubcommandIsAUsageError() {
        Cli cli = new Cli(Map.of());
        assertThat(cli.run()).isEqualTo(Main.USAGE);
        assertThat(cli.err()).contains("a subcommand is required");
    }

    @Test
    void configPrintsEffectiveKeysFromFileAndEnvironmentWithSecretsMasked() throws Exception {
        Path file = dir.resolve("m.properties");
        Files.writeString(file, """
                capture.auth.password=hunter2
                site=dc1
                tiers=dc2
                tier.dc2.type=cyrus
                tier.dc2.cyrus.address=127.0.0.1:2006
                tier.dc2.cyrus.password=s3cret
                """);
        Cli cli = new Cli(Map.of("MAILSTREAM_SITE", "dc9"));
        // --config may also follow the subcommand.
        assertThat(cli.run("config", "--config", file.toString())).isZero();
        assertThat(cli.out().lines())
                .contains(
                        "capture.auth.password = ******",
                        "tier.dc2.cyrus.password = ******",
                        "tier.dc2.cyrus.address = 127.0.0.1:2006",
                        "site = dc9",
                        "kafka.bootstrap.servers = ",
                        "capture.listen = 127.0.0.1:2005");
        assertThat(cli.out()).doesNotContain("hunter2").doesNotContain("s3cret");
    }

    @Test
    void configMasksUnknownKeysThatLookLikeSecrets() throws Exception {
        Path file = dir.resolve("m.properties");
        Files.writeString(file, "capture.auth.pasword=typo-hunter2\nsome.api.token=t0ken\nsite.label=visible\n");
        Cli cli = new Cli(Map.of());
        assertThat(cli.run("config", "--config", file.toString())).isZero();
        assertThat(cli.out().lines())
                .contains(
                        "capture.auth.pasword = ******   (unknown key: ignored)",
                        "site.label = visible   (unknown key: ignored)");
        assertThat(cli.out()).doesNotContain("typo-hunter2").doesNotContain("t0ken");
    }

    @Test
    void rebuildTakesItsPasswordFromAFileOrTheEnvironmentNeverFromTheCommandLine() throws Exception {
        Cli withOption = new Cli(Map.of());
        assertThat(withOption.run(
                        "rebuild", "--from-store", dir.toString(), "--to", "127.0.0.1:1", "--auth-password", "secret"))
                .isEqualTo(Main.USAGE);
        assertThat(withOption.err()).contains("--auth-password");
        Cli without = new Cli(Map.of());
        assertThat(without.run("rebuild", "--from-store", dir.toString(), "--to", "127.0.0.1:1"))
                .isEqualTo(Main.USAGE);
        assertThat(without.err()).contains("give --auth-password-file FILE or set MAILSTREAM_REBUILD_PASSWORD");
        Cli missingFile = new Cli(Map.of());
        assertThat(missingFile.run(
                        "rebuild",
                        "--from-store",
                        dir.toString(),
                        "--to",
                        "127.0.0.1:1",
                        "--auth-password-file",
                        dir.resolve("none").toString()))
                .isEqualTo(Main.USAGE);
        assertThat(missingFile.err()).contains("cannot read the password file");
    }

    @Test
    void configDocExplainsEveryPrintedKey() {
        Cli cli = new Cli(Map.of("MAILSTREAM_TIERS", "oob", "MAILSTREAM_TIER_OOB_TYPE", "store"));
        assertThat(cli.run("config", "--doc")).isZero();
        assertThat(cli.out()).contains("tier.oob.type = store\n    # cyrus|store, default (required). Kind of tier:");
        assertThat(cli.out())
                .contains("kafka.bootstrap.servers = \n    # text, default (empty). Kafka bootstrap servers");
        long keys = cli.out().lines().filter(l -> l.contains(" = ")).count();
        long docs = cli.out().lines().filter(l -> l.startsWith("    # ")).count();
        assertThat(docs).isEqualTo(keys);
    }

    @Test
    void missingExplicitConfigFileIsAUsageErrorWithoutStackTrace() {
        Cli cli = new Cli(Map.of());
        assertThat(cli.run("--config", dir.resolve("nope.properties").toString(), "config"))
                .isEqualTo(Main.USAGE);
        assertThat(cli.err())
                .isEqualTo("mailstream config: configuration error: configuration file "
                        + dir.resolve("nope.properties") + " does not exist\n");
    }

    @Test
    void badValueNamesTheKey() {
        Cli cli = new Cli(Map.of("MAILSTREAM_KAFKA_TOPIC_PARTITIONS", "many"));
        assertThat(cli.run("config")).isEqualTo(Main.USAGE);
        assertThat(cli.err())
                .startsWith("mailstream config: configuration error: kafka.topic.partitions: expected integer")
                .doesNotContain("\tat ");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "--since yesterday",
                "--uid 3",
                "--guid xyz",
                "--at 2026-12-02 --uid 1",
                "--since 2026-12-02 --until 2026-12-01"
            })
    void auditNamesABadOptionBeforeConnecting(String args) {
        Cli cli = new Cli(Map.of("MAILSTREAM_DATA_DIR", dir.toString()));
        List<String> all = new java.util.ArrayList<>(List.of("audit", "--user", "alice"));
        all.addAll(List.of(args.split(" ")));
        assertThat(cli.run(all.toArray(new String[0]))).isEqualTo(Main.USAGE);
        assertThat(cli.err()).startsWith("audit: ").contains(args.split(" ")[0]);
        assertThat(cli.out()).isEmpty();
        assertThat(dir.resolve("kafka")).doesNotExist();
    }

    @ParameterizedTest
    @ValueSource(strings = {"reconcile"})
    void unimplementedSubcommandsSaySoAndExit2(String args) {
        Cli cli = new Cli(Map.of(
                "MAILSTREAM_TIERS", "dc2", "MAILSTREAM_TIER_DC2_TYPE", "store", "MAILSTREAM_DATA_DIR", dir.toString()));
        String name = args.split(" ")[0];
        assertThat(cli.run(args.split(" "))).isEqualTo(Main.USAGE);
        assertThat(cli.err()).isEqualTo("mailstream " + name + ": not implemented yet\n");
        assertThat(cli.out()).isEmpty();
        // Nothing may have been started on the way: no embedded broker was created.
        assertThat(dir.resolve("kafka")).doesNotExist();
    }

    @Test
    void checkWithoutAnyBrokerSaysWhereItLookedAndDeleteExtraNeedsRepair() {
        Cli cli = new Cli(Map.of("MAILSTREAM_DATA_DIR", dir.toString()));
        assertThat(cli.run("check")).isEqualTo(Main.USAGE);
        assertThat(cli.err()).contains("no embedded broker has run in " + dir.resolve("kafka"));
        Cli extra = new Cli(Map.of("MAILSTREAM_DATA_DIR", dir.toString()));
        assertThat(extra.run("check", "--delete-extra")).isEqualTo(Main.USAGE);
        assertThat(extra.err()).isEqualTo("mailstream check: --delete-extra needs --repair\n");
        assertThat(dir.resolve("kafka")).doesNotExist();
    }

    @Test
    void statusWithoutAnyBrokerSaysWhereItLooked() {
        Cli cli = new Cli(Map.of("MAILSTREAM_DATA_DIR", dir.toString()));
        assertThat(cli.run("status")).isEqualTo(Main.USAGE);
        assertThat(cli.err()).contains("no embedded broker has run in " + dir.resolve("kafka"));
    }

    @Test
    void sinkRefusesATierThatIsNotConfigured() {
        Cli cli = new Cli(Map.of());
        assertThat(cli.run("sink", "--tier", "dc3")).isEqualTo(Main.USAGE);
        assertThat(cli.err()).contains("--tier dc3: not a configured tier");
    }

    @Test
    void runWillNotRunNothing() {
        Cli cli = new Cli(Map.of(
                "MAILSTREAM_KAFKA_BOOTSTRAP_SERVERS",
                "127.0.0.1:1",
                "MAILSTREAM_STREAMS_ENABLED",
                "false",
                "MAILSTREAM_CAPTURE_ENABLED",
                "false"));
        assertThat(cli.run("run")).isEqualTo(Main.USAGE);
        assertThat(cli.err()).contains("nothing to run");
    }

    @Test
    void kafkaRefusesAnExternalBroker() {
        Cli cli = new Cli(Map.of("MAILSTREAM_KAFKA_BOOTSTRAP_SERVERS", "kafka1:9092"));
        assertThat(cli.run("kafka")).isEqualTo(Main.USAGE);
        assertThat(cli.err())
                .contains("runs only the embedded broker; unset it (and MAILSTREAM_KAFKA_BOOTSTRAP_SERVERS)");
    }

    @Test
    void embeddedListenAddressMustBeLoopback() {
        Cli cli = new Cli(
                Map.of("MAILSTREAM_KAFKA_EMBEDDED_LISTEN", "0.0.0.0:9092", "MAILSTREAM_DATA_DIR", dir.toString()));
        assertThat(cli.run("kafka")).isEqualTo(Main.USAGE);
        assertThat(cli.err()).contains("kafka.embedded.listen: expected 127.0.0.1:PORT");
    }
}
