package io.mailstream.producers.capture;

import static io.mailstream.producers.capture.CaptureActionScriptTest.recordsOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Guid;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.content.MessageChunker;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.MessageFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A body Kafka holds on one partition key is not on another: a message moved or copied to
 * another user's folder or to a shared folder must reach that key's partition with its body,
 * although RESERVE asks about all the batch's mailboxes at once.
 */
class CaptureBodyKeyTest {
    @TempDir
    Path tmp;

    @Test
    void aMessageMovedToAnotherKeyInOneBatchArrivesWithItsBodyOnThatKey() throws Exception {
        try (CaptureLab lab = new CaptureLab(tmp, Map.of("alice", "alicepw", "bob", "bobpw"));
                Capture capture = lab.startCapture(tmp.resolve("data"))) {
            try (ImapClient admin = lab.cyrus.endpoint().imapAdmin()) {
                admin.create("user.alice");
                admin.create("user.bob");
                admin.create("user.bob.Shared");
                admin.create("shared.folder");
                // Cyrus admins have no implicit rights to read or insert messages.
                for (String mbox : List.of("user.alice", "user.bob.Shared", "shared.folder")) {
                    admin.setAcl(mbox, "admin", "lrswipkxtecdan");
                }
            }
            MessageFactory messages = new MessageFactory(9);
            List<String> guids = new ArrayList<>();
            try (ImapClient alice = lab.cyrus.endpoint().imap("alice")) {
                for (int i = 0; i < 3; i++) {
                    byte[] body = messages.message(i, 1500 + i * 100, "x@example.org", "alice@example.org", "m" + i);
                    alice.append("INBOX", List.of(), messages.date(i), body);
                    guids.add(MessageChunker.sha1Hex(body));
                }
            }
            lab.startSyncClient();
            lab.awaitDrained();
            lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);

            // While sync_client is away, so that all three mailboxes travel in one batch with one RESERVE.
            Map<TopicPartition, Long> before = lab.endOffsets();
            try (ImapClient admin = lab.cyrus.endpoint().imapAdmin()) {
                admin.select("user.alice");
                admin.uidMove("1", "shared.folder");
                admin.uidMove("2", "user.bob.Shared");
                admin.uidCopy("3", "user.bob.Shared");
            }
            lab.startSyncClient();
            lab.awaitDrained();
            lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);

