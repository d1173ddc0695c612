package io.mailstream.schemas.state;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.schemas.AnnotationDelete;
import io.mailstream.schemas.AnnotationUpsert;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.SieveActivate;
import io.mailstream.schemas.SieveUpsert;
import io.mailstream.schemas.Subscribe;
import io.mailstream.schemas.Unsubscribe;
import io.mailstream.schemas.UserDelete;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.codec.AvroCodec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StateFoldTest {
    static {
        // The samples below copy records before StateFold is loaded; this module runs without -D trust.
        AvroCodec.trustGeneratedClasses();
    }

    private long seq;

    private ChangeEvent event(Object payload) {
        return event("alice", payload);
    }

    private ChangeEvent event(String partitionKey, Object payload) {
        seq++;
        return ChangeEvent.newBuilder()
                .setEnvelope(Envelope.newBuilder()
                        .setEventId("e" + seq)
                        .setSourceServerId("p1")
                        .setSite("dc1")
                        .setTier("primary")
                        .setEpoch(1)
                        .setPartitionKey(partitionKey)
                        .setMailboxUniqueId("u1")
                        .setCaptureTime(1000 + seq)
                        .setSequence(seq)
                        .build())
                .setPayload(payload)
                .build();
    }

    private static MessageRecord record(long uid, long modseq, String... flags) {
        return MessageRecord.newBuilder()
                .setUid(uid)
                .setModseq(modseq)
                .setLastUpdated(10)
                .setFlags(List.of(flags))
                .setInternalDate(9)
                .setSize(100)
                .setGuid("0".repeat(39) + uid)
                .build();
    }

    private static MailboxUpsert header(String name, long lastUid, long modseq) {
        return MailboxUpsert.newBuilder()
                .setUniqueId("u1")
                .setName(name)
                .setUidValidity(77)
                .setLastUid(lastUid)
                .setHighestModseq(modseq)
                .setPartition("default")
                .setAcl("alice\tlrswipkxtecdan\t")
                .setOptions("")
                .setAnnotations(List.of())
                .setExtraKeys(Map.of())
                .build();
    }

    @Test
    void recordsBeforeHeaderThenRenameAndExpungeKeepIdentity() {
        MailboxState s = StateFold.applyToMailbox(
                null,
                event(RecordsUpsert.newBuilder()
                        .setUniqueId("u1")
                        .setMailboxName("user.alice")
                        .setRecords(List.of(record(2, 5), record(1, 4, "\\Seen")))
                        .build()));
        assertThat(s.getHeader()).isNull();
        assertThat(s.getRecords()).extracting(MessageRecord::getUid).containsExactly(1L, 2L);
        s = StateFold.applyToMailbox(s, event(header("user.alice", 2, 5)));
        s = StateFold.applyToMailbox(
                s,
                event(RecordsUpsert.newBuilder()
                        .setUniqueId("u1")
                        .setMailboxName("user.alice")
                        .setRecords(List.of(record(2, 6, "\\Flagged")))
                        .build()));
        assertThat(s.getRecords().get(1).getModseq()).isEqualTo(6);
        assertThat(s.getRecords().get(1).getFlags()).containsExactly("\\Flagged");
        s = StateFold.applyToMailbox(
                s,
                event(MailboxRename.newBuilder()
                        .setUniqueId("u1")
                        .setOldName("user.alice")
                        .setNewName("user.alice.Old")
                        .setPartition("p2")
                        .setUidValidity(0)
                        .build()));
        assertThat(s.getHeader().getName()).isEqualTo("user.alice.Old");
        assertThat(s.getHeader().getUidValidity()).isEqualTo(77);
        assertThat(s.getHeader().getUniqueId()).isEqualTo("u1");
        MailboxState expunged = StateFold.applyToMailbox(
                s,
                event(Expunge.newBuilder()
                        .setUniqueId("u1")
                        .setMailboxName("user.alice.Old")
                        .setUids(List.of(1L, 99L))
                        .build()));
        assertThat(expunged.getRecords().get(0).getFlags()).containsExactly("\\Expunged", "\\Seen");
        assertThat(expunged.getRecords().get(0).getModseq()).isEqualTo(4);
        // Idempotent: the same expunge again changes nothing but the last event id.
        MailboxState again = StateFold.applyToMailbox(
                expunged,
                event(Expunge.newBuilder()
                        .setUniqueId("u1")
                        .setMailboxName("user.alice.Old")
                        .setUids(List.of(1L))
                        .build()));
        assertThat(again.getRecords()).isEqualTo(expunged.getRecords());
    }

    @Test
    void aRenameToAnotherKeyEmptiesTheOldKeysStateAndStartsTheNewOnesAfresh() {
        MailboxRename toBob = MailboxRename.newBuilder()
                .setUniqueId("u1")
                .setOldName("user.alice.Work")
                .setNewName("user.bob.Work")
                .setPartition("default")
                .setNewPartitionKey("bob")
                .build();
        MailboxState alice = StateFold.applyToMailbox(null, event(header("user.alice.Work", 2, 5)));
        alice = StateFold.applyToMailbox(
                alice,
                event(RecordsUpsert.newBuilder()
                        .setUniqueId("u1")
                        .setMailboxName("user.alice.Work")
                        .setRecords(List.of(record(1, 4), record(2, 5)))
                        .build()));

        ChangeEvent leaving = event("alice", toBob);
        ChangeEvent arriving = event("bob", toBob);
        assertThat(StateFold.leavesKey(leaving)).isTrue();
        assertThat(StateFold.leavesKey(arriving)).isFalse();
        MailboxState left = StateFold.applyToMailbox(alice, leaving);
        assertThat(left.getDeleted()).isTrue();
        assertThat(left.getRecords()).isEmpty();
        assertThat(left.getPartitionKey()).isEqualTo("alice");

        // The new key knows nothing of the mailbox until the records and header capture sends after the rename.
        MailboxState bob = StateFold.applyToMailbox(null, arriving);
        assertThat(bob.getHeader()).isNull();
        assertThat(bob.getDeleted()).isFalse();
        assertThat(bob.getPartitionKey()).isEqualTo("bob");

        // A rename within one key, or one written before the field existed, is not a departure.
        MailboxRename sameKey = MailboxRename.newBuilder(toBob)
                .setNewName("user.alice.Old")
                .setNewPartitionKey(null)
                .build();
        assertThat(StateFold.leavesKey(event("alice", sameKey))).isFalse();
        assertThat(StateFold.applyToMailbox(alice, event("alice", sameKey)).getRecords())
                .hasSize(2);
    }

    @Test
    void userStateFoldsSubscriptionsAndSieve() {
        UserState u = StateFold.applyToUser(
                null,
                event(Subscribe.newBuilder()
                        .setUserId("alice")
                        .setMailboxName("user.alice.B")
                        .build()));
        u = StateFold.applyToUser(
                u,
                event(Subscribe.newBuilder()
                        .setUserId("alice")
                        .setMailboxName("user.alice.A")
                        .build()));
        u = StateFold.applyToUser(
                u,
                event(Subscribe.newBuilder()
                        .setUserId("alice")
                        .setMailboxName("user.alice.A")
                        .build()));
        u = StateFold.applyToUser(
                u,
                event(Unsubscribe.newBuilder()
                        .setUserId("alice")
                        .setMailboxName("user.alice.B")
                        .build()));
        assertThat(u.getSubscriptions()).containsExactly("user.alice.A");
        u = StateFold.applyToUser(
                u,
                event(SieveUpsert.newBuilder()
                        .setUserId("alice")
                        .setFilename("vacation.script")
                        .setLastUpdate(5)
                        .setContent(ByteBuffer.wrap("keep;".getBytes(StandardCharsets.US_ASCII)))
                        .build()));
        u = StateFold.applyToUser(
                u,
                event(SieveActivate.newBuilder()
                        .setUserId("alice")
                        .setFilename("vacation.bc")
                        .build()));
        assertThat(u.getActiveSieve()).isEqualTo("vacation");
        assertThat(u.getSieveScripts()).singleElement().satisfies(s -> {
            assertThat(s.getFilename()).isEqualTo("vacation.script");
            assertThat(s.getContentSha1()).isEqualTo("1741a5f56c1cfc0f7ef3d0ad53bceb6518bdfdad");
        });
    }

    @Test
    void serverAnnotationsFoldIntoTheServerKeysStateReplacedByMailboxEntryAndUserid() {
        ChangeEvent motd = event("#server", annotation("/shared/motd", "", "hello"));
        assertThat(StateFold.stateKey(motd)).isEqualTo("user:#server");
        assertThat(StateFold.stateKey(event("#server", new AnnotationDelete("", "/shared/motd", ""))))
                .isEqualTo("user:#server");

        UserState u = StateFold.applyToUser(null, motd);
        assertThat(u.getUserId()).isEqualTo("#server");
        u = StateFold.applyToUser(u, event("#server", annotation("/shared/comment", "", "v1")));
        u = StateFold.applyToUser(u, event("#server", annotation("/shared/comment", "admin", "private")));
        u = StateFold.applyToUser(u, event("#server", annotation("/shared/comment", "", "v2")));
        assertThat(u.getAnnotations())
                .extracting(a -> a.getEntry() + "|" + a.getUserId() + "|" + utf8(a.getValue()))
                .containsExactly("/shared/comment||v2", "/shared/comment|admin|private", "/shared/motd||hello");

        u = StateFold.applyToUser(u, event("#server", new AnnotationDelete("", "/shared/comment", "")));
        u = StateFold.applyToUser(u, event("#server", new AnnotationDelete("", "/shared/nothing", "")));
        assertThat(u.getAnnotations())
                .extracting(a -> a.getEntry() + "|" + a.getUserId())
                .containsExactly("/shared/comment|admin", "/shared/motd|");
        assertThat(StateFold.applyToUser(u, event("#server", new UserDelete("#server")))
                        .getAnnotations())
                .isEmpty();
    }

    private static AnnotationUpsert annotation(String entry, String userId, String value) {
        return new AnnotationUpsert("", entry, userId, ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8)));
    }

    private static String utf8(ByteBuffer b) {
        return StandardCharsets.UTF_8.decode(b.duplicate()).toString();
    }
}
