package io.mailstream.cli;

import io.mailstream.cli.demo.DemoCyrus;
import io.mailstream.cli.demo.DemoFolder;
import io.mailstream.cli.demo.DemoLogging;
import io.mailstream.cli.demo.DemoStatus;
import io.mailstream.cli.demo.DemoTraffic;
import io.mailstream.core.config.MailstreamConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "demo",
        description = "Run the whole pipeline on this machine: a Cyrus primary, a second-datacentre"
                + " replica, an out-of-band store and the embedded broker, fed with realistic mail; shows per-tier lag"
                + " until Ctrl-C.")
final class DemoCommand extends Subcommand {
    private static final String ADMIN = "admin";
    private static final List<String> USERS = List.of("alice", "bob", "carol", "dave", "erin");

    @Option(
            names = "--dir",
            paramLabel = "DIR",
            defaultValue = "demo-run",
            description =
                    "The demo's own folder: both Cyrus servers, the broker, the store (default: ./${DEFAULT-VALUE}; wiped on start).")
    Path dir;

    @Option(
            names = "--duration",
            paramLabel = "SECONDS",
            defaultValue = "0",
            description = "Stop by itself after this many seconds (default: run until Ctrl-C).")
    long durationSeconds;

    @Option(
            names = "--refresh",
            paramLabel = "SECONDS",
            defaultValue = "5",
            description = "Seconds between two status reports (default: ${DEFAULT-VALUE}).")
    int refreshSeconds;

    @Option(
            names = "--status-page",
            paramLabel = "HOST:PORT",
            defaultValue = "127.0.0.1:9025",
            description = "Where the status page and /metrics are served (default: ${DEFAULT-VALUE}).")
    String statusPage;

    @Option(
            names = "--install-cyrus",
            description = "Install Cyrus from Debian's packages if it is missing (needs root).")
    boolean installCyrus;

    @Override
    public Integer call() throws Exception {
        if (!DemoCyrus.installed() && !install()) return Main.USAGE;
        if (!"root".equals(System.getProperty("user.name"))) {
            err().println(displayName() + ": needs root: Cyrus's master starts as root and drops to the cyrus user");
            return Main.USAGE;
        }
        Path home = dir.toAbsolutePath().normalize();
        Path scripts = DemoCyrus.scriptsDir();
        String unusable = DemoFolder.prepare(home, scripts);
        if (unusable != null) {
            err().println(displayName() + ": " + unusable);
            return Main.USAGE;
        }
        // Kafka's and Kafka Streams' chatter would bury the live table: it goes to this file instead.
        Path log = home.resolve("demo.log");
        try (DemoLogging logging = DemoLogging.toFile(log)) {
            out().printf(
                            "%s: logs (Kafka, Kafka Streams, mailstream's INFO lines) go to %s; warnings and errors show here too%n",
                            displayName(), log);
            return run(home, scripts);
        }
    }

    private int run(Path home, Path scripts) throws Exception {
        Map<String, String> passwords = new LinkedHashMap<>();
        passwords.put(ADMIN, randomPassword());
        USERS.forEach(u -> passwords.put(u, u + "-demo"));
        List<String> sasl = passwords.entrySet().stream()
                .filter(e -> !e.getKey().equals(ADMIN))
                .map(e -> e.getKey() + ":" + e.getValue())
                .toList();
        String admin = ADMIN + ":" + passwords.get(ADMIN);

        int capturePort = DemoCyrus.freePorts(1)[0];
        DemoCyrus replica = DemoCyrus.replica(scripts, home.resolve("dc2"), admin, sasl);
        DemoCyrus primary = DemoCyrus.primary(scripts, home.resolve("primary"), capturePort, admin, sasl);
        MailstreamConfig config = MailstreamConfig.of(Map.ofEntries(
                Map.entry("data.dir", home.resolve("data").toString()),
                Map.entry("http.listen", statusPage),
                Map.entry("capture.listen", "127.0.0.1:" + capturePort),
                Map.entry("capture.auth.user", ADMIN),
                Map.entry("capture.auth.password", passwords.get(ADMIN)),
                Map.entry("tiers", "dc2,oob"),
                Map.entry("tier.dc2.type", "cyrus"),
                Map.entry("tier.dc2.cyrus.address", "127.0.0.1:" + replica.csyncPort()),
                Map.entry("tier.dc2.cyrus.password", passwords.get(ADMIN)),
                Map.entry("tier.oob.type", "store"),
                Map.entry("tier.oob.store.dir", home.resolve("store-oob").toString())));

        out().printf(
                        "%s: in %s%n  primary (dc1): IMAP 127.0.0.1:%d, LMTP %d; its mailstream channel -> capture 127.0.0.1:%d%n"
                                + "  tier dc2, a Cyrus replica: IMAP 127.0.0.1:%d, sync_server %d%n  tier oob, the out-of-band store: %s%n"
                                + "  users %s, password <user>-demo%n",
                        displayName(),
                        home,
                        primary.imapPort(),
                        primary.lmtpPort(),
                        capturePort,
                        replica.imapPort(),
                        replica.csyncPort(),
                        home.resolve("store-oob"),
                        String.join(", ", USERS));
        List<Role> roles = new ArrayList<>();
        // Started in this order and stopped in reverse: the Cyrus servers go last, after everything that talks to them.
        roles.add(Role.of("cyrus primary and dc2 replica", ctx -> DemoCyrus.startAll(replica, primary)));
        roles.addAll(RunCommand.roles(config));
        roles.add(Role.of("mail traffic and live status", ctx -> {
            primary.startMailstreamChannel();
            DemoTraffic traffic = DemoTraffic.start(primary, ADMIN, passwords);
            DemoStatus status = DemoStatus.start(
                    ctx.config(), ctx.bootstrapServers(), ctx.metrics(), traffic, out(), refreshSeconds);
            return () -> {
                traffic.close();
                status.close();
            };
        }));
        if (durationSeconds > 0) stopAfter(durationSeconds);
        return runUntilStopped(config, roles);
    }

    /** Installs Cyrus when asked to (and allowed), else says exactly what to run; false if it is still missing. */
    private boolean install() throws IOException, InterruptedException {
        if (!installCyrus) {
            err().println(displayName() + ": Cyrus IMAP 3.6 is not installed. Install it (as root) with:");
            err().println(DemoCyrus.INSTALL_COMMAND);
            err().println("or run the demo with --install-cyrus as root.");
            return false;
        }
        ProcessBuilder apt = new ProcessBuilder(DemoCyrus.INSTALL_COMMAND.split(" ")).inheritIO();
        apt.environment().put("DEBIAN_FRONTEND", "noninteractive");
        int exit = apt.start().waitFor();
        if (exit != 0 || !DemoCyrus.installed()) {
            err().println(displayName() + ": installing Cyrus failed (apt-get exit " + exit + "); run as root:");
            err().println(DemoCyrus.INSTALL_COMMAND);
            return false;
        }
        return true;
    }

    private void stopAfter(long seconds) {
        Thread timer = new Thread(
                () -> {
                    try {
                        Thread.sleep(seconds * 1000);
                        out().println(displayName() + ": " + seconds + " s are up");
                        root.stopSignal().stop();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                "demo-duration");
        timer.setDaemon(true);
        timer.start();
    }

    private static String randomPassword() {
        byte[] bytes = new byte[12];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