            assertThat(lab.metrics
                            .counter("mailstream.capture.refused", "code", "IOERROR")
                            .count())
                    .as("APPLYs capture refused with IOERROR")
                    .isZero();
            List<ChangeEvent> after = lab.eventsSince(before);
            assertThat(recordsOf(after, "shared.folder"))
                    .extracting(MessageRecord::getGuid)
                    .contains(guids.get(0));
            assertThat(recordsOf(after, "user.bob.Shared"))
                    .extracting(MessageRecord::getGuid)
                    .contains(guids.get(1), guids.get(2));
            assertThat(bodiesOnKey(lab.events(), "shared"))
                    .as("bodies on key shared")
                    .contains(guids.get(0));
            assertThat(bodiesOnKey(lab.events(), "bob")).as("bodies on key bob").contains(guids.get(1), guids.get(2));
        }
    }

    /**
     * sync_client lists in RESERVE only the batch's folders the replica already has; a folder new
     * in the batch (seen by sync_client in Cyrus 3.6.1 as GET MAILBOXES (user.alice projects.q1),
     * then RESERVE (user.alice)) is named only by the GET before it. Which mailboxes share a batch
     * depends on sync_client's timing, so this plays sync_client's side of that exchange directly.
     */
    @Test
    void reserveCountsTheKeysOfEveryMailboxTheBatchAskedAbout() throws Exception {
        try (CaptureLab lab = new CaptureLab(tmp, Map.of("alice", "alicepw"));
                Capture capture = lab.startCapture(tmp.resolve("data"))) {
            try (ImapClient admin = lab.cyrus.endpoint().imapAdmin()) {
                admin.create("user.alice");
            }
            byte[] body = new MessageFactory(4).message(0, 2000, "x@example.org", "alice@example.org", "m0");
            try (ImapClient alice = lab.cyrus.endpoint().imap("alice")) {
                alice.append("INBOX", List.of(), new MessageFactory(4).date(0), body);
            }
            lab.startSyncClient();
            lab.awaitDrained();
            lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
            Guid guid = Guid.of(MessageChunker.sha1Hex(body));

            try (CsyncClient c =
                    CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", capture.port(), "admin", "adminpw"))) {
                assertThat(missing(c, List.of("user.alice"), guid))
                        .as("a body alice's key holds, for alice's batch")
                        .isEmpty();
                assertThat(missing(c, List.of("user.alice", "projects.q1"), guid))
                        .as("the same body when the batch also holds projects.q1, new on the replica")
                        .containsExactly(guid);
                assertThat(missing(c, List.of("user.alice"), guid))
                        .as("the next batch, alice's alone again")
                        .isEmpty();
            }
        }
    }

    /**
     * Streams deletes a body no live record references once its grace is over, so a body whose
     * records on a key are all expunged is not "held" there: a message that references it again
     * (the same bytes appended again, as after an unexpunge) must bring the body along.
     */
    @Test
    void aBodyWhoseRecordsAreExpungedComesAgainWhenAMessageReferencesItLater() throws Exception {
        try (CaptureLab lab = new CaptureLab(tmp, Map.of("alice", "alicepw"));
                Capture capture = lab.startCapture(tmp.resolve("data"))) {
            try (ImapClient admin = lab.cyrus.endpoint().imapAdmin()) {
                admin.create("user.alice");
            }
            MessageFactory messages = new MessageFactory(5);
            byte[] body = messages.message(0, 1800, "x@example.org", "alice@example.org", "again");
            String guid = MessageChunker.sha1Hex(body);
            try (ImapClient alice = lab.cyrus.endpoint().imap("alice")) {
                alice.append("INBOX", List.of(), messages.date(0), body);
            }
            sync(lab);
            assertThat(bodiesOnKey(lab.events(), "alice"))
                    .as("bodies on key alice after the first append")
                    .contains(guid);
            try (ImapClient alice = lab.cyrus.endpoint().imap("alice")) {
                alice.select("INBOX");
                alice.uidStore("1", true, "\\Deleted");
                alice.expunge();
            }
            sync(lab);
            assertThat(recordsOf(lab.events(), "user.alice"))
                    .as("alice's records after the expunge")
                    .filteredOn(r -> r.getGuid().equals(guid))
                    .last()
                    .satisfies(r -> assertThat(r.getFlags()).contains("\\Expunged"));

            Map<TopicPartition, Long> before = lab.endOffsets();
            try (ImapClient alice = lab.cyrus.endpoint().imap("alice")) {
                alice.append("INBOX", List.of(), messages.date(1), body);
            }
            sync(lab);

            List<ChangeEvent> after = lab.eventsSince(before);
            assertThat(recordsOf(after, "user.alice"))
                    .extracting(MessageRecord::getGuid)
                    .contains(guid);
            assertThat(bodiesOnKey(after, "alice"))
                    .as("bodies on key alice with the message appended again")
                    .contains(guid);
        }
    }

    private static void sync(CaptureLab lab) throws Exception {
        lab.startSyncClient();
        lab.awaitDrained();
        lab.cyrus.stopSyncClient(CaptureLab.CHANNEL);
    }

    /** GET MAILBOXES of the batch, then RESERVE of those the replica has (user.alice); what capture calls missing. */
    private static List<Guid> missing(CsyncClient c, List<String> batch, Guid guid) throws Exception {
        c.execute(new CsyncCommand.GetMailboxes(batch));
        return c.execute(new CsyncCommand.ApplyReserve("default", List.of("user.alice"), List.of(guid))).stream()
                .filter(r -> r instanceof CsyncReply.MissingReply)
                .flatMap(r -> ((CsyncReply.MissingReply) r).guids().stream())
                .toList();
    }

    private static Set<String> bodiesOnKey(List<ChangeEvent> events, String key) {
        return events.stream()
                .filter(e -> e.getPayload() instanceof MessageContent
                        && e.getEnvelope().getPartitionKey().equals(key))
                .map(e -> ((MessageContent) e.getPayload()).getGuid())
                .collect(Collectors.toSet());
    }
}
