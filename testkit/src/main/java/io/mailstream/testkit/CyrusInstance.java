package io.mailstream.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Cyrus 3.6 instance (primary or replica) on loopback, created and run by the infra/cyrus scripts in a
 * fresh short directory under /tmp. Closing it stops every process it started and deletes the directory
 * (unless {@code -Dmailstream.cyrus.keep=true}).
 */
public final class CyrusInstance implements AutoCloseable {
    /** The sync-log channel without a name: {@code lib/sync/log}, options {@code sync_*}. */
    public static final String DEFAULT_CHANNEL = "";

    public static final String MAILSTREAM_CHANNEL = "mailstream";
    public static final Path CYRUS_BIN = Path.of("/usr/lib/cyrus/bin");
    private static final Logger log = LoggerFactory.getLogger(CyrusInstance.class);
    private static final String HOST = "127.0.0.1";

    public enum Role {
        PRIMARY,
        REPLICA
    }

    /** Exit code and combined output of a script or Cyrus tool. */
    public record ProcessResult(int exitCode, String output) {}

    private final Role role;
    private final Path dir;
    private final Path scripts;
    private final int imapPort;
    private final int lmtpPort;
    private final int sievePort;
    private final int csyncPort;
    private final CyrusEndpoint endpoint;
    private boolean running;

    private CyrusInstance(Builder b, Path dir, Path scripts, int[] ports) {
        this.role = b.role;
        this.dir = dir;
        this.scripts = scripts;
        this.imapPort = ports[0];
        this.lmtpPort = ports[1];
        this.sievePort = ports[2];
        this.csyncPort = ports[3];
        this.endpoint = new CyrusEndpoint(HOST, imapPort, lmtpPort, sievePort, b.admin, Map.copyOf(b.users));
    }

    public static Builder primary() {
        return new Builder(Role.PRIMARY);
    }

    public static Builder replica() {
        return new Builder(Role.REPLICA);
    }

