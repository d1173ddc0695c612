package io.mailstream.cli.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The demo's two Cyrus servers, made and run by the infra/cyrus scripts of this checkout: a
 * primary whose {@code mailstream} sync-log channel points at capture, and a second-datacentre
 * replica serving csync. Each lives in its own folder; {@link #stop()} stops everything the
 * scripts started there (sync_clients, master, syslog sink).
 */
public final class DemoCyrus {
    /** The Debian packages the demo (and the tests) need. */
    public static final String INSTALL_COMMAND =
            "apt-get install -y cyrus-imapd cyrus-replication cyrus-admin cyrus-clients sasl2-bin";

    private static final Path CYRUS_BIN = Path.of("/usr/lib/cyrus/bin");
    static final String HOST = "127.0.0.1";

    private final Path scripts;
    private final Path dir;
    private final int imapPort;
    private final int lmtpPort;
    private final int sievePort;
    /** The replica's sync_server port; -1 on the primary. */
    private final int csyncPort;

    private boolean started;

    private DemoCyrus(Path scripts, Path dir, int[] ports, boolean replica) {
        this.scripts = scripts;
        this.dir = dir;
        this.imapPort = ports[0];
        this.lmtpPort = ports[1];
        this.sievePort = ports[2];
        this.csyncPort = replica ? ports[3] : -1;
    }

    /** Whether the Cyrus 3.6 tools the demo runs are installed. */
    public static boolean installed() {
        for (String tool : List.of("master", "imapd", "lmtpd", "sync_client", "sync_server")) {
            if (!Files.isExecutable(CYRUS_BIN.resolve(tool))) return false;
        }
        return Files.isExecutable(Path.of("/usr/sbin/saslpasswd2"));
    }

    public int imapPort() {
        return imapPort;
    }

    public int lmtpPort() {
        return lmtpPort;
    }

    public int csyncPort() {
        return csyncPort;
    }

    /** A primary replicating its {@code mailstream} channel to capture at {@code capturePort}. */
    public static DemoCyrus primary(Path scripts, Path dir, int capturePort, String admin, List<String> users)
            throws IOException {
        DemoCyrus p = new DemoCyrus(scripts, dir, freePorts(3), false);
        p.create(
                "primary",
                admin,
                users,
                "--mailstream-host",
                HOST,
                "--mailstream-port",
                "" + capturePort,
                "--sync-repeat-interval",
                "1");
        return p;
    }

    /** A replica serving csync (its sync_server) for the dc2 sink. */
    public static DemoCyrus replica(Path scripts, Path dir, String admin, List<String> users) throws IOException {
        int[] ports = freePorts(4);
        DemoCyrus r = new DemoCyrus(scripts, dir, ports, true);
        r.create("replica", admin, users, "--csync-port", "" + ports[3]);
        return r;
    }

    private void create(String role, String admin, List<String> users, String... options) throws IOException {
        List<String> args = new ArrayList<>(List.of(
                "--role",
                role,
                "--dir",
                dir.toString(),
                "--imap-port",
                "" + imapPort,
                "--lmtp-port",
                "" + lmtpPort,
                "--sieve-port",
                "" + sievePort,
                "--admin",
                admin));
        args.addAll(List.of(options));
        users.forEach(u -> args.addAll(List.of("--user", u)));
        script("create-instance.sh", args);
    }

    /** Starts the replica, then the primary; returns what stops both (the primary first). */
    public static AutoCloseable startAll(DemoCyrus replica, DemoCyrus primary) throws IOException {
        replica.start();
        try {
            primary.start();
        } catch (IOException | RuntimeException e) {
            replica.stop();
            throw e;
        }
        return () -> {
            try {
                primary.stop();
            } finally {
                replica.stop();
            }
        };
    }

    /** Stops whatever an earlier run left in an instance folder (e.g. after kill -9 of the demo). */
    public static void stopLeftovers(Path scripts, Path dir) throws IOException {
        if (Files.exists(dir.resolve("instance.env")))
            new DemoCyrus(scripts, dir, new int[4], false).script("stop-instance.sh", List.of(dir.toString()));
    }

    void start() throws IOException {
        List<String> args = new ArrayList<>();
        // Cyrus reports errors only to syslog; without a host syslog, keep them in DIR/log/syslog.log.
        if (!Files.exists(Path.of("/dev/log"))) args.add("--syslog");
        args.add(dir.toString());
        script("start-instance.sh", args);
        started = true;
    }

    /** The rolling sync_client of the mailstream channel, with -O as the README says (never changes the primary). */
    public void startMailstreamChannel() throws IOException {
        script("start-sync-client.sh", List.of(dir.toString(), "mailstream", "-O"));
    }

    /** Stops what the scripts started in this folder; harmless if nothing runs. */
    void stop() throws IOException {
        if (started) script("stop-instance.sh", List.of(dir.toString()));
        started = false;
    }

    private void script(String name, List<String> args) throws IOException {
        List<String> cmd =
                new ArrayList<>(List.of("/bin/bash", scripts.resolve(name).toString()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        // Background children (master, sync_client) write to their own log files, so this ends.
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException(name + " " + String.join(" ", args) + " failed:\n" + output.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + name, e);
        }
    }

    /** Distinct free loopback ports (another program may take one first; Cyrus then fails to start and says so). */
    public static int[] freePorts(int count) {
        Set<Integer> ports = new LinkedHashSet<>();
        while (ports.size() < count) {
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                ports.add(probe.getLocalPort());
            } catch (IOException e) {
                throw new UncheckedIOException("finding a free loopback port", e);
            }
        }
        return ports.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * infra/cyrus of this checkout: above the running jar or classes (bin/mailstream runs
     * cli/target/...), else above the working directory.
     */
    public static Path scriptsDir() {
        List<Path> starts = new ArrayList<>();
        try {
            starts.add(Path.of(DemoCyrus.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI()));
        } catch (Exception e) {
            // no code source (unusual class loader): the working directory is still tried
        }
        starts.add(Path.of("").toAbsolutePath());
        for (Path start : starts) {
            for (Path p = start; p != null; p = p.getParent()) {
                if (Files.isRegularFile(p.resolve("infra/cyrus/create-instance.sh"))) return p.resolve("infra/cyrus");
            }
        }
        throw new IllegalStateException("infra/cyrus/create-instance.sh not found above " + starts
                + ": run the demo from a mailstream checkout (bin/mailstream demo)");
    }
}
