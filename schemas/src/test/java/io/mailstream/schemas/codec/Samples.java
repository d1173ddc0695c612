package io.mailstream.schemas.codec;

import io.mailstream.schemas.*;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** One fully populated record of every top-level type and every ChangeEvent payload. */
final class Samples {

    private Samples() {}

    static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    static Envelope envelope() {
        return Envelope.newBuilder()
                .setEventId("e-1")
                .setSourceServerId("imap1")
                .setSite("dc1")
                .setTier("primary")
                .setEpoch(3)
                .setPartitionKey("alice")
                .setMailboxUniqueId("u-123")
                .setCaptureTime(1_700_000_000_000L)
                .setSequence(42)
                .build();
    }

    static MessageRecord record() {
        return MessageRecord.newBuilder()
                .setUid(7)
                .setModseq(11)
                .setLastUpdated(1_700_000_000L)
                .setFlags(List.of("\\Seen", "$Label1"))
                .setInternalDate(1_699_000_000L)
                .setSize(1234)
                .setGuid("0123456789abcdef0123456789abcdef01234567")
                .setAnnotations(List.of(annotation("/comment", "hello")))
                .build();
    }

    static Annotation annotation(String entry, String value) {
        return Annotation.newBuilder()
                .setEntry(entry)
                .setUserId("")
                .setModseq(5)
                .setValue(bytes(value))
                .build();
    }

    static MailboxUpsert mailboxUpsert() {
        return MailboxUpsert.newBuilder()
                .setUniqueId("u-123")
                .setName("user.alice.Work")
                .setUidValidity(99)
                .setLastUid(7)
                .setHighestModseq(11)
                .setPartition("default")
                .setAcl("alice\tlrswipkxtecda\t")
                .setAnnotations(List.of(annotation("/vendor/cmu/cyrus-imapd/color", "red")))
                .setExtraKeys(Map.of("X-FUTURE", "1"))
                .build();
    }

    static List<Object> payloads() {
        return List.of(
                mailboxUpsert(),
                RecordsUpsert.newBuilder()
                        .setUniqueId("u-123")
                        .setMailboxName("user.alice.Work")
                        .setRecords(List.of(record()))
                        .build(),
                MessageContent.newBuilder()
                        .setGuid("0123456789abcdef0123456789abcdef01234567")
                        .setSize(5)
                        .setData(bytes("hello"))
                        .build(),
                MailboxDelete.newBuilder()
                        .setUniqueId("u-123")
                        .setName("user.alice.Work")
                        .build(),
                MailboxRename.newBuilder()
                        .setUniqueId("u-123")
                        .setOldName("user.alice.Work")
                        .setNewName("user.alice.Job")
                        .setPartition("default")
                        .build(),
                Expunge.newBuilder()
                        .setUniqueId("u-123")
                        .setMailboxName("user.alice.Work")
                        .setUids(List.of(1L, 2L))
                        .build(),
                SeenUpsert.newBuilder()
                        .setUserId("bob")
                        .setUniqueId("u-123")
                        .setLastRead(1)
                        .setLastUid(7)
                        .setLastChange(2)
                        .setSeenUids("1:7")
                        .build(),
                Subscribe.newBuilder()
                        .setUserId("alice")
                        .setMailboxName("user.alice.Work")
                        .build(),
                Unsubscribe.newBuilder()
                        .setUserId("alice")
                        .setMailboxName("user.alice.Work")
                        .build(),
                SieveUpsert.newBuilder()
                        .setUserId("alice")
                        .setFilename("main.script")
                        .setLastUpdate(1)
                        .setContent(bytes("keep;"))
                        .build(),
                SieveDelete.newBuilder()
                        .setUserId("alice")
                        .setFilename("main.script")
                        .build(),
                SieveActivate.newBuilder()
                        .setUserId("alice")
                        .setFilename("main.bc")
                        .build(),
                SieveDeactivate.newBuilder().setUserId("alice").build(),
                QuotaUpsert.newBuilder()
                        .setRoot("user.alice")
                        .setLimits(Map.of("STORAGE", 1024L))
                        .build(),
                QuotaDelete.newBuilder().setRoot("user.alice").build(),
                AnnotationUpsert.newBuilder()
                        .setMailboxName("")
                        .setEntry("/motd")
                        .setUserId("")
                        .setValue(bytes("hi"))
                        .build(),
                AnnotationDelete.newBuilder()
                        .setMailboxName("")
                        .setEntry("/motd")
                        .setUserId("")
                        .build(),
                UserDelete.newBuilder().setUserId("alice").build());
    }

    static ChangeEvent changeEvent(Object payload) {
        return ChangeEvent.newBuilder()
                .setEnvelope(envelope())
                .setPayload(payload)
                .build();
    }

    static ControlEvent controlEvent() {
        return ControlEvent.newBuilder()
                .setEventId("c-1")
                .setTime(1)
                .setActor("ops")
                .setReason("failover")
                .setPayload(PrimaryAssignment.newBuilder()
                        .setScope("*")
                        .setServerId("imap2")
                        .setSite("dc2")
                        .setEpoch(4)
                        .build())
                .build();
    }

    static StateRecord stateRecord() {
        return StateRecord.newBuilder()
                .setState(MailboxState.newBuilder()
                        .setHeader(mailboxUpsert())
                        .setRecords(List.of(record()))
                        .setPartitionKey("alice")
                        .setLastEventId("e-1")
                        .setLastCaptureTime(1)
                        .build())
                .build();
    }

    static TierProgress tierProgress() {
        return TierProgress.newBuilder()
                .setTier("dc2")
                .setPartitionKey("alice")
                .setFeedPartition(2)
                .setFeedOffset(100)
                .setLastEventId("e-1")
                .setLastSequence(42)
                .setLastCaptureTime(1)
                .setAppliedTime(2)
                .setMailboxSyncCrcs(Map.of("u-123", 77L))
                .build();
    }

    static DeadLetter deadLetter() {
        return DeadLetter.newBuilder()
                .setReason(DeadLetterReason.STALE_EPOCH)
                .setDetail("epoch 2 < 3")
                .setSourceTopic("mailstream.changes")
                .setSourcePartition(1)
                .setSourceOffset(9)
                .setKey(bytes("alice"))
                .setValue(bytes("x"))
                .setEventId("e-1")
                .setTime(3)
                .build();
    }
}
