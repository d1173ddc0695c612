package io.mailstream.producers.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.csync.model.Mailbox;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.SeenUpsert;
import io.mailstream.schemas.Subscribe;
import io.mailstream.schemas.Unsubscribe;
import io.mailstream.schemas.UserDelete;
import io.mailstream.testkit.ImapActionScript;
import io.mailstream.testkit.ImapActionScript.Step;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The csync issue's IMAP action script on a real Cyrus primary, replicated over the mailstream
 * channel into capture: each step's decoded events in mailstream.changes, and afterwards the
 * shadow's CRCs against the primary's own.
 */
class CaptureActionScriptTest {
    @TempDir
    Path tmp;

    @Test
    void everyActionBecomesItsEventsAndTheShadowMatchesThePrimary() throws Exception {
        try (CaptureLab lab = new CaptureLab(tmp, Map.of("alice", "alicepw", "bob", "bobpw"));
                Capture capture = lab.startCapture(tmp.resolve("data"))) {
            lab.startSyncClient();
            ImapActionScript script = new ImapActionScript(lab.cyrus.endpoint(), 7);
            Map<TopicPartition, Long> offsets = lab.endOffsets();
            for (Step step : Step.values()) {
                script.run(step);
                lab.awaitDrained();
                List<ChangeEvent> events = lab.eventsSince(offsets);
                offsets = lab.endOffsets();
                assertStep(step, events);
            }
            assertShadowMatchesPrimary(lab, capture);
            lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
        }
    }

