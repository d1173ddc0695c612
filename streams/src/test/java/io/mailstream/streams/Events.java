package io.mailstream.streams;

import io.mailstream.core.control.ControlTopic;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.PrimaryAssignment;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.Subscribe;
import io.mailstream.schemas.codec.SchemaResolver;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Change events as capture writes them, for tests; event ids are {@code <prefix>-<n>}. */
final class Events {
    static final String PRIMARY = "primary-1";
    /** The tier events come from unless {@link #fromTier} says otherwise. */
    static final String TIER = "primary";

    private final String prefix;
    private int next;
    private String server = PRIMARY;
    private long epoch = 1;
    private String tier = TIER;

    Events(String prefix) {
        this.prefix = prefix;
    }

    /** Events from now on come from a tier that was promoted to source. */
    Events fromTier(String tier) {
        this.tier = tier;
        return this;
    }

    /** Events from now on come from {@code server} at {@code epoch}. */
    Events from(String server, long epoch) {
        this.server = server;
        this.epoch = epoch;
        return this;
    }

    static String mailboxName(String user, String folder) {
        return "user." + user + (folder.equals("INBOX") ? "" : "." + folder);
    }

    ChangeEvent mailbox(String user, String uniqueId, String folder, long lastUid, long highestModseq) {
        return event(
                user,
                uniqueId,
                MailboxUpsert.newBuilder()
                        .setUniqueId(uniqueId)
                        .setName(mailboxName(user, folder))
                        .setUidValidity(1000)
                        .setLastUid(lastUid)
                        .setHighestModseq(highestModseq)
                        .setPartition("default")
                        .setAcl(user + "\tlrswipkxtecdan\t")
                        .setSyncCrc(highestModseq * 31 + lastUid)
                        .build());
    }

    ChangeEvent records(String user, String uniqueId, String folder, MessageRecord... records) {
        return event(
                user,
                uniqueId,
                RecordsUpsert.newBuilder()
                        .setUniqueId(uniqueId)
                        .setMailboxName(mailboxName(user, folder))
                        .setRecords(List.of(records))
                        .build());
    }

    static MessageRecord record(long uid, long modseq, String guid, String... flags) {
        return MessageRecord.newBuilder()
                .setUid(uid)
                .setModseq(modseq)
                .setLastUpdated(1_700_000_000L + modseq)
                .setFlags(List.of(flags))
                .setInternalDate(1_700_000_000L)
                .setSize(body(guid).length)
                .setGuid(guid)
                .build();
    }

    ChangeEvent content(String user, String guid) {
        return content(user, guid, body(guid));
    }

    /** A body of any bytes under a given GUID (streams does not check the SHA-1; sinks do). */
    ChangeEvent content(String user, String guid, byte[] body) {
        return event(
                user,
                null,
                MessageContent.newBuilder()
                        .setGuid(guid)
                        .setSize(body.length)
                        .setData(ByteBuffer.wrap(body))
                        .build());
    }

    ChangeEvent rename(String user, String uniqueId, String from, String to) {
        return event(
                user,
                uniqueId,
                MailboxRename.newBuilder()
                        .setUniqueId(uniqueId)
                        .setOldName(mailboxName(user, from))
                        .setNewName(mailboxName(user, to))
                        .setPartition("default")
                        .build());
    }

    /**
     * A folder handed to another user as capture writes the rename: first under the old key (the
     * mailbox leaves it), then under the new key (where capture follows it with the whole mailbox).
     */
    List<ChangeEvent> renameToUser(String user, String uniqueId, String folder, String toUser) {
        MailboxRename rename = MailboxRename.newBuilder()
                .setUniqueId(uniqueId)
                .setOldName(mailboxName(user, folder))
                .setNewName(mailboxName(toUser, folder))
                .setPartition("default")
                .setNewPartitionKey(toUser)
                .build();
        return List.of(event(user, uniqueId, rename), event(toUser, uniqueId, rename));
    }

    ChangeEvent expunge(String user, String uniqueId, String folder, Long... uids) {
        return event(
                user,
                uniqueId,
                Expunge.newBuilder()
                        .setUniqueId(uniqueId)
                        .setMailboxName(mailboxName(user, folder))
                        .setUids(List.of(uids))
                        .build());
    }

    ChangeEvent delete(String user, String uniqueId, String folder) {
        return event(
                user,
                uniqueId,
                MailboxDelete.newBuilder()
                        .setUniqueId(uniqueId)
                        .setName(mailboxName(user, folder))
                        .setUidValidity(1000)
                        .build());
    }

    ChangeEvent subscribe(String user, String folder) {
        return event(
                user,
                null,
                Subscribe.newBuilder()
                        .setUserId(user)
                        .setMailboxName(mailboxName(user, folder))
                        .build());
    }

    static byte[] body(String guid) {
        return ("Subject: " + guid + "\r\n\r\nbody of " + guid + "\r\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Makes {@link #TIER} primary at epoch 1, as {@code mailstream promote --initial} does: nothing is accepted before. */
    static void firstPromotion(String bootstrapServers) {
        new ControlTopic(bootstrapServers, SchemaResolver.none())
                .promoteInitial(TIER, "dc1", "test", "first promotion");
    }

    /** A primary assignment as ControlTopic writes it. */
    static ControlEvent assignment(String tier, long epoch, boolean fencePending, List<Long> fencePoint) {
        return ControlEvent.newBuilder()
                .setEventId("control-" + tier + "-" + epoch)
                .setTime(1L)
                .setPayload(PrimaryAssignment.newBuilder()
                        .setScope("*")
                        .setServerId("")
                        .setSite("dc1")
                        .setEpoch(epoch)
                        .setTier(tier)
                        .setFencePending(fencePending)
                        .setFencePoint(fencePoint)
                        .build())
                .build();
    }

    private ChangeEvent event(String user, String uniqueId, Object payload) {
        next++;
        Envelope envelope = Envelope.newBuilder()
                .setEventId(prefix + "-" + next)
                .setSourceServerId(server)
                .setSite("dc1")
                .setTier(tier)
                .setEpoch(epoch)
                .setPartitionKey(user)
                .setMailboxUniqueId(uniqueId)
                .setCaptureTime(1_700_000_000_000L + next)
                .setSequence(next)
                .build();
        return new ChangeEvent(envelope, payload);
    }
}
