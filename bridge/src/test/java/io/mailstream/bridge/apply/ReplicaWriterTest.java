package io.mailstream.bridge.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.crc.SyncCrc;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.csync.replica.InMemoryReplica;
import io.mailstream.csync.server.Authenticator;
import io.mailstream.csync.server.CsyncServer;
import io.mailstream.csync.server.CsyncServerConfig;
import io.mailstream.schemas.Annotation;
import io.mailstream.schemas.AnnotationUpsert;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.SeenUpsert;
import io.mailstream.schemas.SieveScriptState;
import io.mailstream.schemas.UserDelete;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.content.MessageChunker;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The event/state -> csync direction against {@link InMemoryReplica}, which has Cyrus 3.6's replica checks. */
class ReplicaWriterTest {
    private static final String UID = "2a1f0c3e-inbox";

    private final InMemoryReplica replica = new InMemoryReplica();
    private final Map<Guid, byte[]> bodies = new HashMap<>();
    private final List<Guid> served = new ArrayList<>();
    private CsyncServer server;
    private CsyncClient client;
    private ReplicaWriter writer;

    @BeforeEach
    void start() throws Exception {
        server = CsyncServer.start(CsyncServerConfig.builder(Authenticator.single("admin", "adminpw"), replica)
                .failedAuthPause(Duration.ofMillis(10))
                .build());
        client = CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", server.getPort(), "admin", "adminpw"));
        writer = new ReplicaWriter(client, "replicapart");
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void newMailboxGetsEveryRecordAndBodyOnTheReplicasPartition() throws Exception {
        MailboxState state = inbox(3, 3, List.of(record(1, 1, "\\Seen"), record(2, 2), record(3, 3, "$Label")));

        ReplicaWriter.Pushed pushed = push(state);

        assertThat(pushed.bodiesUploaded()).isEqualTo(3);
        assertThat(replica.mailbox("user.alice").orElseThrow().partition()).isEqualTo("replicapart");
        assertThat(replica.records(UID)).extracting(MessageRecord::uid).containsExactly(1L, 2L, 3L);
        assertThat(replica.records(UID).get(2).flags()).containsExactly("$Label");
        assertThat(replica.records(UID).get(0).annotations())
                .extracting(a -> a.entry())
                .containsExactly("/comment");
        for (Guid g : bodies.keySet()) assertThat(replica.body(g)).hasValue(bodies.get(g));
        assertThat(replica.crcs(UID).orElseThrow().basic())
                .isEqualTo(state.getHeader().getSyncCrc());
    }

    @Test
    void deltaSendsOnlyChangesAndReplayedHeadersChangeNothing() throws Exception {
        MailboxState first = inbox(2, 2, List.of(record(1, 1), record(2, 2)));
        push(first);
        served.clear();
        MailboxState flagged = inbox(3, 4, List.of(record(1, 1), record(2, 4, "\\Flagged"), record(3, 3)));

        ReplicaWriter.Pushed delta = push(flagged);
        ReplicaWriter.Pushed replayedOld = push(first);
        ReplicaWriter.Pushed replayedSame = push(flagged);

        assertThat(delta.recordsSent()).isEqualTo(2);
        assertThat(served).as("only the new message is uploaded").hasSize(1);
        assertThat(replayedOld.stale()).isTrue();
        assertThat(replayedSame.recordsSent()).isZero();
        assertThat(replica.records(UID).get(1).flags()).containsExactly("\\Flagged");
        assertThat(replica.mailbox("user.alice").orElseThrow().highestModSeq()).isEqualTo(4);
    }

    @Test
    void aCopyOfAnOlderMessageIsReservedFromAnyMailboxOfTheUserOnTheReplica() throws Exception {
        push(inbox(2, 2, List.of(record(1, 1), record(2, 2))));
        served.clear();
        // The copy's feed names only its own, new mailbox; the body is in the replica's INBOX.
        MailboxState copy = withName(inbox(2, 1, List.of(record(2, 1))), "user.alice.Archive");
        copy = MailboxState.newBuilder(copy)
                .setHeader(MailboxUpsert.newBuilder(copy.getHeader())
                        .setUniqueId("2a1f0c3e-archive")
                        .build())
                .build();
        MailboxState archive = copy;

        ReplicaWriter.Pushed pushed = writer.push(archive, guid -> Optional.empty(), id -> Optional.of(archive));

        assertThat(pushed.bodiesUploaded()).isZero();
        assertThat(served).isEmpty();
        assertThat(replica.records("2a1f0c3e-archive"))
                .extracting(MessageRecord::uid)
                .containsExactly(2L);
    }

    @Test
    void checksumRepairExpungesWhatTheCanonicalStateDoesNotHold() throws Exception {
        // The replica holds UID 3, which the primary never kept (say, a lost expunge).
        push(inbox(3, 3, List.of(record(1, 1), record(2, 2), record(3, 3))));
        MailboxState canonical = inbox(3, 5, List.of(record(1, 1), record(2, 5, "\\Seen")));

        ReplicaWriter.Pushed pushed =
                writer.push(canonical, List.of("user.alice"), this::body, id -> Optional.of(canonical));

        assertThat(pushed.syncCrc()).isEqualTo(canonical.getHeader().getSyncCrc());
        assertThat(replica.records(UID).get(2).isExpunged()).isTrue();
        assertThat(replica.crcs(UID).orElseThrow().basic())
                .isEqualTo(canonical.getHeader().getSyncCrc());
    }

    @Test
    void withoutCanonicalStateARepairLeavesReplicaOnlyMessagesAlone() throws Exception {
        push(inbox(3, 3, List.of(record(1, 1), record(2, 2), record(3, 3))));
        MailboxState view = inbox(3, 5, List.of(record(2, 5, "\\Seen")));

        assertThatPushFails(view);

        assertThat(replica.records(UID)).noneMatch(MessageRecord::isExpunged);
    }

    @Test
    void aCanonicalStateOfTheMailboxUnderAnotherNameIsNotTrustedToExpunge() throws Exception {
        push(inbox(3, 3, List.of(record(1, 1), record(2, 2), record(3, 3))));
        MailboxState view = inbox(3, 5, List.of(record(2, 5, "\\Seen")));
        // What mailstream.state may briefly hold after renames back and forth between two keys:
        // the mailbox as it was under its former name, without the messages it has had since.
        MailboxState former = withName(inbox(1, 1, List.of(record(1, 1))), "shared.Old");

        assertThatPushFails(view, former);

        assertThat(replica.records(UID)).noneMatch(MessageRecord::isExpunged);
    }

    private void assertThatPushFails(MailboxState view) {
        assertThatPushFails(view, null);
    }

    private void assertThatPushFails(MailboxState view, MailboxState canonical) {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> writer.push(view, List.of(), this::body, id -> Optional.ofNullable(canonical)))
                .hasMessageContaining("IMAP_SYNC_CHECKSUM");
    }