    private static void assertStep(Step step, List<ChangeEvent> events) {
        String as = step + ": "
                + events.stream()
                        .map(e -> e.getPayload().getClass().getSimpleName())
                        .toList();
        assertThat(events).as(as).isNotEmpty();
        assertThat(events)
                .as(as)
                .allMatch(e -> e.getEnvelope().getSourceServerId().equals(CaptureLab.SERVER_ID)
                        && e.getEnvelope().getTier().equals("primary")
                        && e.getEnvelope().getEpoch() >= 1);
        assertHeadersLast(events, as);
        assertContentAhead(events, as);
        switch (step) {
            case CREATE_USERS -> {
                assertThat(upserts(events))
                        .as(as)
                        .extracting(MailboxUpsert::getName)
                        .contains("user.alice", "user.bob");
                assertThat(keysOf(events, "user.alice")).containsOnly("alice");
            }
            case APPEND -> {
                assertThat(uids(events, "user.alice")).as(as).containsExactly(1L, 2L, 3L, 4L);
                assertThat(uids(events, "user.bob")).as(as).containsExactly(1L);
                assertThat(record(events, "user.alice", 2).getFlags()).contains("\\Flagged");
                assertThat(record(events, "user.alice", 4).getFlags()).contains("$Big");
                // every new body, the 1 MB one in several chunks, on its owner's partition
                Map<String, List<MessageContent>> chunks = content(events);
                assertThat(chunks.keySet()).as(as).isEqualTo(guids(events));
                MessageRecord bigRecord = record(events, "user.alice", 4);
                List<MessageContent> big = chunks.get(bigRecord.getGuid());
                assertThat(big).hasSize(big.get(0).getChunkCount()).hasSizeGreaterThan(1);
                assertThat(big.get(0).getSize()).isEqualTo(bigRecord.getSize());
            }
            case STORE_FLAGS -> {
                assertThat(record(events, "user.alice", 1).getFlags()).contains("\\Seen", "$Label1");
                assertThat(record(events, "user.alice", 2).getFlags())
                        .contains("\\Answered")
                        .doesNotContain("\\Flagged");
                assertThat(content(events)).as(as).isEmpty();
            }
            case EXPUNGE -> {
                assertThat(record(events, "user.alice", 3).getFlags()).contains("\\Expunged");
                assertThat(record(events, "user.alice", 4).getFlags()).contains("\\Expunged");
                assertThat(content(events)).as(as).isEmpty();
            }
            case CREATE_FOLDERS -> {
                assertThat(upserts(events))
                        .extracting(MailboxUpsert::getName)
                        .contains("user.alice.Work", "user.alice.Archive");
                assertThat(uids(events, "user.alice.Work")).containsExactly(1L, 2L);
                // the copied message's body is already on alice's partition: only the new one travels
                assertThat(content(events).keySet())
                        .containsExactly(record(events, "user.alice.Work", 1).getGuid());
            }
            case SUBSCRIBE -> {
                assertThat(payloads(events, Subscribe.class))
                        .extracting(Subscribe::getMailboxName)
                        .contains("user.alice.Work");
                assertThat(payloads(events, Subscribe.class))
                        .allMatch(s -> s.getUserId().equals("alice"));
                List<Object> archive = events.stream()
                        .map(ChangeEvent::getPayload)
                        .filter(p ->
                                p instanceof Subscribe s && s.getMailboxName().equals("user.alice.Archive")
                                        || p instanceof Unsubscribe u
                                                && u.getMailboxName().equals("user.alice.Archive"))
                        .toList();
                if (!archive.isEmpty()) {
                    assertThat(archive.get(archive.size() - 1)).isInstanceOf(Unsubscribe.class);
                }
            }
            case RENAME ->
                assertThat(payloads(events, MailboxRename.class))
                        .as(as)
                        .anyMatch(r -> r.getOldName().equals("user.alice.Work")
                                && r.getNewName().equals("user.alice.Projects"));
            case DELETE_FOLDER ->
                assertThat(payloads(events, MailboxRename.class))
                        .as(as)
                        .anyMatch(r -> r.getOldName().equals("user.alice.Archive")
                                && r.getNewName().startsWith("DELETED.user.alice.Archive."));
            case SETACL -> assertThat(upsert(events, "user.alice").getAcl()).contains("bob\tlrs\t");
            case SETMETADATA ->
                assertThat(upsert(events, "user.alice").getAnnotations())
                        .extracting(a -> a.getEntry() + "="
                                + StandardCharsets.UTF_8.decode(a.getValue().duplicate()))
                        .anyMatch(s -> s.startsWith("/comment="));
            case SEEN_OTHER_USER -> {
                SeenUpsert seen = payloads(events, SeenUpsert.class).get(0);
                assertThat(seen.getUserId()).isEqualTo("bob");
                assertThat(events.stream()
                                .filter(e -> e.getPayload() instanceof SeenUpsert)
                                .map(e -> e.getEnvelope().getPartitionKey()))
                        .containsOnly("bob");
            }
            case SETQUOTA -> {
                QuotaUpsert q = payloads(events, QuotaUpsert.class).get(0);
                assertThat(q.getRoot()).isEqualTo("user.alice");
                assertThat(q.getLimits()).containsEntry("STORAGE", 100000L);
            }
            case SIEVE -> {
                MailboxUpsert sieve = upserts(events).stream()
                        .filter(m -> m.getName().equals("user.alice.#sieve"))
                        .findFirst()
                        .orElseThrow();
                assertThat(sieve.getMboxType()).contains("f");
                assertThat(content(events)).as(as).isNotEmpty();
            }
            case LMTP_DELIVERY -> {
                String shared = recordsOf(events, "user.bob").get(0).getGuid();
                assertThat(recordsOf(events, "user.alice"))
                        .extracting(MessageRecord::getGuid)
                        .contains(shared);
                // one body delivered to two users goes to each user's partition
                assertThat(events.stream()
                                .filter(e -> e.getPayload() instanceof MessageContent c
                                        && c.getGuid().equals(shared))
                                .map(e -> e.getEnvelope().getPartitionKey())
                                .collect(Collectors.toSet()))
                        .isEqualTo(Set.of("alice", "bob"));
                assertThat(recordsOf(events, "user.alice.Projects")).isNotEmpty();
            }
            case MOVE -> {
                MessageRecord moved = record(events, "user.alice", 1);
                assertThat(moved.getFlags()).contains("\\Expunged");
                assertThat(recordsOf(events, "user.alice.Projects"))
                        .extracting(MessageRecord::getGuid)
                        .contains(moved.getGuid());
                assertThat(content(events)).as("no body resent for a move").isEmpty();
            }
            case DELETE_USER -> {
                assertThat(payloads(events, UserDelete.class))
                        .extracting(UserDelete::getUserId)
                        .containsExactly("carol");
                assertThat(upserts(events))
                        .extracting(MailboxUpsert::getName)
                        .anyMatch(n -> n.startsWith("DELETED.user.carol."));
            }
        }
    }