    /**
     * Fails (AssertionError, never a skip) when Cyrus or root is missing: tests that need Cyrus must not pass
     * silently on a machine without it, in CI or elsewhere.
     */
    public static void requireCyrus() {
        List<String> missing = new ArrayList<>();
        for (String tool :
                List.of("master", "imapd", "lmtpd", "timsieved", "sync_client", "sync_server", "ctl_cyrusdb")) {
            if (!Files.isExecutable(CYRUS_BIN.resolve(tool)))
                missing.add(CYRUS_BIN.resolve(tool).toString());
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/saslpasswd2"))) missing.add("/usr/sbin/saslpasswd2");
        if (!missing.isEmpty()) {
            throw new AssertionError("Cyrus IMAP 3.6 is required but missing: " + missing
                    + " (install cyrus-imapd cyrus-replication sasl2-bin; CI=" + System.getenv("CI") + ")");
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new AssertionError("Cyrus test instances need root (master drops to the cyrus user); running as "
                    + System.getProperty("user.name"));
        }
    }

    public Role role() {
        return role;
    }

    public Path dir() {
        return dir;
    }

    public String host() {
        return HOST;
    }

    public int imapPort() {
        return imapPort;
    }

    public int lmtpPort() {
        return lmtpPort;
    }

    public int sievePort() {
        return sievePort;
    }

    /** The replica's sync_server port, or -1 on a primary. */
    public int csyncPort() {
        return csyncPort;
    }

    public CyrusEndpoint endpoint() {
        return endpoint;
    }

    public Path imapdConf() {
        return dir.resolve("imapd.conf");
    }

    /** Cyrus's syslog, captured when the host has no /dev/log (see infra/cyrus/README.md). */
    public Path syslogFile() {
        return dir.resolve("log/syslog.log");
    }

    /** {@code lib/sync/log} for the default channel, {@code lib/sync/<channel>/log} otherwise. */
    public Path syncLogFile(String channel) {
        Path sync = dir.resolve("lib/sync");
        return (channel == null || channel.isEmpty() ? sync : sync.resolve(channel)).resolve("log");
    }

    /** The file a rolling sync_client works on: {@code log} renamed to {@code log-run} while being replicated. */
    public Path syncLogRunFile(String channel) {
        return syncLogFile(channel).resolveSibling("log-run");
    }

    /** Neither {@code log} nor {@code log-run} exists: everything logged so far was replicated (or never logged). */
    public boolean isSyncLogDrained(String channel) {
        return !Files.exists(syncLogFile(channel)) && !Files.exists(syncLogRunFile(channel));
    }

    /** Waits until {@link #isSyncLogDrained} holds; throws with the sync_client log tail on timeout. */
    public void awaitSyncLogDrained(String channel, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isSyncLogDrained(channel)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("sync log of channel '" + channel + "' not drained after " + timeout
                        + "\n--- sync_client output:\n" + tail(syncClientLog(channel), 20)
                        + "\n--- syslog:\n" + tail(syslogFile(), 20));
            }
            sleep(20);
        }
    }

    public Path syncClientLog(String channel) {
        return dir.resolve("log/sync_client" + suffix(channel) + ".log");
    }

    /**
     * Starts a rolling {@code sync_client -R [-n channel] [args]} (infra/cyrus/start-sync-client.sh),
     * e.g. {@code startSyncClient(MAILSTREAM_CHANNEL, "-O")} as the README runs capture's channel.
     */
    public void startSyncClient(String channel, String... args) {
        List<String> all = new ArrayList<>(List.of(dir.toString(), channel == null ? "" : channel));
        all.addAll(List.of(args));
        script("start-sync-client.sh", all.toArray(String[]::new));
    }

    /** Clean stop through the shutdown file (sync_client sends EXIT), then SIGTERM if needed. */
    public void stopSyncClient(String channel) {
        script("stop-sync-client.sh", dir.toString(), channel == null ? "" : channel);
    }

    /** SIGKILLs the channel's sync_client: simulates a crash (the log or log-run stays behind). */
    public void killSyncClient(String channel) {
        Path pidFile = dir.resolve("run/sync_client" + suffix(channel) + ".pid");
        try {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            Files.delete(pidFile);
        } catch (IOException e) {
            throw new UncheckedIOException("no sync_client pid file " + pidFile, e);
        }
    }

    /** Runs a Cyrus tool from /usr/lib/cyrus/bin with {@code -C <this imapd.conf>}, e.g. runTool("cyr_synclog", "-u", "alice"). */
    public ProcessResult runTool(String tool, String... args) {
        List<String> cmd = new ArrayList<>(
                List.of(CYRUS_BIN.resolve(tool).toString(), "-C", imapdConf().toString()));
        cmd.addAll(List.of(args));
        return exec(cmd, Duration.ofSeconds(60));
    }

    /** Stops master (and sync_clients started through this object) by pid file; idempotent. */
    public void stop() {
        if (running) {
            script("stop-instance.sh", dir.toString());
            running = false;
        }
    }

    /** Starts master again after {@link #stop()}, with the same directory and ports. */
    public void start() {
        List<String> args = new ArrayList<>();
        if (Builder.syslogWanted()) args.add("--syslog");
        args.add(dir.toString());
        script("start-instance.sh", args.toArray(String[]::new));
        running = true;
    }

    @Override
    public void close() {
        try {
            stop();
        } finally {
            if (!Boolean.getBoolean("mailstream.cyrus.keep")) deleteTree(dir);
            else log.info("keeping Cyrus instance directory {}", dir);
        }
    }

    @Override
    public String toString() {
        return role + "[" + dir + " imap " + imapPort + "]";
    }

    private static String suffix(String channel) {
        return channel == null || channel.isEmpty() ? "" : "." + channel;
    }

    private ProcessResult script(String name, String... args) {
        List<String> cmd =
                new ArrayList<>(List.of("/bin/bash", scripts.resolve(name).toString()));
        cmd.addAll(List.of(args));
        ProcessResult r = exec(cmd, Duration.ofSeconds(60));
        if (r.exitCode() != 0) {
            throw new IllegalStateException(name + " " + String.join(" ", args) + " failed (" + r.exitCode() + "):\n"
                    + r.output() + "\n--- syslog:\n" + tail(syslogFile(), 30));
        }
        log.debug("{}: {}", name, r.output().strip());
        return r;
    }

    private static ProcessResult exec(List<String> cmd, Duration timeout) {
        return exec(cmd, java.util.Map.of(), timeout);
    }

    /** Runs {@code cmd} with these extra environment variables; its background children must redirect their own output. */
    static ProcessResult exec(List<String> cmd, java.util.Map<String, String> env, Duration timeout) {
        try {
            ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
            builder.environment().putAll(env);
            Process p = builder.start();
            p.getOutputStream().close();
            // Background children (sync_client, master) get their own output files, so this stream ends.
            byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + cmd);
            }
            return new ProcessResult(p.exitValue(), new String(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("running " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + cmd, e);
        }
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no " + file + ")";
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) return;
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            log.warn("could not delete {}: {}", root, e.toString());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Locates infra/cyrus. */
    static Path scriptsDir() {
        return infraDir("cyrus", "create-instance.sh");
    }

    /** Locates infra/{@code name} (holding {@code script}) by walking up from the working directory (or {@code -Dmailstream.repo.root}). */
    static Path infraDir(String name, String script) {
        String configured = System.getProperty("mailstream.repo.root");
        Path start = Path.of(configured != null ? configured : System.getProperty("user.dir"))
                .toAbsolutePath();
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("infra").resolve(name).resolve(script)))
                return p.resolve("infra").resolve(name);
        }
        throw new AssertionError("infra/" + name + "/" + script + " not found above " + start);
    }

    /** Free loopback TCP ports, distinct. The usual small race (someone else binding first) is accepted. */
    static int[] freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("allocating ports", e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // port probing only
                }
            }
        }
    }

    public static final class Builder {
        private final Role role;
        private String admin = "admin";
        private final Map<String, String> users = new LinkedHashMap<>();
        private String syncHost;
        private int syncPort;
        private String mailstreamHost;
        private int mailstreamPort;
        private int repeatInterval = 0;
        private String deleteMode = "delayed";
        private String expungeMode = "delayed";
        private Path annotationDefinitions;
        private final List<String> options = new ArrayList<>();
        private boolean serveCsync;

        private Builder(Role role) {
            this.role = role;
            users.put(admin, "adminpw");
        }

        /** The Cyrus admin (also the csync auth user); default admin/adminpw. */
        public Builder admin(String name, String password) {
            users.remove(admin);
            admin = name;
            users.put(name, password);
            return this;
        }

        public Builder user(String name, String password) {
            users.put(name, password);
            return this;
        }

        /** Default channel "" replicates to this csync endpoint (e.g. a replica's sync_server). */
        public Builder syncTarget(String host, int port) {
            syncHost = host;
            syncPort = port;
            return this;
        }

        /** Default channel "" replicates to {@code replica}'s sync_server. */
        public Builder syncTo(CyrusInstance replica) {
            if (replica.csyncPort() <= 0) throw new IllegalArgumentException(replica + " has no sync_server");
            return syncTarget(replica.host(), replica.csyncPort());
        }

        /** Channel "mailstream" replicates to this csync endpoint (mailstream's capture). */
        public Builder mailstreamTarget(String host, int port) {
            mailstreamHost = host;
            mailstreamPort = port;
            return this;
        }

        /** Rolling poll period in seconds; 0 (the default here) polls every 100 ms. */
        public Builder syncRepeatInterval(int seconds) {
            repeatInterval = seconds;
            return this;
        }

        public Builder deleteMode(String mode) {
            deleteMode = mode;
            return this;
        }

        public Builder expungeMode(String mode) {
            expungeMode = mode;
            return this;
        }

        public Builder annotationDefinitions(Path file) {
            annotationDefinitions = file;
            return this;
        }

        /** A primary serves csync (sync_server) too, for tools that read it as sync_client reads a replica; a replica always does. */
        public Builder serveCsync() {
            serveCsync = true;
            return this;
        }

        /** An extra imapd.conf line, e.g. {@code "conversations: 1"}. */
        public Builder option(String line) {
            options.add(line);
            return this;
        }

        /** Creates and starts the instance; returns once its IMAP port accepts connections. */
        public CyrusInstance start() {
            requireCyrus();
            Path scripts = scriptsDir();
            Path dir;
            try {
                // short path: unix sockets live under it (sun_path is 108 bytes)
                dir = Files.createTempDirectory(Path.of("/tmp"), "cy");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            int[] ports = freePorts(4);
            if (role == Role.PRIMARY && !serveCsync) ports[3] = -1;
            CyrusInstance instance = new CyrusInstance(this, dir, scripts, ports);
            List<String> args = new ArrayList<>(List.of(
                    "--role",
                    role.name().toLowerCase(),
                    "--dir",
                    dir.toString(),
                    "--imap-port",
                    "" + ports[0],
                    "--lmtp-port",
                    "" + ports[1],
                    "--sieve-port",
                    "" + ports[2],
                    "--sync-repeat-interval",
                    "" + repeatInterval,
                    "--delete-mode",
                    deleteMode,
                    "--expunge-mode",
                    expungeMode,
                    "--admin",
                    admin + ":" + users.get(admin)));
            if (role == Role.REPLICA || serveCsync) args.addAll(List.of("--csync-port", "" + ports[3]));
            if (syncHost != null) args.addAll(List.of("--sync-host", syncHost, "--sync-port", "" + syncPort));
            if (mailstreamHost != null) {
                args.addAll(List.of("--mailstream-host", mailstreamHost, "--mailstream-port", "" + mailstreamPort));
            }
            if (annotationDefinitions != null)
                args.addAll(List.of("--annotation-definitions", annotationDefinitions.toString()));
            users.forEach((u, pw) -> {
                if (!u.equals(admin)) args.addAll(List.of("--user", u + ":" + pw));
            });
            options.forEach(o -> args.addAll(List.of("--option", o)));
            try {
                instance.script("create-instance.sh", args.toArray(String[]::new));
                instance.start();
            } catch (RuntimeException e) {
                instance.close();
                throw e;
            }
            log.info("started {}", instance);
            return instance;
        }

        /** Syslog capture (root-only mount namespace trick) when the host has no /dev/log; off with -Dmailstream.cyrus.syslog=false. */
        static boolean syslogWanted() {
            return Boolean.parseBoolean(System.getProperty("mailstream.cyrus.syslog", "true"))
                    && !Files.exists(Path.of("/dev/log"));
        }
    }
}