    @Test
    void missedRenameIsCaughtUpAndReplayedOldNameIsStale() throws Exception {
        push(inbox(1, 1, List.of(record(1, 1))));
        MailboxState renamed = withName(inbox(2, 2, List.of(record(1, 1), record(2, 2))), "user.alice.Archive");

        push(renamed);
        ReplicaWriter.Pushed replay = push(inbox(1, 1, List.of(record(1, 1))));

        assertThat(replica.mailbox("user.alice.Archive")).isPresent();
        assertThat(replica.mailbox("user.alice")).isEmpty();
        assertThat(replay.stale()).isTrue();
    }

    @Test
    void userStateAndStandaloneEventsBecomeTheirApplyCommands() throws Exception {
        push(inbox(2, 2, List.of(record(1, 1), record(2, 2))));
        UserState user = UserState.newBuilder()
                .setUserId("alice")
                .setLastEventId("e")
                .setLastCaptureTime(0)
                .setSubscriptions(List.of("user.alice"))
                .setSeen(List.of(SeenUpsert.newBuilder()
                        .setUserId("alice")
                        .setUniqueId("shared-1")
                        .setLastRead(10)
                        .setLastUid(4)
                        .setLastChange(11)
                        .setSeenUids("1:4")
                        .build()))
                .setSieveScripts(List.of(SieveScriptState.newBuilder()
                        .setFilename("vacation.script")
                        .setLastUpdate(5)
                        .setContentSha1("x")
                        .setContent(utf8("keep;\r\n"))
                        .build()))
                .setActiveSieve("vacation")
                .setQuotas(List.of(QuotaUpsert.newBuilder()
                        .setRoot("user.alice")
                        .setLimits(Map.of("STORAGE", 2048L, "MESSAGE", 50L))
                        .build()))
                .build();

        writer.pushUserState(user);
        writer.pushUserState(user); // asserting state twice changes nothing
        apply(new Expunge(UID, "user.alice", List.of(2L)));
        apply(new MailboxRename(UID, "user.alice", "user.alice.Old", 0L, "primarypart", null));
        apply(new MailboxRename(
                UID, "user.alice", "user.alice.Old", 0L, "primarypart", null)); // replay: already renamed

        assertThat(replica.subscriptions("alice")).containsExactly("user.alice");
        assertThat(replica.seen("alice")).containsKey("shared-1");
        assertThat(replica.sieveScripts("alice")).containsKey("vacation.script");
        assertThat(replica.activeSieve("alice")).hasValue("vacation");
        assertThat(replica.quota("user.alice").orElseThrow().limit("MESSAGE")).hasValue(50);
        assertThat(replica.records(UID).get(1).isExpunged()).isTrue();
        assertThat(replica.mailbox("user.alice.Old").orElseThrow().partition()).isEqualTo("replicapart");

        apply(new UserDelete("alice"));
        assertThat(replica.mailboxes()).isEmpty();
    }

