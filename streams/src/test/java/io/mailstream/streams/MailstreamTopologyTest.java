package io.mailstream.streams;

import static io.mailstream.streams.Events.record;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.control.ControlTopic;
import io.mailstream.core.errors.FencedException;
import io.mailstream.core.kafka.Topics;
import io.mailstream.core.metrics.MailstreamMetrics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.DeadLetter;
import io.mailstream.schemas.DeadLetterReason;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.codec.AvroCodec;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.SchemaResolver;
import io.mailstream.schemas.state.StateFold;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/** Each rule of the topology on TopologyTestDriver: fencing, validation, duplicates, state, fan-out. */
class MailstreamTopologyTest {
    private static final AvroCodec<ChangeEvent> CODEC = AvroCodec.changeEvent(SchemaResolver.none());
    private static final String GUID_A = "a".repeat(40);
    private static final String GUID_B = "b".repeat(40);

    @TempDir
    Path stateDir;

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final Events events = new Events("ev");
    private final ScriptedChangesLog log = new ScriptedChangesLog();
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> changes;
    private TestInputTopic<String, ControlEvent> control;
    private TestOutputTopic<String, DeadLetter> dlq;
    private TestOutputTopic<String, StateRecord> state;

    /** Tag of a test that starts with an empty mailstream.control (every other starts with tier primary at epoch 1). */
    private static final String NO_PRIMARY = "no-primary";

    @BeforeEach
    void start(TestInfo test) {
        // dc2: everything with bodies; oob: everything, bodies by reference; eu: users starting with 'a', with bodies.
        MailstreamConfig config = MailstreamConfig.of(Map.of(
                "tiers",
                "dc2,oob,eu",
                "tier.dc2.type",
                "store",
                "tier.oob.type",
                "store",
                "tier.eu.type",
                "store",
                "tier.oob.content",
                "reference",
                "tier.eu.users",
                "/a.*/"));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        driver = new TopologyTestDriver(MailstreamTopology.build(config, SchemaResolver.none(), meters, log), props);
        changes = driver.createInputTopic(Topics.CHANGES, new StringSerializer(), new ByteArraySerializer());
        control = driver.createInputTopic(
                Topics.CONTROL,
                new StringSerializer(),
                AvroSerdes.controlEvent().serializer());
        dlq = driver.createOutputTopic(
                Topics.DLQ, new StringDeserializer(), AvroSerdes.deadLetter().deserializer());
        state = driver.createOutputTopic(
                Topics.STATE, new StringDeserializer(), AvroSerdes.stateRecord().deserializer());
        if (!test.getTags().contains(NO_PRIMARY)) {
            promote(Events.TIER, 1, List.of()); // as 'mailstream promote --initial' writes it
        }
    }

