package io.mailstream.csync.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.client.CsyncProtocolException;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.replica.InMemoryReplica;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Transport and session lifecycle of CsyncServer/CsyncClient: STARTTLS, idle timeout, session limit, BYE. */
@Timeout(60)
class SessionLifecycleTest {
    private static final char[] STORE_PASSWORD = "changeit".toCharArray();
    private static SSLContext serverTls;
    private static SSLContext clientTls;

    private static final String AUTH = "AUTHENTICATE PLAIN "
            + java.util.Base64.getEncoder().encodeToString("\0admin\0adminpw".getBytes(StandardCharsets.UTF_8))
            + "\r\n";

    private CsyncServer server;
    private final List<SessionInfo> sessions = new CopyOnWriteArrayList<>();

    /** A throw-away self-signed key store for 127.0.0.1, made with the JDK's keytool. */
    @BeforeAll
    static void keyStore(@TempDir Path dir) throws Exception {
        Path store = dir.resolve("csync.p12");
        Process p = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "keytool")
                                .toString(),
                        "-genkeypair",
                        "-alias",
                        "csync",
                        "-keyalg",
                        "EC",
                        "-groupname",
                        "secp256r1",
                        "-validity",
                        "2",
                        "-dname",
                        "CN=localhost",
                        "-ext",
                        "SAN=ip:127.0.0.1,dns:localhost",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        store.toString(),
                        "-storepass",
                        new String(STORE_PASSWORD))
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(output).isZero();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = java.nio.file.Files.newInputStream(store)) {
            ks.load(in, STORE_PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, STORE_PASSWORD);
        serverTls = SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        clientTls = SSLContext.getInstance("TLS");
        clientTls.init(null, tmf.getTrustManagers(), null);
    }

    private void start(CsyncServerConfig.Builder b) throws IOException {
        server = CsyncServer.start(b.build());
    }

    private CsyncServerConfig.Builder config() {
        InMemoryReplica replica = new InMemoryReplica();
        return CsyncServerConfig.builder(Authenticator.single("admin", "adminpw"), info -> {
                    sessions.add(info);
                    return replica.openSession(info);
                })
                .failedAuthPause(Duration.ofMillis(50));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
            assertThat(server.internalErrorCount()).isZero();
        }
    }

    private CsyncClientConfig client() {
        return CsyncClientConfig.of("127.0.0.1", server.getPort(), "admin", "adminpw")
                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(10), 1);
    }

    @Test
    void startTlsThenAuthenticateAndWork() throws Exception {
        start(config().tls(serverTls));
        try (CsyncClient c = CsyncClient.connect(client().withStartTls(clientTls))) {
            // the banner after TLS offers neither STARTTLS again nor COMPRESS (never on top of TLS)
            assertThat(c.serverCapabilities()).contains("SASL").doesNotContain("STARTTLS", "COMPRESS");
            assertThat(c.execute(new CsyncCommand.GetUser("alice"))).isEmpty();
        }
        assertThat(sessions).singleElement().satisfies(s -> assertThat(s.tls()).isTrue());
    }

    @Test
    void bannerOffersStartTlsOnlyWhenConfigured() throws Exception {
        start(config().tls(serverTls));
        assertThat(banner()).contains("* STARTTLS");
        try (CsyncClient plain = CsyncClient.connect(client())) {
            assertThat(plain.serverCapabilities()).contains("STARTTLS");
        }
        assertThat(sessions).singleElement().satisfies(s -> assertThat(s.tls()).isFalse());
    }

    @Test
    void clientThatRequiresTlsRefusesAServerWithoutIt() throws Exception {
        start(config());
        assertThat(banner()).doesNotContain("* STARTTLS");
        assertThatThrownBy(() -> CsyncClient.connect(client().withStartTls(clientTls)))
                .isInstanceOf(CsyncProtocolException.class)
                .hasMessageContaining("does not offer STARTTLS");
        assertThat(sessions).as("no password was sent").isEmpty();
    }

    @Test
    void idleSessionIsClosed() throws Exception {
        start(config().idleTimeout(Duration.ofMillis(300)));
        try (Socket s = new Socket("127.0.0.1", server.getPort())) {
            s.setSoTimeout(5000);
            BufferedReader in = reader(s);
            readBanner(in);
            long t0 = System.nanoTime();
            assertThat(in.readLine()).isNull();
            assertThat(Duration.ofNanos(System.nanoTime() - t0))
                    .isBetween(Duration.ofMillis(200), Duration.ofSeconds(4));
        }
    }

    @Test
    void authenticatedSessionsBeyondTheLimitGetBye() throws Exception {
        start(config().maxSessions(1));
        try (CsyncClient first = CsyncClient.connect(client())) {
            first.noop();
            try (Socket second = new Socket("127.0.0.1", server.getPort())) {
                second.setSoTimeout(5000);
                BufferedReader in = reader(second);
                readBanner(in);
                second.getOutputStream().write(AUTH.getBytes(StandardCharsets.US_ASCII));
                assertThat(in.readLine()).isEqualTo("BYE Too many sessions");
                assertThat(in.readLine()).isNull();
            }
            first.noop();
        }
        // The slot is free again once the first session has gone.
        try (CsyncClient again = CsyncClient.connect(client())) {
            again.noop();
        }
    }

    @Test
    void connectionsThatNeverAuthenticateDoNotKeepAClientOut() throws Exception {
        start(config().maxSessions(1).maxUnauthenticated(3).maxUnauthenticatedPerAddress(2));
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Socket s = new Socket("127.0.0.1", server.getPort());
                s.setSoTimeout(5000);
                readBanner(reader(s));
                idle.add(s);
            }
            // Each new connection made the oldest unauthenticated one of its address give way.
            for (int i = 0; i < 18; i++) {
                BufferedReader in = reader(idle.get(i));
                assertThat(in.readLine()).as("connection %d", i).isEqualTo("BYE Too many unauthenticated connections");
                assertThat(in.readLine()).isNull();
            }
            try (CsyncClient c = CsyncClient.connect(client())) {
                c.noop();
            }
            assertThat(server.unauthenticatedClosedCount()).isGreaterThanOrEqualTo(19);
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
    }

    @Test
    void connectionsFromOtherAddressesDoNotPushOutAWaitingOne() throws Exception {
        start(config().maxUnauthenticated(6).maxUnauthenticatedPerAddress(2));
        List<Socket> flood = new ArrayList<>();
        try (Socket primary = new Socket("127.0.0.1", server.getPort())) {
            primary.setSoTimeout(5000);
            BufferedReader in = reader(primary);
            readBanner(in);
            // 40 connections from three other loopback addresses: each address is held to its share,
            // and when the whole budget is full the busiest address gives way, not the quiet one.
            for (int i = 0; i < 40; i++) {
                Socket s = new Socket();
                s.bind(new java.net.InetSocketAddress("127.0.0." + (2 + i % 3), 0));
                s.connect(new java.net.InetSocketAddress("127.0.0.1", server.getPort()));
                s.setSoTimeout(5000);
                readBanner(reader(s));
                flood.add(s);
            }
            assertThat(server.unauthenticatedClosedCount()).isEqualTo(40 + 1 - 6);
            primary.getOutputStream().write(AUTH.getBytes(StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("OK Success (no protection)");
        } finally {
            for (Socket s : flood) {
                s.close();
            }
        }
    }

    @Test
    void aConnectionThatDoesNotAuthenticateInTimeIsClosed() throws Exception {
        start(config().authTimeout(Duration.ofSeconds(1)));
        try (Socket s = new Socket("127.0.0.1", server.getPort())) {
            s.setSoTimeout(5000);
            BufferedReader in = reader(s);
            readBanner(in);
            long connected = System.nanoTime();
            s.getOutputStream().write("NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("OK Noop completed");
            // Talking but never authenticating: the deadline counts from the connect, not from the last byte.
            assertThat(in.readLine()).isEqualTo("BYE Authentication timeout");
            assertThat(in.readLine()).isNull();
            assertThat(Duration.ofNanos(System.nanoTime() - connected)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
        }
        // An authenticated session is not subject to it.
        try (CsyncClient c = CsyncClient.connect(client())) {
            c.noop();
            Thread.sleep(1500);
            c.noop();
        }
    }

    @Test
    void compressionOnlyAfterAuthentication() throws Exception {
        start(config());
        try (Socket s = new Socket("127.0.0.1", server.getPort())) {
            s.setSoTimeout(5000);
            BufferedReader in = reader(s);
            assertThat(readBanner(in)).contains("* COMPRESS DEFLATE");
            s.getOutputStream().write("COMPRESS DEFLATE\r\nNOOP\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("NO Please authenticate first");
            assertThat(in.readLine()).isEqualTo("OK Noop completed");
        }
        try (CsyncClient c = CsyncClient.connect(client())) {
            c.noop(); // compresses after login, as sync_client does
        }
    }

    @Test
    void configsDoNotPrintPasswords() throws Exception {
        start(config());
        assertThat(client().toString()).contains("admin").doesNotContain("adminpw");
        assertThat(server.config().toString()).doesNotContain("adminpw");
    }

    @Test
    void onlyTheConfiguredUserAndPasswordAuthenticate() {
        Authenticator a = Authenticator.single("admin", "adminpw");
        assertThat(a.authenticate("", "admin", "adminpw")).isTrue();
        assertThat(a.authenticate("admin", "admin", "adminpw")).isTrue();
        assertThat(a.authenticate("", "admin", "adminpw ")).isFalse();
        assertThat(a.authenticate("", "admin", "adminp")).isFalse();
        assertThat(a.authenticate("", "root", "adminpw")).isFalse();
        assertThat(a.authenticate("root", "admin", "adminpw")).isFalse();
        assertThat(a.authenticate("", "admin", "")).isFalse();
    }

    @Test
    void closingTheServerSaysByeToIdleSessions() throws Exception {
        start(config());
        try (Socket s = new Socket("127.0.0.1", server.getPort())) {
            s.setSoTimeout(5000);
            BufferedReader in = reader(s);
            readBanner(in);
            server.close();
            assertThat(in.readLine()).isEqualTo("BYE shutting down");
            assertThat(in.readLine()).isNull();
        }
    }

    private static BufferedReader reader(Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
    }

    private static List<String> readBanner(BufferedReader in) throws IOException {
        List<String> lines = new ArrayList<>();
        String line;
        do {
            line = in.readLine();
            assertThat(line).as("banner so far %s", lines).isNotNull();
            lines.add(line);
        } while (!line.startsWith("* OK "));
        return lines;
    }

    private List<String> banner() throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.getPort())) {
            s.setSoTimeout(5000);
            return readBanner(reader(s));
        }
    }
}