    @Test
    void rebuildRestoresServerAnnotationsFromTheServerKeysState() throws Exception {
        UserState server = UserState.newBuilder()
                .setUserId("#server")
                .setLastEventId("e")
                .setLastCaptureTime(0)
                .setAnnotations(List.of(new AnnotationUpsert("", "/shared/comment", "", utf8("server note"))))
                .build();

        writer.pushUser(List.of(), Optional.of(server), this::body, pushed -> {});

        assertThat(replica.serverAnnotations()).singleElement().satisfies(a -> {
            assertThat(a.entry()).isEqualTo("/shared/comment");
            assertThat(a.userId()).isEmpty();
            assertThat(a.valueText()).isEqualTo("server note");
        });
    }

    @Test
    void spoolReassemblesChunksIgnoringRedeliveries(@TempDir Path dir) throws Exception {
        byte[] message = ("Subject: big\r\n\r\n" + "x".repeat(3000)).getBytes(StandardCharsets.US_ASCII);
        List<MessageContent> chunks = new ArrayList<>();
        String guid = MessageChunker.sha1Hex(message);
        new MessageChunker(1000).split(guid, "default", message, chunks::add);
        try (MessageSpool spool = new MessageSpool(dir)) {
            spool.accept(chunks.get(0));
            spool.accept(chunks.get(0));
            assertThat(spool.open(Guid.of(guid))).isEmpty();
            for (MessageContent c : chunks) spool.accept(c);
            assertThat(spool.open(Guid.of(guid)).orElseThrow().readAllBytes()).isEqualTo(message);
            spool.accept(chunks.get(1)); // a redelivery after completion
            spool.release(guid);
            assertThat(spool.open(Guid.of(guid))).isEmpty();
        }
    }

    // ---------------------------------------------------------------- helpers

    private ReplicaWriter.Pushed push(MailboxState state) throws Exception {
        return writer.push(state, List.of(state.getHeader().getName()), this::body, id -> Optional.of(state));
    }

    private void apply(Object payload) throws Exception {
        writer.apply(EventCommands.forPayload(payload, "replicapart").orElseThrow());
    }

    private Optional<MessageBody> body(Guid guid) {
        served.add(guid);
        return Optional.ofNullable(bodies.get(guid)).map(MessageBody::of);
    }

    private io.mailstream.schemas.MessageRecord record(long uid, long modseq, String... flags) {
        byte[] body = ("Subject: message " + uid + "\r\n\r\nbody " + uid + "\r\n").getBytes(StandardCharsets.US_ASCII);
        Guid guid = Guid.sha1(body);
        bodies.put(guid, body);
        List<Annotation> annotations = uid == 1
                ? List.of(Annotation.newBuilder()
                        .setEntry("/comment")
                        .setUserId("")
                        .setModseq(modseq)
                        .setValue(utf8("hello"))
                        .build())
                : List.of();
        return io.mailstream.schemas.MessageRecord.newBuilder()
                .setUid(uid)
                .setModseq(modseq)
                .setLastUpdated(1_700_000_000 + modseq)
                .setFlags(List.of(flags))
                .setInternalDate(1_700_000_000 + uid)
                .setSize(body.length)
                .setGuid(guid.hex())
                .setAnnotations(annotations)
                .build();
    }

    /** A header as capture would carry it: the source's SYNC_CRC over exactly these records. */
    private static MailboxState inbox(
            long lastUid, long highestModseq, List<io.mailstream.schemas.MessageRecord> records) {
        SyncCrc.Pair crcs =
                SyncCrc.of(records.stream().map(MailboxTranslation::toRecord).toList());
        MailboxUpsert header = MailboxUpsert.newBuilder()
                .setUniqueId(UID)
                .setName("user.alice")
                .setUidValidity(1_700_000_000L)
                .setLastUid(lastUid)
                .setHighestModseq(highestModseq)
                .setPartition("primarypart")
                .setAcl("alice\tlrswipkxtecdan\t")
                .setOptions("P")
                .setSyncCrc(crcs.basic())
                .setSyncCrcAnnot(crcs.annot())
                .setAnnotations(List.of(Annotation.newBuilder()
                        .setEntry("/specialuse")
                        .setUserId("alice")
                        .setModseq(1)
                        .setValue(utf8("\\Archive"))
                        .build()))
                .build();
        return MailboxState.newBuilder()
                .setHeader(header)
                .setRecords(records)
                .setPartitionKey("alice")
                .setLastEventId("e")
                .setLastCaptureTime(0)
                .build();
    }

    private static MailboxState withName(MailboxState s, String name) {
        return MailboxState.newBuilder(s)
                .setHeader(MailboxUpsert.newBuilder(s.getHeader()).setName(name).build())
                .build();
    }

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }
}
