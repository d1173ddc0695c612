package io.mailstream.bridge.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.model.CsyncCommand.ApplyMailbox;
import io.mailstream.csync.model.CsyncCommand.ApplyQuota;
import io.mailstream.csync.model.CsyncCommand.ApplyRename;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.RecordsUpsert;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CaptureTranslatorTest {
    private static final byte[] BODY =
            "Subject: hi\r\n\r\nhello world, a body of some length\r\n".getBytes(StandardCharsets.US_ASCII);

    private static Mailbox mailbox(String name, int records, Guid guid) {
        List<MessageRecord> list = new ArrayList<>();
        for (int uid = 1; uid <= records; uid++) {
            list.add(MessageRecord.of(
                    uid, 10 + uid, 1700000000, List.of("\\Seen", "$Label1"), 1700000000, BODY.length, guid, List.of()));
        }
        return Mailbox.builder("U1", name)
                .lastUid(records)
                .highestModSeq(10 + records)
                .recentUid(0)
                .recentTime(0)
                .lastAppendDate(0)
                .pop3LastLogin(0)
                .uidValidity(42)
                .partition("default")
                .acl("alice\tlrswipkxtecdan\t")
                .options("P")
                .records(list)
                .build()
                .with("X-FUTURE-KEY", DAtom.of("v 1"));
    }

    private static CaptureContext context(Set<Guid> held, MessageFile staged) {
        return new CaptureContext() {
            public Optional<Mailbox> mailbox(String name) {
                return Optional.of(Mailbox.builder("U1", name).highestModSeq(1).build());
            }

            public List<MessageRecord> records(String uniqueId) {
                return List.of();
            }

            public Set<Guid> heldGuids(String partitionKey) {
                return held;
            }

            public Optional<MessageFile> staged(Guid guid) {
                return Optional.ofNullable(staged).filter(f -> f.guid().equals(guid));
            }
        };
    }

    @Test
    void mailboxGivesContentThenRecordBatchesThenHeaderLast() throws Exception {
        MessageFile file = MessageFile.of("default", BODY);
        List<Change> out = new ArrayList<>();
        new CaptureTranslator(2, 1 << 20, 16)
                .translate(
                        new ApplyMailbox(mailbox("user.alice.Work", 5, file.guid())),
                        context(Set.of(), file),
                        out::add);

        int chunks = (BODY.length + 15) / 16;
        assertThat(out)
                .allMatch(c ->
                        c.partitionKey().equals("alice") && c.mailboxUniqueId().equals("U1"));
        assertThat(out.subList(0, chunks))
                .allMatch(c -> c.payload() instanceof MessageContent m
                        && m.getGuid().equals(file.guid().hex())
                        && m.getChunkCount() == chunks);
        List<RecordsUpsert> batches = out.subList(chunks, out.size() - 1).stream()
                .map(c -> (RecordsUpsert) c.payload())
                .toList();
        assertThat(batches).extracting(b -> b.getRecords().size()).containsExactly(2, 2, 1);
        assertThat(batches.get(0).getRecords().get(0).getFlags()).containsExactly("\\Seen", "$Label1");
        MailboxUpsert header = (MailboxUpsert) out.get(out.size() - 1).payload();
        assertThat(header.getName()).isEqualTo("user.alice.Work");
        assertThat(header.getUidValidity()).isEqualTo(42);
        assertThat(header.getAcl()).isEqualTo("alice\tlrswipkxtecdan\t");
        assertThat(header.getExtraKeys()).isEqualTo(Map.of("X-FUTURE-KEY", "\"v 1\""));
    }

    @Test
    void bodyTheUserAlreadyHoldsIsNotRepeated() throws Exception {
        MessageFile file = MessageFile.of("default", BODY);
        List<Change> out = new ArrayList<>();
        new CaptureTranslator(100, 1 << 20, 1024)
                .translate(
                        new ApplyMailbox(mailbox("user.alice", 2, file.guid())),
                        context(Set.of(file.guid()), file),
                        out::add);
        assertThat(out)
                .extracting(c -> c.payload().getClass().getSimpleName())
                .containsExactly("RecordsUpsert", "MailboxUpsert");
    }

    @Test
    void partitionKeysFollowOwnersAndSharedTopLevels() {
        assertThat(PartitionKeys.ofMailbox("user.alice.Work")).isEqualTo("alice");
        assertThat(PartitionKeys.ofMailbox("DELETED.user.alice.Archive.6B070D02"))
                .isEqualTo("alice");
        assertThat(PartitionKeys.ofMailbox("example.com!user.john^doe.Sent")).isEqualTo("john.doe@example.com");
        assertThat(PartitionKeys.ofMailbox("shared.support.tickets")).isEqualTo("shared");
        assertThat(PartitionKeys.ofMailbox("example.com!shared.x")).isEqualTo("example.com!shared");
        assertThat(PartitionKeys.ofMailbox("archive")).isEqualTo("archive");
    }

    @Test
    void aRenameToAnotherKeyLeavesTheOldKeyAndCarriesTheWholeMailboxToTheNewOne() throws Exception {
        Mailbox work =
                mailbox("user.alice.Work", 3, MessageFile.of("default", BODY).guid());
        CaptureContext shadow = new CaptureContext() {
            public Optional<Mailbox> mailbox(String name) {
                return Optional.of(work.header()).filter(m -> m.name().equals(name));
            }

            public List<MessageRecord> records(String uniqueId) {
                return work.records();
            }

            public Set<Guid> heldGuids(String partitionKey) {
                return Set.of();
            }

            public Optional<MessageFile> staged(Guid guid) {
                return Optional.empty();
            }
        };
        List<Change> out = new ArrayList<>();
        new CaptureTranslator(2, 1 << 20, 1024)
                .translate(new ApplyRename("user.alice.Work", "shared.Work", "p2", 50L, false), shadow, out::add);

        assertThat(out)
                .extracting(c -> c.partitionKey() + ":" + c.payload().getClass().getSimpleName())
                .containsExactly(
                        "alice:MailboxRename",
                        "shared:MailboxRename",
                        "shared:RecordsUpsert",
                        "shared:RecordsUpsert",
                        "shared:MailboxUpsert");
        assertThat(out).allMatch(c -> c.mailboxUniqueId().equals("U1"));
        assertThat(((MailboxRename) out.get(0).payload()).getNewPartitionKey()).isEqualTo("shared");
        assertThat(out.get(1).payload()).isEqualTo(out.get(0).payload());
        assertThat(out.subList(2, 4))
                .flatExtracting(c -> ((RecordsUpsert) c.payload()).getRecords())
                .extracting(io.mailstream.schemas.MessageRecord::getUid)
                .containsExactly(1L, 2L, 3L);
        MailboxUpsert header = (MailboxUpsert) out.get(4).payload();
        assertThat(header.getName()).isEqualTo("shared.Work");
        assertThat(header.getPartition()).isEqualTo("p2");
        assertThat(header.getUidValidity()).isEqualTo(50);
        assertThat(header.getLastUid()).isEqualTo(3);
    }

    @Test
    void renameAndUnlimitedQuota() throws Exception {
        List<Change> out = new ArrayList<>();
        CaptureTranslator t = new CaptureTranslator(100, 1 << 20, 1024);
        t.translate(
                new ApplyRename("user.alice.Work", "user.alice.Projects", "default", 7L, false),
                context(Set.of(), null),
                out::add);
        t.translate(new ApplyQuota(QuotaRoot.of("user.alice", null, 9)), context(Set.of(), null), out::add);
        t.translate(new ApplyQuota(QuotaRoot.of("user.bob", 100000L, 9)), context(Set.of(), null), out::add);
        assertThat(((MailboxRename) out.get(0).payload()).getUniqueId()).isEqualTo("U1");
        assertThat(((MailboxRename) out.get(0).payload()).getNewPartitionKey())
                .as("same key: one event")
                .isNull();
        assertThat(((QuotaUpsert) out.get(1).payload()).getLimits()).isEmpty();
        assertThat(out.get(2).partitionKey()).isEqualTo("bob");
        assertThat(((QuotaUpsert) out.get(2).payload()).getLimits()).isEqualTo(Map.of("STORAGE", 100000L));
    }
}
