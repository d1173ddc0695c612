package io.mailstream.csync.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.dlist.DListLimits;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.replica.InMemoryReplica;
import io.mailstream.csync.testing.Transcripts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Hostile and broken input gets BAD/NO or a closed session; never a hang or a dead server. */
@Timeout(60)
class BadInputTest {
    private static final Duration PAUSE = Duration.ofMillis(300);
    private static final String AUTH = "AUTHENTICATE PLAIN "
            + Base64.getEncoder().encodeToString("\0admin\0adminpw".getBytes(StandardCharsets.UTF_8)) + "\r\n";

    private CsyncServer server;

    @BeforeEach
    void start() throws IOException {
        server = CsyncServer.start(
                CsyncServerConfig.builder(Authenticator.single("admin", "adminpw"), new InMemoryReplica())
                        .failedAuthPause(PAUSE)
                        .maxSessions(4)
                        .limits(DListLimits.DEFAULTS.withMaxLiteral(1024).withMaxLine(1 << 20))
                        .build());
    }

    @AfterEach
    void stop() {
        server.close();
        assertThat(server.internalErrorCount()).isZero();
    }

    /** Sends bytes, half-closes, and returns everything the server wrote until it closed. */
    private String converse(String input) throws IOException {
        return converse(input.getBytes(StandardCharsets.ISO_8859_1));
    }

    private String converse(byte[] input) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(input);
            s.getOutputStream().flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** Completion and data lines after the banner. */
    private static List<String> answers(String transcript) {
        List<String> lines = new ArrayList<>(Arrays.asList(transcript.split("\r\n")));
        while (!lines.isEmpty()
                && lines.get(0).startsWith("* ")
                && !lines.get(0).startsWith("* OK")) {
            lines.remove(0);
        }
        lines.remove(0); // * OK banner
        return lines;
    }

    @Test
    void bannerAdvertisesOnlyWhatIsImplemented() throws IOException {
        String banner = converse("");
        assertThat(banner)
                .startsWith("* SASL PLAIN\r\n* COMPRESS DEFLATE\r\n* OK localhost Cyrus sync server mailstream-")
                .doesNotContain("STARTTLS")
                .doesNotContain("SIEVE-MAILBOX");
    }

    @Test
    void applyBeforeAuthenticationIsRefused() throws IOException {
        assertThat(answers(converse("APPLY SUB %(USERID a MBOXNAME user.a)\r\nGET USER a\r\nNOOP\r\n")))
                .containsExactly("NO Please authenticate first", "NO Please authenticate first", "OK Noop completed");
    }

    @Test
    void wrongPasswordIsRefusedAfterThePause() throws IOException {
        String bad = Base64.getEncoder().encodeToString("\0admin\0nope".getBytes(StandardCharsets.UTF_8));
        long start = System.nanoTime();
        assertThat(answers(converse("AUTHENTICATE PLAIN " + bad + "\r\nGET USER a\r\n")))
                .containsExactly("NO authentication failure", "NO Please authenticate first");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(PAUSE);
    }

    @Test
    void plainWithoutInitialResponseGetsAChallenge() throws IOException {
        String creds = Base64.getEncoder().encodeToString("\0admin\0adminpw".getBytes(StandardCharsets.UTF_8));
        assertThat(answers(converse("authenticate plain\r\n" + creds + "\r\nexit\r\n")))
                .containsExactly("+ ", "OK Success (no protection)", "OK Finished");
    }

    @Test
    void unknownVerbsAndUnparseableLinesAreSkippedIncludingTheirLiterals() throws IOException {
        String input = AUTH
                + "FROB x {6+}\r\nNOOP\r\n\r\n" // literal data looks like a command
                + "APPLY SUB %(USERID {3+}\r\nabc))\r\n" // unbalanced
                + "APPLY MESSAGE (\"a\"b %{default 0000000000000000000000000000000000000000 6}\r\nEXIT\r\n)\r\n"
                + "APPLY FROB %()\r\n"
                + "GET USER\r\n"
                + "APPLY SUB %(USERID a)\r\n"
                + "NOOP\r\n";
        assertThat(answers(converse(input)))
                .containsExactly(
                        "OK Success (no protection)",
                        "BAD IMAP_PROTOCOL_ERROR Unrecognized command",
                        "BAD IMAP_PROTOCOL_ERROR Failed to parse APPLY line",
                        "BAD IMAP_PROTOCOL_ERROR Failed to parse APPLY line",
                        "NO IMAP_PROTOCOL_ERROR Protocol error",
                        "BAD IMAP_PROTOCOL_ERROR Failed to parse GET line",
                        "NO IMAP_PROTOCOL_BAD_PARAMETERS Bad parameters",
                        "OK Noop completed");
    }

