package io.mailstream.csync.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.mailstream.csync.crc.SyncCrc;
import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.CsyncCommand.*;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.csync.model.SeenEntry;
import io.mailstream.csync.model.SieveEntry;
import io.mailstream.csync.server.CsyncSessionHandler;
import io.mailstream.csync.server.SessionInfo;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Dedicated checks of the InMemoryReplica commands the transcripts exercise little or not at all. */
class InMemoryReplicaTest {
    private static final String INBOX = "user.alice";
    private static final String UNIQUEID = "u1";
    private static final byte[] BODY1 = "Subject: one\r\n\r\nfirst\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BODY2 = "Subject: two\r\n\r\nsecond\r\n".getBytes(StandardCharsets.US_ASCII);

    private InMemoryReplica replica;
    private CsyncSessionHandler session;

    @BeforeEach
    void seed() throws CsyncException {
        replica = new InMemoryReplica();
        session = replica.openSession(new SessionInfo(1, null, "admin", false));
        session.message(new ApplyMessage(List.of(MessageFile.of("default", BODY1), MessageFile.of("default", BODY2))));
        session.mailbox(new ApplyMailbox(mailbox(10, List.of(record(1, 9, BODY1), record(2, 10, BODY2)))));
    }

    private static MessageRecord record(long uid, long modSeq, byte[] body, String... flags) {
        return MessageRecord.of(
                uid,
                modSeq,
                1_700_000_000L + uid,
                List.of(flags),
                1_690_000_000L + uid,
                body.length,
                Guid.sha1(body),
                List.of());
    }

    private static Mailbox mailbox(long highestModSeq, List<MessageRecord> records) {
        SyncCrc.Pair crc = SyncCrc.of(records);
        return Mailbox.builder(UNIQUEID, INBOX)
                .syncCrc(crc.basic(), crc.annot())
                .lastUid(records.stream().mapToLong(MessageRecord::uid).max().orElse(0))
                .highestModSeq(highestModSeq)
                .recentUid(0)
                .recentTime(0)
                .lastAppendDate(0)
                .pop3LastLogin(0)
                .pop3ShowAfter(0)
                .uidValidity(1_600_000_000L)
                .partition("default")
                .acl("alice\tlrswipkxtecdan\t")
                .options("P")
                .records(records)
                .build();
    }

    @Test
    void fullMailboxListsEveryRecordAndFetchReturnsTheBody() throws CsyncException {
        Mailbox full = session.getFullMailbox(new GetFullMailbox(INBOX));
        assertThat(full.records()).extracting(MessageRecord::uid).containsExactly(1L, 2L);
        assertThat(full.syncCrc()).isEqualTo(SyncCrc.of(full.records()).basic());
        assertThat(session.getFetch(new GetFetch(INBOX, "default", UNIQUEID, Guid.sha1(BODY2), 2))
                        .body()
                        .readAllBytes())
                .isEqualTo(BODY2);
        assertThatThrownBy(() -> session.getFetch(new GetFetch(INBOX, "default", UNIQUEID, Guid.sha1(new byte[1]), 3)))
                .isInstanceOfSatisfying(
                        CsyncException.class, e -> assertThat(e.error()).isEqualTo(CsyncError.MAILBOX_NONEXISTENT));
        assertThatThrownBy(() -> session.getFullMailbox(new GetFullMailbox("user.nobody")))
                .isInstanceOfSatisfying(
                        CsyncException.class, e -> assertThat(e.error()).isEqualTo(CsyncError.MAILBOX_NONEXISTENT));
    }

    @Test
    void expungeMarksRecordsAndRefreshesTheCrc() throws CsyncException {
        assertThatThrownBy(() -> session.expunge(new ApplyExpunge(INBOX, "other", List.of(1L))))
                .isInstanceOfSatisfying(
                        CsyncException.class, e -> assertThat(e.error()).isEqualTo(CsyncError.MAILBOX_MOVED));
        session.expunge(new ApplyExpunge(INBOX, UNIQUEID, List.of(1L, 99L)));
        List<MessageRecord> records = replica.records(UNIQUEID);
        assertThat(records)
                .extracting(MessageRecord::uid, MessageRecord::isExpunged)
                .containsExactly(tuple(1L, true), tuple(2L, false));
        Mailbox header = replica.mailbox(INBOX).orElseThrow();
        assertThat(header.syncCrc()).isEqualTo(SyncCrc.basic(List.of(record(2, 10, BODY2))));
        assertThat(header.highestModSeq())
                .as("EXPUNGE does not bump the modseq")
                .isEqualTo(10);
    }

    @Test
    void mailboxAndServerAnnotationsAreSetListedAndRemoved() throws CsyncException {
        session.annotation(new ApplyAnnotation(
                Annotation.forMailbox(INBOX, "/comment", "", "shared".getBytes(StandardCharsets.UTF_8))));
        session.annotation(new ApplyAnnotation(
                Annotation.forMailbox(INBOX, "/comment", "alice", "mine".getBytes(StandardCharsets.UTF_8))));
        session.annotation(
                new ApplyAnnotation(Annotation.forMailbox("", "/motd", "", "hello".getBytes(StandardCharsets.UTF_8))));
        assertThat(session.getAnnotation(new GetAnnotation(INBOX)))
                .extracting(Annotation::userId, Annotation::valueText)
                .containsExactlyInAnyOrder(tuple("", "shared"), tuple("alice", "mine"));
        assertThat(session.getAnnotation(new GetAnnotation("")))
                .extracting(Annotation::entry)
                .containsExactly("/motd");
        session.unannotation(new ApplyUnannotation(INBOX, "/comment", "alice"));
        session.unannotation(new ApplyUnannotation("", "/motd", ""));
        assertThat(replica.mailbox(INBOX).orElseThrow().annotations())
                .extracting(Annotation::userId)
                .containsExactly("");
        assertThat(replica.serverAnnotations()).isEmpty();
    }

