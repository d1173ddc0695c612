package io.mailstream.producers.capture;

import static io.mailstream.producers.capture.CaptureActionScriptTest.recordsOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.schemas.MessageRecord;
import io.mailstream.testkit.ChildJvm;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.MessageFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that never authenticate must not keep the real primary out: capture's connection
 * budget for unauthenticated connections is separate from its sessions, and a new connection
 * makes the oldest unauthenticated one of its address give way.
 */
class CaptureHostileClientTest {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CaptureHostileClientTest.class);

    @TempDir
    Path tmp;

    @Test
    void aSlowLorisOfAHundredConnectionsDoesNotStopThePrimarysSyncClient() throws Exception {
        try (CaptureLab lab = new CaptureLab(tmp, Map.of("alice", "alicepw"));
                Capture capture = lab.startCapture(tmp.resolve("data"))) {
            try (ImapClient admin = lab.cyrus.endpoint().imapAdmin()) {
                admin.create("user.alice");
            }
            List<Socket> loris = new ArrayList<>();
            try {
                for (int i = 0; i < 100; i++) {
                    Socket s = new Socket("127.0.0.1", capture.port());
                    // Half a command, never finished: the classic slow-loris.
                    s.getOutputStream().write("AUTHENTICATE PLAIN ".getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    loris.add(s);
                }
                lab.startSyncClient();
                assertThePrimaryReplicates(lab, "alice", "after the loris");
                // The connections that gave way were told why and closed; at most the per-address budget (4) is left.
                long closed = loris.stream()
                        .filter(CaptureHostileClientTest::closedByServer)
                        .count();
                assertThat(closed).isGreaterThanOrEqualTo(100 - 4);
                assertThat(capture.unauthenticatedClosedCount()).isGreaterThanOrEqualTo(100 - 4);
            } finally {
                for (Socket s : loris) {
                    s.close();
                }
            }
        }
    }

    /**
     * Three bombs through COMPRESS, each a few MB on the wire and far more once inflated: a line
     * of millions of tiny values, a flood of 8 MB literals, a flood of 1 MB message bodies. Capture
     * runs in a JVM of {@value #BOMB_HEAP} with its default limits; it ends each session with a
     * fatal error naming the limit, stays up, and the real primary goes on replicating through it.
     */
    @Test
    void deflateBombsAndLiteralFloodsLeaveTheHeapBounded() throws Exception {
        try (CaptureLab lab = new CaptureLab(tmp, Map.of("zoe", "zoepw"))) {
            try (ImapClient admin = lab.cyrus.endpoint().imapAdmin()) {
                admin.create("user.zoe");
            }
            // Bodies past the heap budget are spooled to data.dir; 64 MiB of them per command is plenty here.
            Path config = lab.configFile(tmp.resolve("data"), Map.of("capture.max.command.body.bytes", "67108864"));
            try (ChildJvm capture = ChildJvm.start(
                    "capture-bombed",
                    List.of("-Xmx" + BOMB_HEAP),
                    CaptureChild.class.getName(),
                    "READY",
                    Duration.ofMinutes(2),
                    config.toString())) {
                lab.startSyncClient();
                String guid = "0".repeat(40);
                bomb(
                        lab.capturePort,
                        "APPLY MAILBOX %(UNIQUEID bomb MBOXNAME user.zoe RECORD (",
                        "%(UID 1 MODSEQ 1 FLAGS ()) ".getBytes(StandardCharsets.US_ASCII));
                bomb(
                        lab.capturePort,
                        "APPLY SIEVE %(USERID zoe FILENAME x.script CONTENT (",
                        literal("{8000000+}\r\n", 8_000_000));
                bomb(lab.capturePort, "APPLY MESSAGE (", literal("%{default " + guid + " 1000000}\r\n", 1_000_000));

                assertThat(capture.isAlive()).as("capture survived").isTrue();
                assertThat(capture.output())
                        .doesNotContain("OutOfMemoryError")
                        .contains("more than 2000000 values in one line")
                        .contains("would make the line longer than 67108864 bytes")
                        .contains("file literals of one line add up to more than 67108864 bytes");

                assertThePrimaryReplicates(lab, "zoe", "after the bombs");
                assertThat(capture.output()).doesNotContain("OutOfMemoryError");
            }
        }
    }

    private static final String BOMB_HEAP = "320m";
    /** Inflated bytes a bomb sends at most; old code ran out of heap long before. */
    private static final long BOMB_BYTES = 1L << 30;

    private static byte[] literal(String header, int size) {
        byte[] head = header.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[head.length + size + 1];
        System.arraycopy(head, 0, out, 0, head.length);
        java.util.Arrays.fill(out, head.length, head.length + size, (byte) 'a');
        out[out.length - 1] = ' ';
        return out;
    }

    /** Logs in, compresses, and sends {@code head} then {@code unit} over and over until capture closes the session. */
    private static void bomb(int port, String head, byte[] unit) throws Exception {
        try (CompressedSession s = new CompressedSession(port, "admin", "adminpw")) {
            java.util.concurrent.CompletableFuture<List<String>> replies =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        try {
                            return s.readUntilClosed();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
            long sent = 0;
            try {
                s.send(head);
                byte[] chunk = new byte[Math.max(unit.length, 1 << 20) / unit.length * unit.length];
                for (int i = 0; i < chunk.length; i += unit.length) {
                    System.arraycopy(unit, 0, chunk, i, unit.length);
                }
                while (sent < BOMB_BYTES && !replies.isDone()) {
                    s.send(chunk);
                    sent += chunk.length;
                }
            } catch (IOException e) {
                // capture closed the connection: what a bomb should get
            }
            List<String> lines = replies.get(2, java.util.concurrent.TimeUnit.MINUTES);
            LOG.info(
                    "bomb '{}...' stopped after {} inflated bytes sent; capture answered {}",
                    head.substring(0, 14),
                    sent,
                    lines);
            assertThat(sent).as("bytes sent before capture closed the session").isLessThan(BOMB_BYTES);
        }
    }

    /**
     * Seeded random mutations of the real sync_client transcripts, sent through COMPRESS to a
     * capture: each gets answers and a closed connection, never a hang or an internal error, and
     * afterwards capture still serves the real primary.
     */
    @Test
    void fuzzedTranscriptsThroughCompressGetClearAnswers() throws Exception {
        try (CaptureLab lab = new CaptureLab(tmp, Map.of("zoe", "zoepw"));
                Capture capture = lab.startCapture(tmp.resolve("data"))) {
            try (ImapClient admin = lab.cyrus.endpoint().imapAdmin()) {
                admin.create("user.zoe");
            }
            List<byte[]> transcripts = new ArrayList<>();
            for (String conn : List.of("conn001", "conn005", "conn006", "conn007")) {
                byte[] all = Files.readAllBytes(transcriptDir().resolve(conn + ".c2s"));
                int start = indexOf(all, "COMPRESS DEFLATE\r\n".getBytes(StandardCharsets.US_ASCII)) + 18;
                transcripts.add(java.util.Arrays.copyOfRange(all, start, all.length));
            }
            Random random = new Random(20261202L);
            int closedEarly = 0;
            Map<String, Integer> answers = new java.util.TreeMap<>();
            for (int round = 0; round < FUZZ_ROUNDS; round++) {
                byte[] input = mutate(transcripts.get(random.nextInt(transcripts.size())), random);
                List<String> lines;
                try (CompressedSession s = new CompressedSession(capture.port(), "admin", "adminpw")) {
                    try {
                        s.send(input);
                        s.finishSending();
                    } catch (IOException e) {
                        closedEarly++; // capture already closed it (a fatal limit)
                    }
                    try {
                        lines = s.readUntilClosed();
                    } catch (java.net.SocketTimeoutException e) {
                        throw new AssertionError("round " + round + ": no answer and no close within 60 s", e);
                    }
                }
                for (String line : lines) {
                    answers.merge(line.startsWith("* Fatal") ? "* Fatal" : line.split(" ")[0], 1, Integer::sum);
                    assertThat(line)
                            .as("round %d", round)
                            .matches("(?s)(\\* |OK |NO |BAD |BYE |\\(closed).*")
                            .doesNotContain("internal error");
                }
                assertThat(capture.internalErrorCount())
                        .as("internal errors after round %d", round)
                        .isZero();
            }
            LOG.info(
                    "{} fuzzed sessions answered ({}); {} closed by capture before all was sent",
                    FUZZ_ROUNDS,
                    answers,
                    closedEarly);
            // The mutations leave much intact: capture must have accepted some commands and refused others.
            assertThat(answers).containsKeys("OK", "NO", "BAD");

            lab.startSyncClient();
            assertThePrimaryReplicates(lab, "zoe", "after the fuzz");
            assertThat(capture.internalErrorCount()).isZero();
        }
    }

    private static final int FUZZ_ROUNDS = 60;

    /** A window of a transcript with a few of: bytes replaced by syntax characters, random bytes, cuts, copies, bad sizes. */
    private static byte[] mutate(byte[] transcript, Random r) {
        int from = r.nextInt(transcript.length);
        while (from > 0 && transcript[from - 1] != '\n') {
            from--; // most windows start at a command
        }
        int to = Math.min(transcript.length, from + 200 + r.nextInt(6000));
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.write(transcript, from, to - from);
        byte[] out = b.toByteArray();
        byte[] specials = "(){}%\" \r\n\\+0A9*".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0, n = 1 + r.nextInt(6); i < n && out.length > 0; i++) {
            switch (r.nextInt(6)) {
                case 0, 1 -> out[r.nextInt(out.length)] = specials[r.nextInt(specials.length)];
                case 2 -> out[r.nextInt(out.length)] = (byte) r.nextInt(256);
                case 3 -> { // cut a piece out
                    int at = r.nextInt(out.length);
                    int len = Math.min(out.length - at, r.nextInt(200));
                    byte[] cut = new byte[out.length - len];
                    System.arraycopy(out, 0, cut, 0, at);
                    System.arraycopy(out, at + len, cut, at, out.length - at - len);
                    out = cut;
                }
                case 4 -> { // repeat a piece
                    int at = r.nextInt(out.length);
                    int len = Math.min(out.length - at, r.nextInt(500));
                    byte[] longer = new byte[out.length + len];
                    System.arraycopy(out, 0, longer, 0, at + len);
                    System.arraycopy(out, at, longer, at + len, out.length - at);
                    out = longer;
                }
                default -> { // a literal or file literal that announces another size
                    String text = new String(out, StandardCharsets.ISO_8859_1);
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\{|%\\{\\S+ \\S+ )(\\d+)(\\+?\\})")
                            .matcher(text);
                    if (m.find()) {
                        long[] sizes = {0, 1, 4096, 9_999_999, 4_294_967_295L, 99_999_999_999L};
                        text = text.substring(0, m.start(2))
                                + sizes[r.nextInt(sizes.length)]
                                + text.substring(m.end(2));
                        out = text.getBytes(StandardCharsets.ISO_8859_1);
                    }
                }
            }
        }
        return out;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        throw new IllegalStateException("not found");
    }

    private static Path transcriptDir() {
        for (String candidate : List.of("../../shared", "../shared", "/work/shared")) {
            Path p = Path.of(candidate, "reference/cyrus-lab/transcripts/csync");
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        throw new IllegalStateException("the Cyrus transcripts (shared/reference/cyrus-lab) are missing");
    }

    /**
     * A message delivered to the user's INBOX (their first) reaches mailstream.changes through
     * the running sync_client: capture still serves the real primary. Stops sync_client.
     */
    private static void assertThePrimaryReplicates(CaptureLab lab, String user, String subject) {
        byte[] body = new MessageFactory(7).message(1, 3000, "x@example.org", user + "@example.org", subject);
        try (ImapClient imap = lab.cyrus.endpoint().imap(user)) {
            imap.append("INBOX", List.of(), new MessageFactory(7).date(1), body);
        }
        lab.awaitDrained();
        lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
        assertThat(recordsOf(lab.events(), "user." + user))
                .extracting(MessageRecord::getUid)
                .contains(1L);
    }

    /** Whether the server closed the connection (reads its banner and whatever else it wrote, up to EOF). */
    private static boolean closedByServer(Socket s) {
        try {
            s.setSoTimeout(2000);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            while (in.read(buf) >= 0) {
                // drain
            }
            return true;
        } catch (IOException e) {
            return e.getMessage() != null && e.getMessage().contains("reset");
        }
    }
}