    /** A promotion as ControlTopic records it, complete with its fence point. */
    private void promote(String tier, long epoch, List<Long> fencePoint) {
        control.pipeInput(ControlTopic.ALL_KEYS, Events.assignment(tier, epoch, false, fencePoint));
        control.pipeInput(ControlTopic.epochKey(epoch), Events.assignment(tier, epoch, false, fencePoint));
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    private void pipe(ChangeEvent event) {
        changes.pipeInput(event.getEnvelope().getPartitionKey(), CODEC.encode(event));
    }

    /** Event ids on a tier's feed, in order, as "<key>:<eventId>". */
    private List<String> feed(String tier) {
        TestOutputTopic<String, byte[]> topic =
                driver.createOutputTopic(Topics.feed(tier), new StringDeserializer(), new ByteArrayDeserializer());
        return topic.readKeyValuesToList().stream()
                .map(kv -> kv.key + ":" + CODEC.decode(kv.value).getEnvelope().getEventId())
                .toList();
    }

    private List<ChangeEvent> feedEvents(String tier) {
        TestOutputTopic<String, byte[]> topic =
                driver.createOutputTopic(Topics.feed(tier), new StringDeserializer(), new ByteArrayDeserializer());
        return topic.readValuesToList().stream().map(CODEC::decode).toList();
    }

    private DeadLetter onlyDeadLetter() {
        List<DeadLetter> letters = dlq.readValuesToList();
        assertThat(letters).hasSize(1);
        return letters.get(0);
    }

    private double deadLetters(DeadLetterReason reason) {
        var counter = meters.find(MailstreamTopology.DEAD_LETTERS_METER)
                .tag("reason", reason.name())
                .counter();
        return counter == null ? 0 : counter.count();
    }

    /**
     * Canonical state written before bodies were counted (an upgrade) is counted once when the
     * task starts: its live bodies are referenced, so no other key's expunge can make them look
     * unreferenced, and its own expunge later withdraws the reference.
     */
    @Test
    void stateFromBeforeBodiesWereCountedIsCountedOnceAndThenFollowed() {
        MailboxState older = StateFold.applyToMailbox(
                null,
                events.records("alice", "U1", "INBOX", record(1, 2, GUID_A), record(2, 3, GUID_B, StateFold.EXPUNGED)));
        driver.<String, StateRecord>getKeyValueStore(MailstreamTopology.STATE_STORE)
                .put("mailbox:U1", new StateRecord(older));
        TestOutputTopic<String, byte[]> references = driver.createOutputTopic(
                Topics.STREAMS_CONTENT_REFERENCES, new StringDeserializer(), new ByteArrayDeserializer());

        pipe(events.subscribe("bob", "INBOX"));
        pipe(events.subscribe("carol", "INBOX"));
        assertThat(references.readKeyValuesToMap())
                .containsOnlyKeys(GUID_A + "|alice")
                .extractingByKey(GUID_A + "|alice")
                .isEqualTo(ContentReferences.REFERENCED);

        pipe(events.expunge("alice", "U1", "INBOX", 1L));
        var withdrawn = references.readKeyValuesToList();
        assertThat(withdrawn).hasSize(1);
        assertThat(withdrawn.get(0).key).isEqualTo(GUID_A + "|alice");
        assertThat(withdrawn.get(0).value).isNull();
    }

    @Test
    void whatTheOldPrimaryCommittedBeforeThePromotionIsKeptWhenStreamsReadsItAfter() {
        // A backlog: the old primary's capture acknowledged these before the promotion, but streams
        // was stopped and reads them only after the promotion to dc2 is in mailstream.control.
        // (dc2 is the source of the last event, so it is checked on oob's feed: a tier never gets its own back.)
        promote("dc2", 2, List.of(3L));
        ChangeEvent acked1 = events.from(Events.PRIMARY, 1).subscribe("alice", "INBOX");
        ChangeEvent acked2 = events.subscribe("bob", "INBOX");
        ChangeEvent acked3 = events.subscribe("alice", "Work");
        ChangeEvent afterFence = events.subscribe("alice", "Late"); // offset 3: at the fence point
        ChangeEvent onNewPrimary = events.fromTier("dc2").from("dc2-capture", 2).subscribe("alice", "Sent");
        List.of(acked1, acked2, acked3, afterFence, onNewPrimary).forEach(this::pipe);

        assertThat(feed("oob"))
                .containsExactly(
                        "alice:" + acked1.getEnvelope().getEventId(),
                        "bob:" + acked2.getEnvelope().getEventId(),
                        "alice:" + acked3.getEnvelope().getEventId(),
                        "alice:" + onNewPrimary.getEnvelope().getEventId());
        DeadLetter letter = onlyDeadLetter();
        assertThat(letter.getReason()).isEqualTo(DeadLetterReason.FENCED);
        assertThat(letter.getEventId()).isEqualTo(afterFence.getEnvelope().getEventId());
        assertThat(letter.getDetail())
                .contains("tier primary")
                .contains("epoch 1")
                .contains("fence point 3");
        assertThat(letter.getSourceTopic()).isEqualTo(Topics.CHANGES);
        assertThat(CODEC.decode(letter.getValue().array())).isEqualTo(afterFence);
        assertThat(deadLetters(DeadLetterReason.FENCED)).isEqualTo(1.0);
        assertThat(driver.<String, StateRecord>getKeyValueStore(MailstreamTopology.STATE_STORE)
                        .get("user:alice"))
                .isNotNull();
    }

    @Test
    void anEventOfATierThatWasNotPrimaryAtItsEpochIsDeadLettered() {
        pipe(events.fromTier("dc2").from("dc2-capture", 1).subscribe("alice", "INBOX"));

        DeadLetter letter = onlyDeadLetter();
        assertThat(letter.getReason()).isEqualTo(DeadLetterReason.NOT_PRIMARY);
        assertThat(letter.getDetail()).contains("tier dc2").contains("epoch 1").contains("tier primary was");
        assertThat(feed("oob")).isEmpty();
        assertThat(deadLetters(DeadLetterReason.NOT_PRIMARY)).isEqualTo(1.0);
    }

    @Test
    void anEpochNoPromotionAssignedIsStale() {
        ChangeEvent unassigned = events.from(Events.PRIMARY, 0).subscribe("alice", "INBOX");
        pipe(unassigned);
        DeadLetter letter = onlyDeadLetter();
        assertThat(letter.getReason()).isEqualTo(DeadLetterReason.STALE_EPOCH);
        assertThat(letter.getDetail()).contains("epoch 0").contains("never assigned");
    }

    @Test
    @Tag(NO_PRIMARY)
    void withNoPrimaryAssignedEventsWaitForTheFirstPromotionAndAreNotDropped() {
        ChangeEvent early = events.subscribe("alice", "INBOX");
        ChangeEvent next = events.subscribe("alice", "Work");
        pipe(early);
        pipe(next);
        driver.advanceWallClockTime(Duration.ofMinutes(10));
        driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);
        assertThat(feed("oob")).isEmpty();
        assertThat(dlq.readValuesToList()).isEmpty();

        promote(Events.TIER, 1, List.of());
        driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);
        assertThat(feed("oob"))
                .containsExactly(
                        "alice:" + early.getEnvelope().getEventId(),
                        "alice:" + next.getEnvelope().getEventId());
        assertThat(dlq.readValuesToList()).isEmpty();
    }

    @Test
    void oldEpochEventsWaitWhileThePromotionsFencePointIsPendingAndTheNewPrimaryFlows() {
        control.pipeInput("*", Events.assignment("dc2", 2, true, null));
        control.pipeInput(ControlTopic.epochKey(2), Events.assignment("dc2", 2, true, null));
        ChangeEvent acked = events.from(Events.PRIMARY, 1).subscribe("alice", "INBOX");
        ChangeEvent onNewPrimary = events.fromTier("dc2").from("dc2-capture", 2).subscribe("bob", "INBOX");
        pipe(acked);
        pipe(onNewPrimary);
        driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);
        assertThat(feed("oob"))
                .containsExactly("bob:" + onNewPrimary.getEnvelope().getEventId());

        promote("dc2", 2, List.of(1L));
        driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);
        assertThat(feed("oob")).containsExactly("alice:" + acked.getEnvelope().getEventId());
        assertThat(dlq.readValuesToList()).isEmpty();
    }

    @Test
    void anEventStampedWithAnEpochTheStoreHasNotReadYetWaitsForIt() {
        ChangeEvent early = events.fromTier("dc2").from("dc2-capture", 2).subscribe("alice", "INBOX");
        pipe(early); // dc2's capture saw its promotion before streams' copy of mailstream.control did
        driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);
        assertThat(feed("oob")).isEmpty();

        promote("dc2", 2, List.of(0L));
        driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);
        assertThat(feed("oob")).containsExactly("alice:" + early.getEnvelope().getEventId());
        assertThat(dlq.readValuesToList()).isEmpty();
    }

    @Test
    void backwardsModseqsAreDeadLettered() {
        pipe(events.content("alice", GUID_A));
        pipe(events.mailbox("alice", "U1", "INBOX", 1, 10));
        ChangeEvent olderHeader = events.mailbox("alice", "U1", "INBOX", 1, 5);
        pipe(olderHeader);
        pipe(events.records("alice", "U1", "INBOX", record(1, 7, GUID_A)));
        ChangeEvent olderRecord = events.records("alice", "U1", "INBOX", record(1, 6, GUID_A, "\\Seen"));
        pipe(olderRecord);

        List<DeadLetter> letters = dlq.readValuesToList();
        assertThat(letters).extracting(DeadLetter::getReason).containsOnly(DeadLetterReason.MODSEQ_BACKWARDS);
        assertThat(letters)
                .extracting(DeadLetter::getEventId)
                .containsExactly(
                        olderHeader.getEnvelope().getEventId(),
                        olderRecord.getEnvelope().getEventId());
        assertThat(feed("dc2")).hasSize(3);
        MailboxState mailbox =
                (MailboxState) driver.<String, StateRecord>getKeyValueStore(MailstreamTopology.STATE_STORE)
                        .get("mailbox:U1")
                        .getState();
        assertThat(mailbox.getHeader().getHighestModseq()).isEqualTo(10);
        assertThat(mailbox.getRecords()).singleElement().satisfies(r -> {
            assertThat(r.getModseq()).isEqualTo(7);
            assertThat(r.getFlags()).isEmpty();
        });
    }

    @Test
    void undecodableEventIsDeadLetteredAndTheNextEventStillFlows() {
        byte[] garbage = "not avro at all".getBytes(StandardCharsets.UTF_8);
        changes.pipeInput("alice", garbage);
        ChangeEvent good = events.subscribe("alice", "INBOX");
        pipe(good);

        DeadLetter letter = onlyDeadLetter();
        assertThat(letter.getReason()).isEqualTo(DeadLetterReason.UNDECODABLE);
        assertThat(letter.getValue().array()).isEqualTo(garbage);
        assertThat(letter.getEventId()).isNull();
        assertThat(feed("dc2")).containsExactly("alice:" + good.getEnvelope().getEventId());
        assertThat(deadLetters(DeadLetterReason.UNDECODABLE)).isEqualTo(1.0);
    }

    @Test
    void duplicatesAreDropped() {
        ChangeEvent subscribe = events.subscribe("alice", "INBOX");
        pipe(subscribe);
        pipe(subscribe); // the same event again (same event id)
        pipe(events.subscribe("alice", "INBOX")); // a new event asserting what is already the state
        ChangeEvent header = events.mailbox("alice", "U1", "INBOX", 0, 1);
        pipe(header);
        pipe(events.mailbox("alice", "U1", "INBOX", 0, 1)); // identical header

        assertThat(feed("dc2"))
                .containsExactly(
                        "alice:" + subscribe.getEnvelope().getEventId(),
                        "alice:" + header.getEnvelope().getEventId());
        assertThat(dlq.readValuesToList()).isEmpty();
        assertThat(state.readValuesToList()).hasSize(2);
        assertThat(meters.counter(MailstreamTopology.DUPLICATES_METER).count()).isEqualTo(3.0);
    }

    @Test
    void renameKeepsTheUniqueIdAndTheState() {
        pipe(events.content("alice", GUID_A));
        pipe(events.mailbox("alice", "U7", "Work", 1, 4));
        pipe(events.records("alice", "U7", "Work", record(1, 4, GUID_A, "\\Seen")));
        ChangeEvent rename = events.rename("alice", "U7", "Work", "Archive");
        pipe(rename);

        List<StateRecord> published = state.readValuesToList();
        MailboxState after = (MailboxState) published.get(published.size() - 1).getState();
        assertThat(after.getHeader().getUniqueId()).isEqualTo("U7");
        assertThat(after.getHeader().getName()).isEqualTo("user.alice.Archive");
        assertThat(after.getHeader().getHighestModseq()).isEqualTo(4);
        assertThat(after.getRecords())
                .singleElement()
                .satisfies(r -> assertThat(r.getGuid()).isEqualTo(GUID_A));
        assertThat(after.getLastEventId()).isEqualTo(rename.getEnvelope().getEventId());
        assertThat(driver.getKeyValueStore(MailstreamTopology.STATE_STORE).get("mailbox:U7"))
                .isNotNull();
        assertThat(feed("dc2")).last().isEqualTo("alice:" + rename.getEnvelope().getEventId());
    }

    @Test
    void aMailboxRenamedToAnotherUserIsPublishedWholeUnderTheNewKeyAndNeverHalf() {
        pipe(events.content("alice", GUID_A));
        pipe(events.content("alice", GUID_B));
        pipe(events.records("alice", "U7", "Work", record(1, 4, GUID_A, "\\Seen"), record(2, 5, GUID_B)));
        pipe(events.mailbox("alice", "U7", "Work", 2, 5));
        state.readValuesToList();
        feedEvents("dc2");

        List<ChangeEvent> rename = events.renameToUser("alice", "U7", "Work", "bob");
        rename.forEach(this::pipe);
        pipe(events.records("bob", "U7", "Work", record(1, 4, GUID_A, "\\Seen"), record(2, 5, GUID_B)));
        pipe(events.mailbox("bob", "U7", "Work", 2, 5));

        List<StateRecord> published = state.readValuesToList();
        assertThat(published)
                .as("only whole mailboxes reach mailstream.state")
                .allSatisfy(r ->
                        assertThat(((MailboxState) r.getState()).getHeader()).isNotNull());
        MailboxState after = (MailboxState) published.get(published.size() - 1).getState();
        assertThat(after.getPartitionKey()).isEqualTo("bob");
        assertThat(after.getDeleted()).isFalse();
        assertThat(after.getHeader().getName()).isEqualTo("user.bob.Work");
        assertThat(after.getRecords()).extracting(MessageRecord::getGuid).containsExactly(GUID_A, GUID_B);
        StateRecord stored = (StateRecord)
                driver.getKeyValueStore(MailstreamTopology.STATE_STORE).get("mailbox:U7");
        assertThat(((MailboxState) stored.getState()).getPartitionKey()).isEqualTo("bob");
        // Both keys' tiers hear of the rename; bob's get the bodies ahead of the records.
        assertThat(feedEvents("dc2"))
                .extracting(e -> e.getEnvelope().getPartitionKey() + ":"
                        + e.getPayload().getClass().getSimpleName())
                .containsExactly(
                        "alice:MailboxRename",
                        "bob:MailboxRename",
                        "bob:MessageContent",
                        "bob:MessageContent",
                        "bob:RecordsUpsert",
                        "bob:MailboxUpsert");
        assertThat(dlq.readValuesToList()).isEmpty();
    }

    @Test
    void aTierThatDoesNotTakeTheNewUserHearsThatTheMailboxIsGone() {
        pipe(events.mailbox("alice", "U7", "Work", 0, 1));
        feedEvents("eu");
        feedEvents("dc2");
        // eu takes users starting with 'a': alice's folder handed to bob leaves it, and bob's events never reach it.
        events.renameToUser("alice", "U7", "Work", "bob").forEach(this::pipe);
        pipe(events.mailbox("bob", "U7", "Work", 0, 1));

        List<ChangeEvent> eu = feedEvents("eu");
        assertThat(eu).singleElement().satisfies(e -> {
            assertThat(e.getEnvelope().getPartitionKey()).isEqualTo("alice");
            assertThat(e.getPayload()).isInstanceOfSatisfying(MailboxDelete.class, d -> {
                assertThat(d.getUniqueId()).isEqualTo("U7");
                assertThat(d.getName()).isEqualTo("user.alice.Work");
            });
        });
        assertThat(feedEvents("dc2"))
                .extracting(e -> e.getPayload().getClass().getSimpleName())
                .containsExactly("MailboxRename", "MailboxRename", "MailboxUpsert");
    }

    @Test
    void userFilterSelectsWhichKeysATierGets() {
        ChangeEvent alice = events.subscribe("alice", "INBOX");
        ChangeEvent bob = events.subscribe("bob", "INBOX");
        ChangeEvent anna = events.subscribe("anna", "INBOX");
        List.of(alice, bob, anna).forEach(this::pipe);

        assertThat(feed("eu"))
                .containsExactly(
                        "alice:" + alice.getEnvelope().getEventId(),
                        "anna:" + anna.getEnvelope().getEventId());
        assertThat(feed("dc2")).hasSize(3);
    }

    @Test
    void contentTravelsAheadOfItsRecordsEvenWhenFirstSeenForAnotherUser() {
        ChangeEvent aliceBody = events.content("alice", GUID_A);
        ChangeEvent aliceRecords = events.records("alice", "UA", "INBOX", record(1, 2, GUID_A));
        // bob gets the same message: capture already had the body, so no content event on bob's key
        ChangeEvent bobRecords = events.records("bob", "UB", "INBOX", record(5, 9, GUID_A));
        ChangeEvent bobAgain = events.records("bob", "UB", "INBOX", record(5, 10, GUID_A, "\\Seen"));
        List.of(aliceBody, aliceRecords, bobRecords, bobAgain).forEach(this::pipe);

        List<ChangeEvent> dc2 = feedEvents("dc2");
        assertThat(dc2)
                .extracting(e -> e.getEnvelope().getPartitionKey() + ":"
                        + e.getPayload().getClass().getSimpleName())
                .containsExactly(
                        "alice:MessageContent",
                        "alice:RecordsUpsert",
                        "bob:MessageContent",
                        "bob:RecordsUpsert",
                        "bob:RecordsUpsert");
        ChangeEvent copy = dc2.get(2);
        assertThat(((MessageContent) copy.getPayload()).getGuid()).isEqualTo(GUID_A);
        assertThat(((MessageContent) copy.getPayload()).getData().array()).isEqualTo(Events.body(GUID_A));
        assertThat(copy.getEnvelope().getEventId())
                .isEqualTo(bobRecords.getEnvelope().getEventId() + "/content/" + GUID_A + "/0");
        assertThat(dlq.readValuesToList()).isEmpty();
    }

    @Test
    void referenceTierGetsRecordsButNoContent() {
        pipe(events.content("alice", GUID_A));
        ChangeEvent aliceRecords = events.records("alice", "UA", "INBOX", record(1, 2, GUID_A));
        ChangeEvent bobRecords = events.records("bob", "UB", "INBOX", record(1, 2, GUID_A));
        pipe(aliceRecords);
        pipe(bobRecords);

        assertThat(feed("oob"))
                .containsExactly(
                        "alice:" + aliceRecords.getEnvelope().getEventId(),
                        "bob:" + bobRecords.getEnvelope().getEventId());
    }

    @Test
    void recordWaitsForContentFirstSeenLaterUnderAnotherKeyWithoutHoldingUpOtherKeys() {
        ChangeEvent bobRecords = events.records("bob", "UB", "INBOX", record(1, 2, GUID_A));
        ChangeEvent bobNext = events.subscribe("bob", "INBOX");
        ChangeEvent carol = events.subscribe("carol", "INBOX");
        pipe(bobRecords); // alice's task has not indexed the body yet
        pipe(bobNext);
        pipe(carol);
        assertThat(feed("dc2")).containsExactly("carol:" + carol.getEnvelope().getEventId());

        ChangeEvent aliceBody = events.content("alice", GUID_A);
        pipe(aliceBody);
        driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);

        assertThat(feed("dc2"))
                .containsExactly(
                        "alice:" + aliceBody.getEnvelope().getEventId(),
                        "bob:" + bobRecords.getEnvelope().getEventId() + "/content/" + GUID_A + "/0",
                        "bob:" + bobRecords.getEnvelope().getEventId(),
                        "bob:" + bobNext.getEnvelope().getEventId());
        assertThat(dlq.readValuesToList()).isEmpty();
    }

    @Test
    void aRecordWaitsPastAnyClockWhileItsBodyIsStillAheadInTheLog() {
        ChangeEvent bobRecords = events.records("bob", "UB", "INBOX", record(1, 2, GUID_A));
        pipe(bobRecords); // alice's body is in mailstream.changes but her partition has not been read that far
        driver.advanceWallClockTime(Duration.ofMinutes(10));
        driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);
        assertThat(dlq.readValuesToList())
                .as("dead letters while the body is still ahead in the log")
                .isEmpty();
        assertThat(feed("dc2")).isEmpty();

        ChangeEvent aliceBody = events.content("alice", GUID_A);
        pipe(aliceBody);
        driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);

        assertThat(feed("dc2"))
                .containsExactly(
                        "alice:" + aliceBody.getEnvelope().getEventId(),
                        "bob:" + bobRecords.getEnvelope().getEventId() + "/content/" + GUID_A + "/0",
                        "bob:" + bobRecords.getEnvelope().getEventId());
        assertThat(dlq.readValuesToList()).isEmpty();
        assertThat(deadLetters(DeadLetterReason.MISSING_CONTENT)).isZero();
    }

    @Test
    void aRecordWhoseBodyIsNowhereInTheLogIsDeadLetteredOnceTheLogIsReadNotByTheClock() {
        ChangeEvent missing = events.records("alice", "UA", "INBOX", record(1, 2, GUID_B));
        ChangeEvent expunged = events.records("alice", "UA", "INBOX", record(2, 3, GUID_B, "\\Expunged"));
        pipe(missing);
        pipe(expunged);
        driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);
        assertThat(dlq.readValuesToList()).isEmpty();
        assertThat(feed("dc2")).isEmpty();

        log.readTo(2); // the log ends after these two: the body will not come
        for (int i = 0; i < 3; i++) { // a round: the mark, the probes out, the probes back
            driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);
        }

        DeadLetter letter = onlyDeadLetter();
        assertThat(letter.getReason()).isEqualTo(DeadLetterReason.MISSING_CONTENT);
        assertThat(letter.getDetail()).contains(GUID_B).contains("nowhere in mailstream.changes");
        assertThat(letter.getSourceOffset()).isZero();
        assertThat(feed("dc2"))
                .containsExactly("alice:" + expunged.getEnvelope().getEventId());
        assertThat(driver.getKeyValueStore(MailstreamTopology.PARKED_KEYS_STORE).approximateNumEntries())
                .isZero();
    }

    @Test
    void aRecordParkedAfterTheMarkWaitsForTheNextRound() {
        log.readTo(1);
        ChangeEvent early = events.records("alice", "UA", "INBOX", record(1, 2, GUID_A));
        pipe(early); // offset 0: below the mark
        ChangeEvent late = events.records("bob", "UB", "INBOX", record(1, 2, GUID_B));
        pipe(late); // offset 1: the log had not reached it when the mark was taken
        for (int i = 0; i < 3; i++) {
            driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);
        }

        assertThat(dlq.readValuesToList())
                .extracting(DeadLetter::getEventId)
                .containsExactly(early.getEnvelope().getEventId());
        assertThat(driver.<String, Long>getKeyValueStore(MailstreamTopology.PARKED_KEYS_STORE)
                        .get("bob"))
                .isNotNull();
    }

    @Test
    void aBodyArrivingOnAParkedKeyIsPublishedAtOnceForOtherKeys() {
        ChangeEvent bobWaits = events.records("bob", "UB", "INBOX", record(1, 2, GUID_A)); // GUID_A never comes
        ChangeEvent bobBody = events.content("bob", GUID_B); // first seen under bob, behind bob's parked record
        ChangeEvent aliceRecords = events.records("alice", "UA", "INBOX", record(1, 2, GUID_B));
        List.of(bobWaits, bobBody, aliceRecords).forEach(this::pipe);

        assertThat(feed("dc2"))
                .containsExactly(
                        "alice:" + aliceRecords.getEnvelope().getEventId() + "/content/" + GUID_B + "/0",
                        "alice:" + aliceRecords.getEnvelope().getEventId());

        log.readTo(3);
        for (int i = 0; i < 3; i++) {
            driver.advanceWallClockTime(MailstreamTopology.PARKED_RETRY_INTERVAL);
        }
        assertThat(dlq.readValuesToList())
                .extracting(DeadLetter::getEventId)
                .containsExactly(bobWaits.getEnvelope().getEventId());
        assertThat(feed("dc2")).containsExactly("bob:" + bobBody.getEnvelope().getEventId());
    }

    @Test
    void aTierNeverGetsBackTheEventsItIsTheSourceOf() {
        promote("dc2", 2, List.of(0L));
        ChangeEvent fromDc2 = events.fromTier("dc2").from("dc2-capture", 2).subscribe("alice", "INBOX");
        pipe(fromDc2);

        assertThat(feed("dc2")).isEmpty();
        assertThat(feed("oob")).containsExactly("alice:" + fromDc2.getEnvelope().getEventId());
    }

    @Test
    void threadFailuresFollowTheErrorPolicy() {
        assertThat(MailstreamStreams.onThreadFailure(new FencedException("a newer instance took over")))
                .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
        double replaced = MailstreamMetrics.registry()
                .counter(MailstreamStreams.THREAD_REPLACEMENTS_METER)
                .count();
        assertThat(MailstreamStreams.onThreadFailure(new StreamsException(new TimeoutException("broker away"))))
                .isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(MailstreamMetrics.registry()
                        .counter(MailstreamStreams.THREAD_REPLACEMENTS_METER)
                        .count())
                .isEqualTo(replaced + 1);
    }
}