    @Test
    void sieveScriptsAreStoredActivatedListedFetchedAndRemoved() throws CsyncException {
        byte[] text = "keep;\r\n".getBytes(StandardCharsets.US_ASCII);
        session.sieve(new ApplySieve(SieveEntry.upload("alice", "main.script", 1_700_000_000L, text)));
        session.sieve(new ApplySieve(SieveEntry.upload("alice", "main.bc", 1_700_000_000L, new byte[] {1})));
        session.activateSieve(new ApplyActivateSieve("alice", "main.bc"));
        assertThat(replica.sieveScripts("alice")).containsOnlyKeys("main.script");
        assertThat(replica.activeSieve("alice")).contains("main");
        // the listing as real 3.6.1 sends it (GUID = SHA-1 of the text; the active script as a .bc entry)
        assertThat(session.getMeta(new GetMeta("alice")))
                .map(r -> ((CsyncReply.SieveReply) r).sieve())
                .extracting(
                        SieveEntry::fileName,
                        SieveEntry::lastUpdate,
                        SieveEntry::isActive,
                        s -> s.guid().orElseThrow())
                .containsExactly(
                        tuple("main.script", 1_700_000_000L, false, Guid.sha1(text)),
                        tuple("main.bc", 0L, true, Guid.NULL));
        assertThat(session.getFetchSieve(new GetFetchSieve("alice", "main.script"))
                        .content())
                .isEqualTo(text);
        session.unactivateSieve(new ApplyUnactivateSieve("alice"));
        session.unsieve(new ApplyUnsieve("alice", "main.script"));
        assertThat(replica.activeSieve("alice")).isEmpty();
        assertThat(session.getMeta(new GetMeta("alice"))).isEmpty();
        assertThatThrownBy(() -> session.getFetchSieve(new GetFetchSieve("alice", "main.script")))
                .isInstanceOf(CsyncException.class);
    }

    @Test
    void sieveMailboxSessionsListNoSieveEntries() throws CsyncException {
        session.sieve(new ApplySieve(
                SieveEntry.upload("alice", "main.script", 1, "keep;".getBytes(StandardCharsets.US_ASCII))));
        CsyncSessionHandler modern = replica.openSession(new SessionInfo(2, null, "admin", false));
        modern.enabled(Set.of("SIEVE-MAILBOX"));
        assertThat(modern.getMeta(new GetMeta("alice"))).isEmpty();
    }

    @Test
    void quotaIsSetReadAndRemoved() throws CsyncException {
        session.quota(new ApplyQuota(QuotaRoot.of(INBOX, 1000L, 5)));
        assertThat(session.getQuota(new GetQuota(INBOX)))
                .hasValueSatisfying(q -> assertThat(q.limit(QuotaRoot.STORAGE)).hasValue(1000));
        assertThat(session.getUser(new GetUser("alice")))
                .filteredOn(r -> r instanceof CsyncReply.QuotaReply)
                .hasSize(1);
        session.unquota(new ApplyUnquota(INBOX));
        assertThat(session.getQuota(new GetQuota(INBOX))).isEmpty();
    }

    @Test
    void metaListsSeenAndSubscriptions() throws CsyncException {
        session.seen(new ApplySeen(SeenEntry.of("bob", UNIQUEID, 1, 2, 3, "1:2")));
        session.sub(new ApplySub("bob", INBOX));
        session.sub(new ApplySub("bob", "user.alice.Work"));
        session.unsub(new ApplyUnsub("bob", "user.alice.Work"));
        List<CsyncReply> meta = session.getMeta(new GetMeta("bob"));
        assertThat(meta).hasSize(2);
        assertThat(((CsyncReply.SeenReply) meta.get(0)).seen()).satisfies(s -> {
            assertThat(s.userId()).isEmpty();
            assertThat(s.seenUids()).isEqualTo("1:2");
        });
        assertThat(((CsyncReply.LsubReply) meta.get(1)).mboxNames()).containsExactly(INBOX);
    }

    @Test
    void forceLetsAMasterThatIsBehindOverwrite() throws CsyncException {
        Mailbox behind = mailbox(8, List.of(record(1, 8, BODY1), record(2, 8, BODY2)));
        assertThatThrownBy(() -> session.mailbox(new ApplyMailbox(behind)))
                .isInstanceOfSatisfying(
                        CsyncException.class, e -> assertThat(e.error()).isEqualTo(CsyncError.SYNC_CHECKSUM));
        assertThat(replica.mailbox(INBOX).orElseThrow().highestModSeq()).isEqualTo(10);
        session.force();
        assertThat(replica.isForced()).isTrue();
        session.mailbox(new ApplyMailbox(behind));
        assertThat(replica.mailbox(INBOX).orElseThrow().highestModSeq()).isEqualTo(8);
        assertThat(replica.records(UNIQUEID)).extracting(MessageRecord::modSeq).containsExactly(8L, 8L);
    }
}
