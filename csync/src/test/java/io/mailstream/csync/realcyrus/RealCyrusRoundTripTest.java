package io.mailstream.csync.realcyrus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.crc.SyncCrc;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.SieveEntry;
import io.mailstream.csync.replica.InMemoryReplica;
import io.mailstream.csync.server.Authenticator;
import io.mailstream.csync.server.CsyncServer;
import io.mailstream.csync.server.CsyncServerConfig;
import io.mailstream.csync.server.CsyncSessionHandler;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapActionScript;
import io.mailstream.testkit.ImapActionScript.Step;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.ImapSnapshot;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Both directions against real Cyrus 3.6, fails (never skips) without it:
 * <ol>
 * <li>a real primary's rolling sync_client (channel {@code mailstream}) replicates the whole
 * {@link ImapActionScript} into our {@link CsyncServer} + {@link InMemoryReplica}; afterwards our GET USER
 * answers are what the primary itself reports with {@code SYNCGET USER}, and every mailbox's record index is
 * what {@code SYNCGET FULLMAILBOX} reports;</li>
 * <li>our {@link CsyncClient} pushes alice and bob from that in-memory state into an empty real replica, whose
 * IMAP view then equals the primary's.</li>
 * </ol>
 * We advertise SIEVE-MAILBOX: a 3.6 primary stores scripts in {@code user.X.#sieve} and logs only MAILBOX/APPEND
 * for them, so without it a rolling sync_client skips the #sieve mailbox and scripts would replicate only on a
 * full user sync. With it the script is a message in a type-f mailbox, CRC-checked like any other.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(180)
class RealCyrusRoundTripTest {
    private static final Duration DRAIN = Duration.ofSeconds(30);
    private static final List<String> USERS = List.of("alice", "bob", "carol");

    private static InMemoryReplica memory;
    private static CsyncServer server;
    private static CyrusInstance primary;
    private static final List<String> handlerCalls = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        CyrusInstance.requireCyrus();
        memory = new InMemoryReplica();
        server = CsyncServer.start(CsyncServerConfig.builder(
                        Authenticator.single("admin", "adminpw"), info -> recording(memory.openSession(info)))
                .sieveMailbox(true)
                .build());
        primary = CyrusInstance.primary()
                .user("alice", "alicepw")
                .user("bob", "bobpw")
                .mailstreamTarget("127.0.0.1", server.getPort())
                .start();
        primary.startSyncClient(CyrusInstance.MAILSTREAM_CHANNEL);
    }

    @AfterAll
    static void stop() {
        try {
            if (primary != null) primary.close();
        } finally {
            if (server != null) server.close();
        }
    }

    /** Records the name of every handler method a session calls, e.g. "getUser", "mailbox". */
    private static CsyncSessionHandler recording(CsyncSessionHandler target) {
        return (CsyncSessionHandler) Proxy.newProxyInstance(
                CsyncSessionHandler.class.getClassLoader(),
                new Class<?>[] {CsyncSessionHandler.class},
                (proxy, method, args) -> {
                    handlerCalls.add(method.getName());
                    try {
                        return method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static CsyncClient ourClient() throws Exception {
        return CsyncClient.connect(CsyncClientConfig.of("127.0.0.1", server.getPort(), "admin", "adminpw")
                .withSieveMailbox(true));
    }

    @Test
    @Order(1)
    void realPrimaryReplicatesTheWholeScriptIntoOurServer() throws Exception {
        ImapActionScript script = new ImapActionScript(primary.endpoint(), 7);
        for (Step step : Step.values()) {
            script.run(step);
            primary.awaitSyncLogDrained(CyrusInstance.MAILSTREAM_CHANNEL, DRAIN);
        }
        // A server-wide annotation: logged as ANNOTATION "", replicated by GET ANNOTATION + APPLY ANNOTATION.
        try (ImapClient admin = primary.endpoint().imapAdmin()) {
            admin.setMetadata("", "/shared/comment", "server note");
        }
        primary.awaitSyncLogDrained(CyrusInstance.MAILSTREAM_CHANNEL, DRAIN);

        try (ImapClient admin = primary.endpoint().imapAdmin();
                CsyncClient ours = ourClient()) {
            for (String user : USERS) {
                List<CsyncReply> theirs = primaryViewInSieveMailboxMode(admin, user);
                List<CsyncReply> mine = ours.execute(new CsyncCommand.GetUser(user));
                assertThat(SyncState.comparable(mine))
                        .as("GET USER %s", user)
                        .containsExactlyInAnyOrderElementsOf(SyncState.comparable(theirs));
                for (CsyncReply r : theirs) {
                    if (r instanceof CsyncReply.MailboxReply mr) {
                        assertSameMailbox(admin, mr.mailbox());
                    }
                }
            }
        }
        assertThat(memory.serverAnnotations())
                .singleElement()
                .satisfies(a -> assertThat(a.valueText()).isEqualTo("server note"));
        // UNUSER carol removed her live mailboxes; the delayed-delete DELETED.user.carol.* copy stays, as on a real
        // replica
        assertThat(memory.mailboxes())
                .extracting(Mailbox::name)
                .noneMatch(n -> n.startsWith("user.carol"))
                .anyMatch(n -> n.startsWith("DELETED.user.carol."));
        assertThat(server.internalErrorCount()).isZero();
    }

    /**
     * {@code SYNCGET USER} over IMAP answers as for a client without SIEVE-MAILBOX (imapd never enables it): it
     * lists scripts as {@code * SIEVE} lines and leaves the #sieve mailbox out (SYNCGET MAILBOXES skips it too;
     * FULLMAILBOX does not). Our session did enable it, so the comparable primary view is that answer with the
     * SIEVE lines replaced by the #sieve mailbox header. The listed script must be the text of a message in
     * that mailbox: real 3.6.1 lists the SHA-1 of the script text as GUID (the spec says the #sieve message's
     * GUID; it is not), and the active script's message is \Flagged.
     */
    private static List<CsyncReply> primaryViewInSieveMailboxMode(ImapClient admin, String user) {
        List<CsyncReply> view = new ArrayList<>();
        List<SieveEntry> scripts = new ArrayList<>();
        for (CsyncReply r : SyncState.syncGet(admin, "USER " + user)) {
            if (r instanceof CsyncReply.SieveReply s) scripts.add(s.sieve());
            else view.add(r);
        }
        if (scripts.isEmpty()) return view;
        Mailbox sieveBox = ((CsyncReply.MailboxReply) SyncState.syncGet(admin, "FULLMAILBOX user." + user + ".#sieve")
                        .get(0))
                .mailbox();
        view.add(new CsyncReply.MailboxReply(sieveBox.header()));
        byte[] text = ImapActionScript.SIEVE_SCRIPT.getBytes(StandardCharsets.UTF_8);
        assertThat(scripts)
                .extracting(
                        SieveEntry::fileName,
                        SieveEntry::isActive,
                        e -> e.guid().orElseThrow())
                .containsExactlyInAnyOrder(
                        tuple(ImapActionScript.SIEVE_SCRIPT_NAME + ".script", false, Guid.sha1(text)),
                        tuple(ImapActionScript.SIEVE_SCRIPT_NAME + ".bc", true, Guid.NULL));
        assertThat(memory.records(sieveBox.uniqueId())).singleElement().satisfies(rec -> {
            assertThat(rec.flags()).contains("\\Flagged");
            assertThat(new String(memory.body(rec.guid()).orElseThrow(), StandardCharsets.UTF_8))
                    .endsWith(ImapActionScript.SIEVE_SCRIPT);
        });
        return view;
    }

    /** Header identity and CRCs as the primary reports them, and the record index of FULLMAILBOX. */
    private static void assertSameMailbox(ImapClient admin, Mailbox theirs) {
        Mailbox mine = memory.mailboxByUniqueId(theirs.uniqueId())
                .orElseThrow(() -> new AssertionError("no mailbox " + theirs.name() + " / " + theirs.uniqueId()));
        assertThat(List.of(
                        mine.name(),
                        mine.uidValidity(),
                        mine.lastUid(),
                        mine.highestModSeq(),
                        mine.syncCrc(),
                        mine.syncCrcAnnot()))
                .as(theirs.name())
                .containsExactly(
                        theirs.name(),
                        theirs.uidValidity(),
                        theirs.lastUid(),
                        theirs.highestModSeq(),
                        theirs.syncCrc(),
                        theirs.syncCrcAnnot());
        // Our own CRCs over the stored records, not just the echoed header values.
        SyncCrc.Pair crc = memory.crcs(theirs.uniqueId()).orElseThrow();
        assertThat(List.of(crc.basic(), crc.annot()))
                .as("CRCs computed over %s", theirs.name())
                .containsExactly(theirs.syncCrc(), theirs.syncCrcAnnot());
        Mailbox full = ((CsyncReply.MailboxReply)
                        SyncState.syncGet(admin, "FULLMAILBOX " + theirs.name()).get(0))
                .mailbox();
        assertThat(memory.records(theirs.uniqueId()).stream()
                        .map(r -> r.toDList().toString())
                        .toList())
                .as("records of %s", theirs.name())
                .containsExactlyElementsOf(
                        full.records().stream().map(r -> r.toDList().toString()).toList());
    }

    /**
     * The convergence proof of spec 7.7: a one-shot full user sync by the real sync_client finds nothing to
     * change, so it only asks (GET USER, GET MAILBOXES ...) and applies nothing.
     */
    @Test
    @Order(2)
    void aFullUserSyncByTheRealClientFindsNothingToApply() {
        handlerCalls.clear();
        CyrusInstance.ProcessResult r =
                primary.runTool("sync_client", "-n", CyrusInstance.MAILSTREAM_CHANNEL, "-v", "-u", "alice", "bob");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(handlerCalls)
                .as(r.output())
                .contains("getUser")
                .allMatch(m -> m.startsWith("get")
                        || Set.of("enabled", "restart", "close").contains(m));
    }

    @Test
    @Order(3)
    void ourClientSeedsAnEmptyRealReplicaFromTheInMemoryState() throws Exception {
        try (CyrusInstance replica = CyrusInstance.replica()
                .user("alice", "alicepw")
                .user("bob", "bobpw")
                .start()) {
            try (CsyncClient client =
                    CsyncClient.connect(CsyncClientConfig.of(replica.host(), replica.csyncPort(), "admin", "adminpw")
                            .withSieveMailbox(true))) {
                assertThat(client.enabledCapabilities()).containsExactly("SIEVE-MAILBOX");
                UserPush push = new UserPush(client, memory, partitionOf(replica));
                push.push("alice");
                push.push("bob");
                push.pushServerAnnotations();
            }
            List<String> differences = new ArrayList<>();
            for (String user : List.of("alice", "bob")) {
                String d = ImapSnapshot.take(primary.endpoint(), user)
                        .describeDifferences(ImapSnapshot.take(replica.endpoint(), user));
                if (d != null) differences.add(d);
            }
            assertThat(differences).isEmpty();
            // The replica's own replication view agrees too: same headers and CRCs as the primary.
            try (ImapClient p = primary.endpoint().imapAdmin();
                    ImapClient r = replica.endpoint().imapAdmin()) {
                for (String user : List.of("alice", "bob")) {
                    assertThat(SyncState.comparable(SyncState.syncGet(r, "USER " + user)))
                            .as("SYNCGET USER %s", user)
                            .containsExactlyInAnyOrderElementsOf(
                                    SyncState.comparable(SyncState.syncGet(p, "USER " + user)));
                }
            }
        }
    }

    /** The replica's (only) partition name, from its imapd.conf: what PARTITION and %{partition ...} must say. */
    private static String partitionOf(CyrusInstance replica) throws Exception {
        return Files.readAllLines(replica.imapdConf()).stream()
                .filter(l -> l.startsWith("partition-"))
                .map(l -> l.substring("partition-".length(), l.indexOf(':')))
                .findFirst()
                .orElseThrow();
    }
}
