package io.mailstream.operations.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.operations.audit.AuditEntry.Action;
import io.mailstream.operations.audit.ChangeLogReader.LoggedEvent;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.state.StateFold;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The audit's in-place fold agrees with StateFold, and moves pair only with what they can be. */
class AuditFoldTest {
    private long sequence;

    @Test
    void theInPlaceFoldEndsWithTheStateStateFoldComputes() {
        Random random = new Random(7);
        List<ChangeEvent> events = new ArrayList<>();
        Map<String, Long> lastUid = new HashMap<>();
        Map<String, String> names = new HashMap<>();
        for (int i = 0; i < 4000; i++) {
            String box = "box" + random.nextInt(4);
            names.putIfAbsent(box, "user.u." + box);
            double op = random.nextDouble();
            if (op < 0.45) {
                long uid = lastUid.merge(box, 1L, Long::sum);
                events.add(event(box, records(box, names.get(box), rec(uid, "g" + random.nextInt(300), List.of()))));
            } else if (op < 0.75 && lastUid.getOrDefault(box, 0L) > 0) {
                long uid = 1 + random.nextInt(lastUid.get(box).intValue());
                List<String> flags = random.nextBoolean() ? List.of("\\Seen") : List.of("\\Flagged", "$Label");
                events.add(event(box, records(box, names.get(box), rec(uid, "g" + uid, flags))));
            } else if (op < 0.85 && lastUid.getOrDefault(box, 0L) > 0) {
                events.add(event(
                        box,
                        Expunge.newBuilder()
                                .setUniqueId(box)
                                .setMailboxName(names.get(box))
                                .setUids(List.of(
                                        1L + random.nextInt(lastUid.get(box).intValue())))
                                .build()));
            } else if (op < 0.95) {
                events.add(event(box, header(box, names.get(box), lastUid.getOrDefault(box, 0L))));
            } else if (op < 0.98) {
                String old = names.get(box);
                names.put(box, old + "x");
                events.add(event(
                        box,
                        MailboxRename.newBuilder()
                                .setUniqueId(box)
                                .setOldName(old)
                                .setNewName(old + "x")
                                .setPartition("default")
                                .build()));
            } else {
                events.add(event(
                        box,
                        MailboxDelete.newBuilder()
                                .setUniqueId(box)
                                .setName(names.get(box))
                                .build()));
            }
        }
        Map<String, MailboxState> expected = new TreeMap<>();
        for (ChangeEvent e : events) {
            String id = e.getEnvelope().getMailboxUniqueId();
            expected.put(id, StateFold.applyToMailbox(expected.get(id), e));
        }
        AuditFold fold = new AuditFold(x -> {});
        fold.wholeHistory(true);
        long offset = 0;
        for (ChangeEvent e : events) fold.apply(new LoggedEvent(0, offset++, e.getEnvelope(), e, false));

        for (Map.Entry<String, MailboxState> e : expected.entrySet()) {
            AuditFold.Box box = fold.boxes().get(e.getKey());
            assertThat(box.deleted()).as(e.getKey()).isEqualTo(e.getValue().getDeleted());
            assertThat(box.sortedRecords().stream().map(AuditFoldTest::describe).toList())
                    .as(e.getKey())
                    .isEqualTo(e.getValue().getRecords().stream()
                            .map(AuditFoldTest::describe)
                            .toList());
        }
    }

    @Test
    void anExpungePairsWithAnArrivalOfItsBodyElsewhereButNotWithOneOlderThanTheMessage() {
        List<AuditEntry> entries = new ArrayList<>();
        AuditFold fold = new AuditFold(entries::add);
        fold.wholeHistory(true);
        long[] offset = {0};
        java.util.function.Consumer<ChangeEvent> apply =
                e -> fold.apply(new LoggedEvent(0, offset[0]++, e.getEnvelope(), e, false));
        apply.accept(event("inbox", header("inbox", "user.u", 0)));
        apply.accept(event("keep", header("keep", "user.u.Keep", 0)));
        apply.accept(event("inbox", records("inbox", "user.u", rec(1, "g1", List.of()))));
        // moved to Keep: the arrival, then the source expunged
        apply.accept(event("keep", records("keep", "user.u.Keep", rec(1, "g1", List.of()))));
        apply.accept(event("inbox", records("inbox", "user.u", rec(1, "g1", List.of("\\Deleted", "\\Expunged")))));
        // then expunged in Keep: not a move back to INBOX, whose copy arrived before this one
        apply.accept(event("keep", records("keep", "user.u.Keep", rec(1, "g1", List.of("\\Deleted", "\\Expunged")))));

        List<String> lines = Audit.pairMoves(entries).stream()
                .map(e -> e.action().word + " " + e.mailbox()
                        + (e.fromMailbox() != null ? " from " + e.fromMailbox() : ""))
                .toList();
        assertThat(lines)
                .containsExactly(
                        "folder-created user.u",
                        "folder-created user.u.Keep",
                        "delivered user.u",
                        "moved user.u.Keep from user.u",
                        "expunged user.u.Keep");
        assertThat(entries.stream().filter(e -> e.action() == Action.FLAGS))
                .as("\\Deleted set by the expunge itself")
                .isEmpty();
    }

    @Test
    void messageIdComesFromTheHeaderOnlyFoldedOrNot() {
        java.util.function.Function<String, String> id = text ->
                Audit.messageId(java.nio.ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        assertThat(id.apply("Subject: x\r\nMessage-ID:\r\n <Abc.1@Example.org>\r\n\r\nbody"))
                .isEqualTo("abc.1@example.org");
        assertThat(id.apply("message-id: <k@h>\r\n\r\n")).isEqualTo("k@h");
        assertThat(id.apply("Subject: x\r\n\r\nMessage-ID: <in-the-body@h>\r\n"))
                .isNull();
        assertThat(Audit.normalizeMessageId(" <K@H> ")).isEqualTo("k@h");
    }

    private static String describe(MessageRecord r) {
        return r.getUid() + " " + r.getGuid() + " " + r.getFlags();
    }

    private static MessageRecord rec(long uid, String guid, List<String> flags) {
        return MessageRecord.newBuilder()
                .setUid(uid)
                .setModseq(uid)
                .setLastUpdated(0)
                .setFlags(flags)
                .setInternalDate(0)
                .setSize(100)
                .setGuid(guid)
                .build();
    }

    private static RecordsUpsert records(String box, String name, MessageRecord... records) {
        return RecordsUpsert.newBuilder()
                .setUniqueId(box)
                .setMailboxName(name)
                .setRecords(List.of(records))
                .build();
    }

    private static MailboxUpsert header(String box, String name, long lastUid) {
        return MailboxUpsert.newBuilder()
                .setUniqueId(box)
                .setName(name)
                .setUidValidity(1)
                .setLastUid(lastUid)
                .setHighestModseq(lastUid)
                .setPartition("default")
                .setAcl("u\tlrs\t")
                .build();
    }

    private ChangeEvent event(String box, Object payload) {
        sequence++;
        Envelope envelope = Envelope.newBuilder()
                .setEventId("e" + sequence)
                .setSourceServerId("primary-1")
                .setSite("dc1")
                .setTier("primary")
                .setEpoch(1)
                .setPartitionKey("u")
                .setMailboxUniqueId(box)
                .setCaptureTime(1_000_000 + sequence)
                .setSequence(sequence)
                .build();
        return ChangeEvent.newBuilder()
                .setEnvelope(envelope)
                .setPayload(payload)
                .build();
    }
}
