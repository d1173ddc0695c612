package io.mailstream.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.core.errors.InvalidEventException;
import io.mailstream.schemas.AnnotationUpsert;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.UserState;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreTargetTest {
    @TempDir
    Path store;

    @Test
    void layoutHoldsFoldedStateBodiesAndHistory() throws Exception {
        MailScript script = MailScript.threeUsers();
        try (StoreTarget target = new StoreTarget(store)) {
            applyAll(target, script, 7);
        }

        StoreAssertions.assertHolds(StoreReader.open(store), script);
        String guid = script.bodies.keySet().iterator().next();
        Path body = store.resolve("bodies")
                .resolve(guid.substring(0, 2))
                .resolve(guid.substring(2, 4))
                .resolve(guid + ".gz");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(body))) {
            assertThat(in.readAllBytes()).isEqualTo(script.bodies.get(guid));
        }
        assertThat(store.resolve("FORMAT")).hasContent("mailstream-store 1");
        assertThat(store.resolve("users/alice/mailboxes")).isDirectoryContaining("glob:**/alice-work.avro");
        assertThat(store.resolve("users/alice/user.avro")).isRegularFile();
        assertThat(store.resolve("users/alice/incoming")).isEmptyDirectory(); // chunks assembled, nothing left over
        List<String> history = Files.readAllLines(store.resolve("users/alice/history.jsonl"));
        assertThat(history)
                .hasSize(MailScript.distinct(script.eventsOf("alice")).size());
        assertThat(history).allMatch(l -> l.startsWith("{\"appliedTime\":") && l.endsWith("}"));
        assertThat(history.get(0))
                .contains("\"io.mailstream.schemas.MessageContent\"", "\"data\":\"\"", "\"guid\":\"" + guid + "\"");

        // A server annotation (partition key "#server") is state of that key, as rebuild reads it back.
        try (StoreTarget target = new StoreTarget(store)) {
            target.apply(
                    "#server",
                    List.of(script.event(
                            "#server",
                            new AnnotationUpsert(
                                    "",
                                    "/shared/motd",
                                    "",
                                    ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8))))));
        }
        UserState server = (UserState) StoreLayout.readState(store.resolve("users/%23server/user.avro"))
                .orElseThrow()
                .getState();
        assertThat(server.getAnnotations())
                .singleElement()
                .satisfies(a -> assertThat(a.getEntry()).isEqualTo("/shared/motd"));
        assertThat(StoreReader.open(store).userState("#server")).contains(server);
    }

    @Test
    void aBodyWhoseSha1IsNotItsGuidIsRejectedAndNothingIsKept() throws Exception {
        MailScript script = new MailScript();
        byte[] body = script.message(700_000);
        String wrongGuid = MailScript.sha1("something else".getBytes());
        List<ChangeEvent> chunks = script.content("alice", body, wrongGuid);
        try (StoreTarget target = new StoreTarget(store)) {
            target.apply("alice", chunks.subList(0, 2));
            assertThatThrownBy(() -> target.apply("alice", chunks.subList(2, 3)))
                    .isInstanceOf(InvalidEventException.class)
                    .hasMessageContaining("not stored");
            assertThatThrownBy(() -> target.apply(
                            "alice",
                            List.of(script.event(
                                    "alice",
                                    new MessageContent(
                                            MailScript.sha1(body), 5L, "default", 0, 1, ByteBuffer.wrap(body))))))
                    .as("right bytes, wrong size")
                    .isInstanceOf(InvalidEventException.class);
        }

        assertThat(files(store.resolve("bodies"))).isEmpty();
        assertThat(files(store.resolve("tmp"))).isEmpty();
        assertThat(files(store.resolve("users/alice/incoming"))).isEmpty();
        assertThat(StoreReader.open(store).history("alice"))
                .as("only the first two chunks were applied")
                .hasSize(2);
    }

    @Test
    void reapplyingEventsChangesNothingAndAddsNoHistory() throws Exception {
        MailScript script = MailScript.threeUsers();
        Map<Path, byte[]> before;
        try (StoreTarget target = new StoreTarget(store)) {
            applyAll(target, script, 5);
            before = snapshot(store);
            applyAll(target, script, 3);
        }
        try (StoreTarget restarted = new StoreTarget(store)) {
            applyAll(restarted, script, 100);
        }
        assertThat(snapshot(store)).containsExactlyInAnyOrderEntriesOf(before);
    }

    @Test
    void anApplyCutShortByACrashIsCompletedByItsReplayWithoutDuplicates() throws Exception {
        MailScript script = MailScript.threeUsers();
        List<ChangeEvent> alice = script.eventsOf("alice");
        Path applied = store.resolve("users/alice/applied.properties");
        byte[] marksBefore;
        try (StoreTarget target = new StoreTarget(store)) {
            target.apply("alice", alice.subList(0, 10));
            marksBefore = Files.readAllBytes(applied);
            target.apply("alice", alice.subList(10, 20));
        }
        // The crash: state files and history of the second apply are on disk, its marks are not, and a
        // temp file of an interrupted write lies in tmp.
        Files.write(applied, marksBefore);
        Files.writeString(
                store.resolve("users/alice/history.jsonl"),
                "{\"appliedTime\":1,\"ev",
                java.nio.file.StandardOpenOption.APPEND);
        Path leftover = Files.writeString(store.resolve("tmp/user.avro.123.tmp"), "half a file");

        try (StoreTarget restarted = new StoreTarget(store)) {
            assertThat(leftover).doesNotExist();
            restarted.apply("alice", alice.subList(10, alice.size()));
        }
        StoreAssertions.assertUser(StoreReader.open(store), script, "alice");
    }

    @Test
    void historyIsAppendOnlyAndEachEventIsInItOnce() throws Exception {
        MailScript script = MailScript.threeUsers();
        List<ChangeEvent> bob = script.eventsOf("bob");
        byte[] first;
        try (StoreTarget target = new StoreTarget(store)) {
            target.apply("bob", bob.subList(0, 8));
            first = Files.readAllBytes(store.resolve("users/bob/history.jsonl"));
            target.apply("bob", bob.subList(4, 12)); // overlaps: at-least-once redelivery
            target.apply("bob", bob.subList(12, bob.size()));
        }
        byte[] all = Files.readAllBytes(store.resolve("users/bob/history.jsonl"));
        assertThat(all).startsWith(first);
        assertThat(StoreAssertions.historyEventIds(StoreReader.open(store), "bob"))
                .containsExactlyElementsOf(
                        bob.stream().map(e -> e.getEnvelope().getEventId()).toList());
    }

    @Test
    void chunksSpanningAppliesAndARestartAreReassembledByteForByte() throws Exception {
        MailScript script = new MailScript();
        script.deliver("dave", "dave-inbox", "user.dave", 1_100_000); // five chunks
        List<ChangeEvent> events = script.eventsOf("dave");
        try (StoreTarget target = new StoreTarget(store)) {
            target.apply("dave", events.subList(0, 2));
        }
        assertThat(files(store.resolve("users/dave/incoming"))).hasSize(2);
        try (StoreTarget restarted = new StoreTarget(store)) {
            restarted.apply("dave", events.subList(2, events.size()));
        }

        StoreReader reader = StoreReader.open(store);
        String guid = script.bodies.keySet().iterator().next();
        try (StoredBody body = reader.openBody(guid)) {
            assertThat(body.size()).isEqualTo(1_100_000);
            assertThat(body.content().readAllBytes()).isEqualTo(script.bodies.get(guid));
        }
        assertThat(files(store.resolve("users/dave/incoming"))).isEmpty();
        MailboxState inbox = reader.mailboxes("dave").get(0);
        assertThat(inbox.getRecords()).extracting(r -> r.getGuid()).containsExactly(guid);
    }

    @Test
    void aSecondWriterIsRefused() throws Exception {
        try (StoreTarget first = new StoreTarget(store)) {
            assertThatThrownBy(() -> new StoreTarget(store))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("in use");
        }
        new StoreTarget(store).close();
    }

    @Test
    void userNamesThatAreNotFileNamesRoundTrip() {
        for (String name : List.of("alice", "bob@example.org", "../etc", ".hidden", "shared folder/ü", "a%41")) {
            String encoded = StoreLayout.encode(name);
            assertThat(encoded).doesNotContain("/").doesNotStartWith(".");
            assertThat(StoreLayout.decode(encoded)).isEqualTo(name);
        }
    }

    /** Applies every user's events in batches of {@code batch}, users interleaved as the sink would. */
    static void applyAll(TierTarget target, MailScript script, int batch) throws Exception {
        for (String user : List.of("alice", "bob", "carol")) {
            List<ChangeEvent> events = script.eventsOf(user);
            for (int i = 0; i < events.size(); i += batch) {
                target.apply(user, events.subList(i, Math.min(events.size(), i + batch)));
            }
        }
    }

    static List<Path> files(Path dir) throws IOException {
        if (!Files.exists(dir)) return List.of();
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    static Map<Path, byte[]> snapshot(Path dir) throws IOException {
        Map<Path, byte[]> out = new TreeMap<>();
        for (Path f : files(dir)) out.put(dir.relativize(f), Files.readAllBytes(f));
        return out;
    }
}