    @Test
    void truncatedLiteralAndOpenListEndTheSessionCleanly() throws IOException {
        assertThat(answers(converse(AUTH + "APPLY SUB %(USERID {100+}\r\nabc")))
                .containsExactly("OK Success (no protection)");
        assertThat(answers(converse(AUTH + "APPLY SUB %(USERID (a b\r\nNOOP\r\n")))
                .containsExactly("OK Success (no protection)");
    }

    @Test
    void overLimitLiteralIsFatal() throws IOException {
        assertThat(answers(converse(AUTH + "APPLY SIEVE %(USERID a FILENAME b.script CONTENT {5000+}\r\n"
                        + "x".repeat(5000) + ")\r\nNOOP\r\n")))
                .hasSize(2)
                .first()
                .isEqualTo("OK Success (no protection)");
        assertThat(answers(converse(AUTH + "APPLY SIEVE %(USERID a FILENAME b.script CONTENT {5000+}\r\n")))
                .last()
                .asString()
                .startsWith("* Fatal error: literal of 5000 bytes");
    }

    @Test
    void typedErrorsReachTheClient() throws Exception {
        try (CsyncClient c =
                CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", server.getPort(), "admin", "adminpw"))) {
            assertThatThrownBy(() -> c.execute(new CsyncCommand.ApplyUnmailbox("user.nobody", false)))
                    .isInstanceOfSatisfying(
                            CsyncException.class, e -> assertThat(e.error()).isEqualTo(CsyncError.MAILBOX_NONEXISTENT));
            c.noop();
        }
        assertThatThrownBy(
                        () -> CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", server.getPort(), "admin", "wrong")
                                .withBackoff(Duration.ofMillis(1), Duration.ofMillis(1), 1)))
                .isInstanceOf(CsyncException.class);
    }

    @Test
    void fuzzedInputNeverHangsOrBreaksTheServer() throws Exception {
        Random random = new Random(20261125L);
        List<byte[]> seeds = new ArrayList<>();
        for (Transcripts.Line l : Transcripts.parseClientStream(
                Transcripts.read(Transcripts.csyncDir().resolve("conn001.c2s")))) {
            seeds.add(l.raw());
        }
        for (int round = 0; round < 150; round++) {
            ByteArrayOutputStream input = new ByteArrayOutputStream();
            input.writeBytes(AUTH.getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 10; i++) {
                input.writeBytes(
                        random.nextBoolean()
                                ? randomBytes(random)
                                : mutate(seeds.get(random.nextInt(seeds.size())), random));
            }
            String out = converse(input.toByteArray());
            for (String line : answers(out)) {
                assertThat(line).matches("(?s)(\\* |OK|NO|BAD|\\+ ).*");
            }
        }
        try (CsyncClient c =
                CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", server.getPort(), "admin", "adminpw"))) {
            c.noop();
        }
    }

    private static byte[] randomBytes(Random r) {
        byte[] b = new byte[r.nextInt(200)];
        r.nextBytes(b);
        return b;
    }

    private static byte[] mutate(byte[] seed, Random r) {
        byte[] b = seed.clone();
        for (int i = 0, n = 1 + r.nextInt(4); i < n && b.length > 0; i++) {
            byte[] specials = "(){}%\" \r\n\\+0A".getBytes(StandardCharsets.US_ASCII);
            b[r.nextInt(b.length)] = specials[r.nextInt(specials.length)];
        }
        return r.nextInt(4) == 0 ? Arrays.copyOf(b, r.nextInt(b.length + 1)) : b;
    }
}
