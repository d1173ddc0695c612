package io.mailstream.producers.capture;

import io.mailstream.bridge.capture.CaptureContext;
import io.mailstream.bridge.capture.CaptureSource;
import io.mailstream.bridge.capture.CaptureTranslator;
import io.mailstream.bridge.capture.PartitionKeys;
import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.control.ControlConflictException;
import io.mailstream.core.control.ControlFollower;
import io.mailstream.core.control.ControlState;
import io.mailstream.core.control.ControlTopic;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.dlist.DListLimits;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncCommand.ApplyMailbox;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.csync.replica.ReplicaState;
import io.mailstream.csync.server.Authenticator;
import io.mailstream.csync.server.CsyncServer;
import io.mailstream.csync.server.CsyncServerConfig;
import io.mailstream.csync.server.CsyncSessionHandler;
import io.mailstream.csync.server.SessionInfo;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The capture endpoint: plays a Cyrus replica on {@code capture.listen} for the
 * primary's {@code mailstream} sync channel and turns every APPLY into change events.
 *
 * <p>Per APPLY, in this order: validate against the shadow (refuse as a replica would, before
 * Kafka sees anything); publish the events in one transaction and wait for the commit; record
 * the command in the shadow and its journal; only then answer OK. A failure before the commit
 * answers NO and Cyrus keeps the change in its sync log. APPLYs of all sessions are serialised:
 * one primary has one channel, and a strict order is what makes the shadow and the events agree.
 *
 * <p>Capture follows {@code mailstream.control} live and accepts only while it names this
 * capture's tier ({@code capture.tier}) primary; otherwise every APPLY is answered NO, never OK
 * and dropped, and Cyrus keeps the change until this tier is promoted. Events carry the tier and
 * epoch they were captured under. On first start with no primary at all, a capture whose tier is
 * not one of {@code tiers} (a single-site setup) makes its tier primary at epoch 1 by the same
 * compare-and-set as {@code mailstream promote --initial}; a Cyrus tier waits for that command.
 */