    /** Each mailbox's header comes after its records in the same change. */
    private static void assertHeadersLast(List<ChangeEvent> events, String as) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).getPayload() instanceof RecordsUpsert r) {
                boolean headerFollows = events.subList(i + 1, events.size()).stream()
                        .anyMatch(e -> e.getPayload() instanceof MailboxUpsert m
                                && m.getUniqueId().equals(r.getUniqueId()));
                assertThat(headerFollows)
                        .as(as + ": header after records of " + r.getMailboxName())
                        .isTrue();
            }
        }
    }

    /** A body is on the partition before the first record referencing it. */
    private static void assertContentAhead(List<ChangeEvent> events, String as) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).getPayload() instanceof MessageContent c) {
                String key = events.get(i).getEnvelope().getPartitionKey();
                for (ChangeEvent earlier : events.subList(0, i)) {
                    if (earlier.getPayload() instanceof RecordsUpsert r
                            && earlier.getEnvelope().getPartitionKey().equals(key)) {
                        assertThat(r.getRecords())
                                .as(as + ": body " + c.getGuid() + " after its record")
                                .noneMatch(x -> x.getGuid().equals(c.getGuid())
                                        && !x.getFlags().contains("\\Expunged"));
                    }
                }
            }
        }
    }

    private static void assertShadowMatchesPrimary(CaptureLab lab, Capture capture) {
        List<Mailbox> shadow =
                capture.mailboxes().stream().filter(m -> !m.isHeaderOnly()).toList();
        assertThat(shadow)
                .extracting(Mailbox::name)
                .contains("user.alice", "user.alice.Projects", "user.bob", "user.alice.#sieve");
        Map<String, Mailbox> primary =
                lab.primaryMailboxes(shadow.stream().map(Mailbox::name).toList());
        for (Mailbox m : shadow) {
            Mailbox p = primary.get(m.name());
            if (p == null && m.name().endsWith(".#sieve")) {
                // IMAP SYNCGET does not list #sieve mailboxes (no SIEVE-MAILBOX there): compare with
                // the CRC the primary sent in its last APPLY MAILBOX for it instead.
                MailboxUpsert sent = upsert(lab.events(), m.name());
                assertThat(m.syncCrc()).as("SYNC_CRC of " + m.name()).isEqualTo(sent.getSyncCrc());
                assertThat(m.syncCrcAnnot()).as("SYNC_CRC_ANNOT of " + m.name()).isEqualTo(sent.getSyncCrcAnnot());
                continue;
            }
            assertThat(p).as("primary has " + m.name()).isNotNull();
            assertThat(m.syncCrc()).as("SYNC_CRC of " + m.name()).isEqualTo(p.syncCrc());
            assertThat(m.syncCrcAnnot()).as("SYNC_CRC_ANNOT of " + m.name()).isEqualTo(p.syncCrcAnnot());
            assertThat(m.highestModSeq()).as("HIGHESTMODSEQ of " + m.name()).isEqualTo(p.highestModSeq());
            assertThat(m.uniqueId()).isEqualTo(p.uniqueId());
            assertThat(m.partition()).isEqualTo(p.partition());
            assertThat(m.uidValidity()).isEqualTo(p.uidValidity());
        }
    }

    // ---- event helpers ----

    static <T> List<T> payloads(List<ChangeEvent> events, Class<T> type) {
        return events.stream()
                .map(ChangeEvent::getPayload)
                .filter(type::isInstance)
                .map(type::cast)
                .toList();
    }

    private static List<MailboxUpsert> upserts(List<ChangeEvent> events) {
        return payloads(events, MailboxUpsert.class);
    }

    private static MailboxUpsert upsert(List<ChangeEvent> events, String name) {
        return upserts(events).stream()
                .filter(m -> m.getName().equals(name))
                .reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no MailboxUpsert of " + name));
    }

    static List<MessageRecord> recordsOf(List<ChangeEvent> events, String name) {
        return payloads(events, RecordsUpsert.class).stream()
                .filter(r -> r.getMailboxName().equals(name))
                .flatMap(r -> r.getRecords().stream())
                .toList();
    }

    private static List<Long> uids(List<ChangeEvent> events, String name) {
        return recordsOf(events, name).stream()
                .map(MessageRecord::getUid)
                .distinct()
                .sorted()
                .toList();
    }

    private static MessageRecord record(List<ChangeEvent> events, String name, long uid) {
        return recordsOf(events, name).stream()
                .filter(r -> r.getUid() == uid)
                .reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no record " + name + " UID " + uid));
    }

    private static Set<String> guids(List<ChangeEvent> events) {
        return payloads(events, RecordsUpsert.class).stream()
                .flatMap(r -> r.getRecords().stream())
                .map(MessageRecord::getGuid)
                .collect(Collectors.toSet());
    }

    private static Set<String> keysOf(List<ChangeEvent> events, String mailboxName) {
        return events.stream()
                .filter(e ->
                        e.getPayload() instanceof MailboxUpsert m && m.getName().equals(mailboxName))
                .map(e -> e.getEnvelope().getPartitionKey())
                .collect(Collectors.toSet());
    }

    private static Map<String, List<MessageContent>> content(List<ChangeEvent> events) {
        return payloads(events, MessageContent.class).stream().collect(Collectors.groupingBy(MessageContent::getGuid));
    }
}
