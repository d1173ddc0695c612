package io.mailstream.bridge.state;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.bridge.state.Difference.Kind;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.codec.AvroCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StateDiffTest {
    static {
        AvroCodec.trustGeneratedClasses();
    }

    private static MessageRecord record(long uid, long modseq, String... flags) {
        return MessageRecord.newBuilder()
                .setUid(uid)
                .setModseq(modseq)
                .setLastUpdated(1000 + uid)
                .setFlags(List.of(flags))
                .setInternalDate(2000 + uid)
                .setSize(100)
                .setGuid(String.format("%040x", uid))
                .setAnnotations(List.of())
                .build();
    }

    private static MailboxState mailbox(String id, String name, List<MessageRecord> records) {
        MailboxUpsert header = MailboxUpsert.newBuilder()
                .setUniqueId(id)
                .setName(name)
                .setUidValidity(7)
                .setLastUid(
                        records.stream().mapToLong(MessageRecord::getUid).max().orElse(0))
                .setHighestModseq(records.stream()
                        .mapToLong(MessageRecord::getModseq)
                        .max()
                        .orElse(1))
                .setPartition("default")
                .setAcl("alice\tlrswipkxtecda\t")
                .build();
        return StateDiff.withComputedCrcs(MailboxState.newBuilder()
                .setHeader(header)
                .setRecords(new ArrayList<>(records))
                .setPartitionKey("alice")
                .setLastEventId("e")
                .setLastCaptureTime(1)
                .setDeleted(false)
                .build());
    }

    @Test
    void equalStatesHaveNoDifferenceWhateverTheFlagOrderOrPartition() {
        MailboxState ours = mailbox("u1", "user.alice", List.of(record(1, 5, "\\Seen", "$Work")));
        MailboxState theirs = mailbox("u1", "user.alice", List.of(record(1, 5, "$Work", "\\SEEN")));
        theirs = MailboxState.newBuilder(theirs)
                .setHeader(MailboxUpsert.newBuilder(theirs.getHeader())
                        .setPartition("p2")
                        .setSyncCrc(ours.getHeader().getSyncCrc())
                        .build())
                .build();
        assertThat(StateDiff.headers("alice", List.of(ours), List.of(theirs))).isEmpty();
        assertThat(StateDiff.records("alice", ours, theirs)).isEmpty();
    }

    @Test
    void anExpungedRecordOnTheTierIsAMissingOneAndTheCrcsShowIt() {
        MailboxState ours = mailbox("u1", "user.alice", List.of(record(1, 5), record(2, 6)));
        MailboxState theirs = mailbox("u1", "user.alice", List.of(record(1, 5), record(2, 9, "\\Expunged")));
        List<Difference> headers = StateDiff.headers("alice", List.of(ours), List.of(theirs));
        assertThat(headers).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(Kind.MAILBOX);
            assertThat(d.detail()).contains("HIGHESTMODSEQ canonical 6, tier 9").contains("SYNC_CRC canonical");
        });
        assertThat(StateDiff.records("alice", ours, theirs))
                .singleElement()
                .satisfies(d -> assertThat(d.detail())
                        .isEqualTo("UID 2 missing on the tier (GUID " + String.format("%040x", 2) + ")"));
    }

    @Test
    void missingAndExtraMailboxesAreMatchedByUniqueidNotName() {
        MailboxState ours = mailbox("u1", "user.alice.Work", List.of());
        MailboxState renamed = mailbox("u1", "user.alice.Old", List.of());
        MailboxState stray = mailbox("u9", "user.alice.Stray", List.of());
        List<Difference> d = StateDiff.headers("alice", List.of(ours), List.of(renamed, stray));
        assertThat(d).extracting(Difference::kind).containsExactly(Kind.MAILBOX, Kind.EXTRA_MAILBOX);
        assertThat(d.get(0).detail()).contains("name canonical user.alice.Work, tier user.alice.Old");
        assertThat(StateDiff.headers("alice", List.of(ours), List.of()))
                .extracting(Difference::kind)
                .containsExactly(Kind.MISSING_MAILBOX);
    }

    @Test
    void userDataComparesSubscriptionsAndQuotaLimitsButNotTheQuotaModseq() {
        UserState ours = UserState.newBuilder()
                .setUserId("alice")
                .setSubscriptions(List.of("user.alice.Work"))
                .setQuotas(List.of(QuotaUpsert.newBuilder()
                        .setRoot("user.alice")
                        .setLimits(Map.of("STORAGE", 100L))
                        .setModseq(3)
                        .build()))
                .setLastEventId("e")
                .setLastCaptureTime(1)
                .build();
        UserState same = UserState.newBuilder(ours)
                .setQuotas(List.of(QuotaUpsert.newBuilder(ours.getQuotas().get(0))
                        .setModseq(99)
                        .build()))
                .build();
        assertThat(StateDiff.user("alice", Optional.of(ours), Optional.of(same)))
                .isEmpty();
        UserState other = UserState.newBuilder(same)
                .setSubscriptions(List.of())
                .setQuotas(List.of(QuotaUpsert.newBuilder(ours.getQuotas().get(0))
                        .setLimits(Map.of("STORAGE", 5L))
                        .build()))
                .build();
        assertThat(StateDiff.user("alice", Optional.of(ours), Optional.of(other)))
                .extracting(Difference::detail)
                .containsExactly(
                        "subscriptions canonical [user.alice.Work], tier []",
                        "quotas canonical [user.alice {STORAGE=100}], tier [user.alice {STORAGE=5}]");
    }
}