public final class Capture implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Capture.class);
    /** Records per RecordsUpsert event: a full resend of a big mailbox becomes many moderate events. */
    private static final int RECORDS_PER_EVENT = 2000;

    private final ReplicaState shadow;
    private final ShadowStore store;
    private final ChangePublisher publisher;
    private final CaptureTranslator translator;
    private final SchemaTopicRegistry schemas;
    private final Path stagingDir;
    private final MeterRegistry metrics;
    private final AtomicInteger sessions = new AtomicInteger();
    private final List<Meter> gauges;
    private final CsyncServer server;
    private final String tier;
    private final ControlTopic control;
    private final ControlFollower follower;
    /** Notified when the control topic changes, so a refused APPLY waiting a moment sees a promotion at once. */
    private final Object roleChanged = new Object();
    /** APPLY FORCE ({@code sync_client -O}) is process-wide on a Cyrus replica too (spec 3.2). */
    private volatile boolean force;

    private Capture(
            MailstreamConfig config, String bootstrapServers, MeterRegistry metrics, Consumer<Throwable> onFenced)
            throws IOException, CsyncException {
        String serverId = config.get(ConfigKeys.CAPTURE_SERVER_ID);
        String password =
                config.password(ConfigKeys.CAPTURE_AUTH_PASSWORD, ConfigKeys.CAPTURE_AUTH_PASSWORD_FILE, null);
        if (password.isEmpty()) {
            throw new ConfigException(ConfigKeys.CAPTURE_AUTH_PASSWORD.name() + " is empty: set the password the"
                    + " primary's mailstream_sync_password sends (or name a file holding it in "
                    + ConfigKeys.CAPTURE_AUTH_PASSWORD_FILE.name() + ")");
        }
        InetSocketAddress listen = parseListen(config.get(ConfigKeys.CAPTURE_LISTEN));
        int maxRecordBytes = config.get(ConfigKeys.KAFKA_MAX_RECORD_BYTES);
        this.metrics = metrics;
        String site = config.get(ConfigKeys.SITE);
        this.schemas = new SchemaTopicRegistry(KafkaClients.adminProps(bootstrapServers));
        long kafkaSequence;
        try {
            // Before anything is fenced: a capture of another site must not stop the one that owns this id.
            kafkaSequence = highestSequenceInKafka(bootstrapServers, serverId, site);
        } catch (RuntimeException e) {
            schemas.close();
            throw e;
        }
        Path dir = config.dataDir().resolve("capture").resolve(serverId);
        this.stagingDir = dir.resolve("staging");
        deleteTree(stagingDir); // bodies of sessions that died with the last process
        ShadowStore.Loaded loaded = ShadowStore.open(dir.resolve("shadow"));
        this.store = loaded.store();
        Optional<ReplicaState> kept = loaded.shadow();
        if (kept.isPresent() && store.reservedUpTo() < kafkaSequence) {
            LOG.warn(
                    "capture {}: the state under {} is older than mailstream.changes (sequences reserved up to {},"
                            + " Kafka holds {} of this source): a restored or copied data.dir, or a journal cut short;"
                            + " rebuilding it from Kafka",
                    serverId,
                    dir,
                    store.reservedUpTo(),
                    kafkaSequence);
            kept = Optional.empty();
        }
        if (kept.isPresent()) {
            this.shadow = kept.get();
        } else {
            ShadowRebuild.Result rebuilt = ShadowRebuild.fromKafka(bootstrapServers, schemas, serverId);
            LOG.info(
                    "capture {}: no usable shadow under {}; rebuilt {} mailboxes from Kafka ({} left out for Cyrus"
                            + " to resend), sequences continue after {}",
                    serverId,
                    dir,
                    rebuilt.mailboxes(),
                    rebuilt.skipped(),
                    Math.max(rebuilt.lastSequence(), kafkaSequence));
            this.shadow = rebuilt.shadow();
            store.reset(shadow, rebuilt.lastSequence());
        }
        store.continueAbove(kafkaSequence);
        this.tier = config.get(ConfigKeys.CAPTURE_TIER);
        this.control = new ControlTopic(bootstrapServers, schemas);
        bootstrapSingleSite(config, serverId, site);
        this.follower = ControlFollower.start(bootstrapServers, schemas, this::controlChanged);
        CaptureSource source = new CaptureSource(serverId, site, tier, 0);
        this.translator =
                new CaptureTranslator(RECORDS_PER_EVENT, maxRecordBytes, config.get(ConfigKeys.CONTENT_CHUNK_BYTES));
        this.publisher = new ChangePublisher(
                bootstrapServers,
                ControlTopic.captureTransactionalId(tier),
                maxRecordBytes,
                schemas,
                source,
                this::epochIfPrimaryNow,
                metrics,
                onFenced);
        OptionalLong epoch = epochIfPrimary(follower.current());
        if (epoch.isPresent()) {
            try {
                publisher.start(epoch.getAsLong());
            } catch (CsyncException | RuntimeException e) {
                follower.close();
                throw e;
            }
        } else {
            LOG.warn("capture {}: {}", serverId, notPrimary(follower.current()));
        }
        // Removed on close, so that a capture started again in this process reports its own values.
        this.gauges = List.of(
                Gauge.builder("mailstream.capture.sessions", sessions, AtomicInteger::get)
                        .description("csync sessions of the primary's sync_client open now")
                        .register(metrics),
                Gauge.builder(
                                "mailstream.capture.epoch",
                                this,
                                c -> c.epochIfPrimary(c.follower.current()).orElse(0))
                        .description(
                                "Epoch this capture stamps on its events while its tier is primary (0 while it refuses)")
                        .register(metrics),
                Gauge.builder(
                                "mailstream.capture.primary",
                                this,
                                c -> c.epochIfPrimary(c.follower.current()).isPresent() && !c.isFenced() ? 1 : 0)
                        .description(
                                "1 while mailstream.control names this capture's tier primary and its producer is not fenced")
                        .register(metrics),
                Gauge.builder("mailstream.capture.fenced", this, c -> c.isFenced() ? 1 : 0)
                        .description(
                                "1 once this capture's producer was fenced (a promotion or a second capture of its tier)")
                        .register(metrics));
        this.server = CsyncServer.start(serverConfig(config, listen, serverId, password));
        LOG.info(
                "capture {} of tier {} listening on {}:{} ({})",
                serverId,
                tier,
                listen.getHostString(),
                server.getPort(),
                epoch.isPresent() ? "primary at epoch " + epoch.getAsLong() : "not primary: refusing");
    }

    /** What the endpoint lets a client do before and after it authenticates: the capture.max.* and capture.auth.* keys. */
    private CsyncServerConfig serverConfig(
            MailstreamConfig config, InetSocketAddress listen, String serverId, String password) {
        DListLimits limits = DListLimits.SERVER
                .withMaxLine(config.get(ConfigKeys.CAPTURE_MAX_COMMAND_BYTES))
                .withMaxValues(config.get(ConfigKeys.CAPTURE_MAX_COMMAND_VALUES))
                .withMaxLiterals(config.get(ConfigKeys.CAPTURE_MAX_COMMAND_LITERALS))
                .withFileLiterals(
                        config.get(ConfigKeys.CAPTURE_MAX_COMMAND_BODIES),
                        config.get(ConfigKeys.CAPTURE_MAX_COMMAND_BODY_BYTES));
        try {
            Files.createDirectories(stagingDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + stagingDir, e);
        }
        // Bodies being received go under data.dir, not the system's temporary folder, and are counted there.
        limits = limits.withSpool(limits.spoolThreshold(), stagingDir);
        return CsyncServerConfig.builder(
                        Authenticator.single(config.get(ConfigKeys.CAPTURE_AUTH_USER), password), this::openSession)
                .bind(listen)
                .serverName("mailstream-capture-" + serverId)
                .sieveMailbox(true)
                .maxSessions(config.get(ConfigKeys.CAPTURE_MAX_SESSIONS))
                .maxUnauthenticated(config.get(ConfigKeys.CAPTURE_MAX_UNAUTHENTICATED))
                .maxUnauthenticatedPerAddress(config.get(ConfigKeys.CAPTURE_MAX_UNAUTHENTICATED_PER_ADDRESS))
                .authTimeout(java.time.Duration.ofMillis(config.get(ConfigKeys.CAPTURE_AUTH_TIMEOUT_MS)))
                .limits(limits)
                .build();
    }

    /** Sessions that died of an unexpected exception in the protocol code (0 in a healthy capture). */
    public long internalErrorCount() {
        return server.internalErrorCount();
    }

    /** Connections closed before they authenticated (to make room, or past capture.auth.timeout.ms). */
    public long unauthenticatedClosedCount() {
        return server.unauthenticatedClosedCount();
    }

    /**
     * Starts capture: loads or rebuilds the shadow, takes the epoch, fences older captures with
     * the same server id, and listens. {@code onFenced} hears when a newer capture took over.
     */
    public static Capture start(
            MailstreamConfig config, String bootstrapServers, MeterRegistry metrics, Consumer<Throwable> onFenced)
            throws IOException {
        try {
            return new Capture(config, bootstrapServers, metrics, onFenced);
        } catch (CsyncException e) {
            throw new IOException("capture cannot start: " + e.getMessage(), e);
        }
    }

    public int port() {
        return server.getPort();
    }

    public boolean isFenced() {
        return publisher.isFenced();
    }

    /** Every mailbox header as GET MAILBOXES would answer it (our own SYNC_CRCs), for checks and tests. */
    public List<Mailbox> mailboxes() {
        return shadow.mailboxes();
    }

    /**
     * The highest sequence mailstream.changes holds for this server id, so that no number is used
     * twice whatever data.dir holds. Events of this id stamped with another site mean a second
     * capture elsewhere shares the id: refused, never merged.
     */
    private long highestSequenceInKafka(String bootstrapServers, String serverId, String site) {
        List<Envelope> latest = SourceTail.latest(bootstrapServers, schemas, serverId);
        for (Envelope e : latest) {
            if (!e.getSite().equals(site)) {
                throw new ConfigException(ConfigKeys.CAPTURE_SERVER_ID.name() + " '" + serverId + "' is already used by"
                        + " site '" + e.getSite() + "' (event sequence " + e.getSequence() + " in " + Topics.CHANGES
                        + "), and this capture is site '" + site + "': every Cyrus primary needs its own id, so set"
                        + " a distinct " + ConfigKeys.CAPTURE_SERVER_ID.name() + " here (or correct "
                        + ConfigKeys.SITE.name() + " if this is the same site)");
            }
        }
        return latest.stream().mapToLong(Envelope::getSequence).max().orElse(0);
    }

    /**
     * A single-site setup (this capture's tier is not one of {@code tiers}: its Cyrus is the only
     * one that can be primary) needs no manual first step: with no primary assigned yet, its tier
     * becomes primary at epoch 1. Compare-and-set, so of two captures starting at once one wins
     * and the other reads the winner.
     */
    private void bootstrapSingleSite(MailstreamConfig config, String serverId, String site) {
        if (config.tiers().contains(tier) || control.primary().isPresent()) {
            return;
        }
        try {
            control.promoteInitial(tier, site, "capture " + serverId, "first start of a single-site capture");
        } catch (ControlConflictException e) {
            LOG.info("capture {}: another writer assigned the first primary meanwhile ({})", serverId, e.getMessage());
        }
    }

    private void controlChanged(ControlState state) {
        OptionalLong epoch = epochIfPrimary(state);
        LOG.info(
                "capture of tier {}: {}",
                tier,
                epoch.isPresent() ? "primary at epoch " + epoch.getAsLong() : notPrimary(state));
        synchronized (roleChanged) {
            roleChanged.notifyAll();
        }
    }

    /**
     * Primary once the promotion is complete: while it is still fencing the previous primary,
     * accepting would let this tier's events land among the old one's in a partition; waiting
     * keeps every partition in epoch order.
     */
    private OptionalLong epochIfPrimary(ControlState state) {
        return state.primary()
                .filter(a -> a.getTier().equals(tier) && !a.getFencePending())
                .map(a -> OptionalLong.of(a.getEpoch()))
                .orElse(OptionalLong.empty());
    }

    /** mailstream.control read to its end now (not the follower's view): for a producer's check right after its fence. */
    private OptionalLong epochIfPrimaryNow() {
        return epochIfPrimary(control.read());
    }

    private String notPrimary(ControlState state) {
        return state.primary()
                .map(a -> a.getTier().equals(tier)
                        ? "the promotion of this capture's tier " + tier + " to epoch " + a.getEpoch()
                                + " is still fencing the previous primary"
                        : "tier " + a.getTier() + " is primary at epoch " + a.getEpoch() + ", not this capture's tier "
                                + tier)
                .orElse("no tier is primary yet: run 'mailstream promote --tier " + tier
                        + " --initial' to make this one");
    }

    /** Longest a refused APPLY waits for a promotion before answering NO: slows sync_client's retry loop down. */
    private static final long REFUSAL_WAIT_MS = 1000;

    /**
     * The epoch this capture is primary at; otherwise, after waiting a moment for a promotion,
     * NO: Cyrus keeps the change in its sync log and retries it.
     */
    long requirePrimary() throws CsyncException {
        OptionalLong epoch = epochIfPrimary(follower.current());
        if (epoch.isEmpty()) {
            long deadline = System.currentTimeMillis() + REFUSAL_WAIT_MS;
            synchronized (roleChanged) {
                while ((epoch = epochIfPrimary(follower.current())).isEmpty()
                        && System.currentTimeMillis() < deadline) {
                    try {
                        roleChanged.wait(Math.max(1, deadline - System.currentTimeMillis()));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
        }
        if (epoch.isEmpty()) {
            metrics.counter("mailstream.capture.refused", "code", "NOT_PRIMARY").increment();
            throw new CsyncException(
                    CsyncError.AGAIN,
                    notPrimary(follower.current()) + ": refused, the primary keeps the change in its sync log");
        }
        return epoch.getAsLong();
    }

    private CsyncSessionHandler openSession(SessionInfo info) {
        sessions.incrementAndGet();
        return new CaptureSession(this, shadow, info, stagingDir.resolve(Long.toString(info.sessionId())));
    }

    void sessionClosed() {
        sessions.decrementAndGet();
    }

    void setForce() {
        force = true;
    }

    void count(String command) {
        metrics.counter("mailstream.capture.applies", "command", command).increment();
    }

    /**
     * GUIDs whose bodies Kafka holds under every one of these partition keys (RESERVE). A body is
     * usable only on the partition of the mailbox that gets the record, and RESERVE does not say
     * which of its mailboxes that is: held under one key but not another, it is missing, and
     * Cyrus sends it so that it can go to the new key too.
     */
    Set<Guid> heldUnderEvery(Set<String> partitionKeys) {
        Set<Guid> held = null;
        for (String key : partitionKeys) {
            if (held == null) {
                held = heldGuids(key);
            } else {
                held.retainAll(heldGuids(key));
            }
            if (held.isEmpty()) {
                break;
            }
        }
        return held == null ? Set.of() : held;
    }

    /**
     * GUIDs of the live records under a partition key: bodies Kafka holds on that partition. An
     * expunged record's body does not count: streams deletes a body no live record references once
     * its grace is over, so a message that references it again (an unexpunge, the same bytes
     * appended again) must bring the body along, and Cyrus still has it.
     */
    private Set<Guid> heldGuids(String partitionKey) {
        return shadow.liveRecordGuids(name -> PartitionKeys.ofMailbox(name).equals(partitionKey));
    }

    /** Validate, publish, record, in that order; returns normally only once Kafka holds the change. */
    void commit(CsyncCommand command, CaptureSession session) throws CsyncException {
        count(command.toDKeyed().key());
        long epoch = requirePrimary(); // before the lock: a refused APPLY holds up no other session
        synchronized (this) {
            commitAt(epoch, command, session);
        }
    }

    private void commitAt(long epoch, CsyncCommand command, CaptureSession session) throws CsyncException {
        try {
            validateAndPublish(epoch, command, session);
        } catch (CsyncException e) {
            metrics.counter("mailstream.capture.refused", "code", e.error().name())
                    .increment();
            throw e;
        }
    }

    private void validateAndPublish(long epoch, CsyncCommand command, CaptureSession session) throws CsyncException {
        shadow.check(command, force, bodyAvailable(command, session));
        if (command instanceof ApplyMailbox a && !shadow.crcsMatchAfter(a.mailbox())) {
            mismatch(a.mailbox());
        }
        CaptureContext context = new CaptureContext() {
            public Optional<Mailbox> mailbox(String name) {
                return shadow.mailbox(name);
            }

            public List<MessageRecord> records(String uniqueId) {
                return shadow.records(uniqueId);
            }

            public Set<Guid> heldGuids(String partitionKey) {
                return Capture.this.heldGuids(partitionKey);
            }

            public Optional<MessageFile> staged(Guid guid) {
                return session.staged(guid);
            }
        };
        publisher.publish(out -> translator.translate(command, context, out), store::nextSequence, epoch);
        shadow.apply(command);
        try {
            store.append(command, shadow);
        } catch (IOException e) {
            // Kafka has the change; without the journal a restart would resend it (harmless), but a
            // failing disk must not go unnoticed.
            LOG.error("cannot journal an APPLY that Kafka already holds", e);
            throw new CsyncException(CsyncError.IOERROR, "capture journal: " + e.getMessage(), e);
        }
    }

    /**
     * Capture keeps no bodies: a new live record needs one staged in this session, or one Kafka
     * already holds on its mailbox's partition (looked up only when staging does not have it).
     */
    private Predicate<Guid> bodyAvailable(CsyncCommand command, CaptureSession session) {
        if (!(command instanceof ApplyMailbox a)) {
            return session::isStaged;
        }
        String partitionKey = PartitionKeys.ofMailbox(a.mailbox().name());
        Map<String, Set<Guid>> held = new HashMap<>(1);
        return guid -> session.isStaged(guid)
                || held.computeIfAbsent(partitionKey, this::heldGuids).contains(guid);
    }

    /**
     * Our records would not give the master's CRCs, so our copy of the mailbox is wrong. A known
     * mailbox is dropped (GET then omits it and Cyrus resends it whole, spec 4.10) and Cyrus
     * retries; a mailbox we did not have is taken as sent, since there is nothing to resync from.
     */
    private void mismatch(Mailbox m) throws CsyncException {
        if (shadow.mailbox(m.name()).isEmpty()) {
            LOG.warn(
                    "{}: the CRCs of the records Cyrus sent are not its SYNC_CRC/SYNC_CRC_ANNOT {}/{}; taking them as sent",
                    m.name(),
                    m.syncCrc(),
                    m.syncCrcAnnot());
            return;
        }
        shadow.forget(m.name());
        try {
            store.appendForget(m.name());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        LOG.warn(
                "{}: capture's records disagree with the primary's CRCs; dropped it so Cyrus resends it whole",
                m.name());
        throw new CsyncException(CsyncError.SYNC_CHECKSUM, "CRC mismatch on " + m.name());
    }

    @Override
    public void close() throws IOException {
        gauges.forEach(metrics::remove);
        server.close();
        follower.close();
        synchronized (this) {
            publisher.close();
            store.snapshot(shadow);
            store.close();
        }
        schemas.close();
        deleteTree(stagingDir);
    }

    private static InetSocketAddress parseListen(String value) {
        int colon = value.lastIndexOf(':');
        try {
            return new InetSocketAddress(value.substring(0, colon), Integer.parseInt(value.substring(colon + 1)));
        } catch (RuntimeException e) {
            throw new ConfigException(
                    ConfigKeys.CAPTURE_LISTEN.name() + " '" + value + "': expected HOST:PORT, e.g. 127.0.0.1:2005");
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
