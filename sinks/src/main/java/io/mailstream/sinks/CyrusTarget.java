package io.mailstream.sinks;

import io.mailstream.bridge.apply.BodySource;
import io.mailstream.bridge.apply.EventCommands;
import io.mailstream.bridge.apply.MessageSpool;
import io.mailstream.bridge.apply.ReplicaWriter;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.errors.RefusedException;
import io.mailstream.core.errors.TransientException;
import io.mailstream.core.kafka.Topics;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.Guid;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.UserDelete;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.state.StateFold;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Cyrus replica as a tier target: applies a user's feed events over csync to a real
 * {@code sync_server}. Bodies are spooled as they come; records and headers are folded
 * ({@link StateFold}) into the open change of their mailbox, and each header (the commit point of
 * one APPLY MAILBOX upstream) pushes that change with {@link ReplicaWriter}, as Cyrus's own client
 * would. The other events are their own APPLY commands. Returns only when the replica said OK to all.
 *
 * <p>Memory: nothing is kept of a mailbox once its change is pushed. The next change carries every
 * record changed since (capture sends what changed since the replica's HIGHESTMODSEQ), and a repair
 * reads the complete record set from {@code mailstream.state}. Bodies are found where sync_client
 * finds them: on the replica (RESERVE names every mailbox of the user there), in the spool, and
 * as a last resort in {@code mailstream.streams.content}.
 *
 * <p>Sessions: one csync session per concurrent apply (at most {@code tier.<name>.sessions}),
 * reused; a session that failed on I/O is dropped, and the next apply opens a fresh one.
 */
final class CyrusTarget implements StateTarget {
    private static final Logger LOG = LoggerFactory.getLogger(CyrusTarget.class);

    private final String tier;
    private final CsyncClientConfig csync;
    private final String partition;
    private final Path spoolRoot;
    private final CanonicalStates states;
    private final ContentTopic content;
    private final LinkedBlockingDeque<CsyncClient> idle = new LinkedBlockingDeque<>();
    private final Map<String, UserView> views = new ConcurrentHashMap<>();
    private final MailboxRepairs repairs;
    /** csync sessions open to the replica, idle or in use. */
    private final AtomicInteger openSessions = new AtomicInteger();

    private Runnable unregister = () -> {};

    CyrusTarget(
            String tier,
            CsyncClientConfig csync,
            String partition,
            Path spoolRoot,
            CanonicalStates states,
            ContentTopic content) {
        this.tier = tier;
        this.csync = csync;
        this.partition = partition;
        this.spoolRoot = spoolRoot;
        this.states = states;
        this.content = content;
        this.repairs = new MailboxRepairs(spoolRoot.resolveSibling("repair"));
    }

    /** The target a {@code type=cyrus} tier configures; repairs read the canonical state from {@code mailstream.state}. */
    static CyrusTarget open(MailstreamConfig config, String bootstrapServers, String tier) {
        return open(config, bootstrapServers, tier, null);
    }

    /** As {@link #open(MailstreamConfig, String, String)}, reporting its open csync sessions to {@code metrics} (if not null). */
    static CyrusTarget open(MailstreamConfig config, String bootstrapServers, String tier, MeterRegistry metrics) {
        CyrusTarget target = openUnmetered(config, bootstrapServers, tier);
        if (metrics != null) {
            Gauge gauge = Gauge.builder("mailstream.sink.sessions", target.openSessions, AtomicInteger::get)
                    .tag("tier", tier)
                    .description("csync sessions the sink has open to the replica")
                    .register(metrics);
            target.unregister = () -> metrics.remove(gauge);
        }
        return target;
    }

    private static CyrusTarget openUnmetered(MailstreamConfig config, String bootstrapServers, String tier) {
        String address = config.get(ConfigKeys.TIER_CYRUS_ADDRESS, tier);
        int colon = address.lastIndexOf(':');
        if (colon <= 0)
            throw new io.mailstream.core.config.ConfigException(
                    "tier." + tier + ".cyrus.address: expected host:port, got '" + address + "'");
        CsyncClientConfig csync = CsyncClientConfig.of(
                        address.substring(0, colon),
                        Integer.parseInt(address.substring(colon + 1)),
                        config.get(ConfigKeys.TIER_CYRUS_USER, tier),
                        config.password(ConfigKeys.TIER_CYRUS_PASSWORD, ConfigKeys.TIER_CYRUS_PASSWORD_FILE, tier))
                // Cyrus 3.6 keeps sieve scripts in a user.X.#sieve mailbox (type f), which a replica
                // accepts only after APPLY CAPABILITIES (SIEVE-MAILBOX); capture receives them that way.
                .withSieveMailbox(true)
                // One attempt per apply: the feed loop's ErrorPolicy backs off and retries the batch.
                .withBackoff(Duration.ofMillis(100), Duration.ofSeconds(1), 1);
        return new CyrusTarget(
                tier,
                csync,
                config.get(ConfigKeys.TIER_CYRUS_PARTITION, tier),
                config.dataDir().resolve("sink-" + tier).resolve("spool"),
                new CanonicalStates(bootstrapServers),
                new ContentTopic(bootstrapServers));
    }

    @Override
    public Applied apply(String partitionKey, List<ChangeEvent> events) throws Exception {
        UserView view = views.computeIfAbsent(partitionKey, k -> new UserView());
        try {
            return withSession(session ->
                    new Applied(apply(view, spool(view, partitionKey), new ReplicaWriter(session, partition), events)));
        } catch (Exception e) {
            // The feed delivers these events again, so open changes are folded anew rather than kept
            // (a change begun in an earlier apply then lacks records: the replica answers CHECKSUM
            // and the push repairs from mailstream.state).
            view.open.clear();
            throw e;
        } finally {
            release(partitionKey, view);
        }
    }

    /**
     * A backfill: the user removed first if the canonical state says it was deleted, then mailboxes
     * deleted since (unless their name is live again), then every live mailbox and the user's state,
     * as {@code rebuild} pushes a user. Records whose header has not come yet wait in the view for it.
     */
    @Override
    public void assertState(
            String partitionKey, Map<String, MailboxState> mailboxes, Optional<UserState> user, Bodies bodies)
            throws Exception {
        UserView view = views.computeIfAbsent(partitionKey, k -> new UserView());
        List<MailboxState> live = mailboxes.values().stream()
                .filter(m -> m.getHeader() != null && !m.getDeleted())
                .toList();
        Set<String> liveNames = live.stream().map(m -> m.getHeader().getName()).collect(Collectors.toSet());
        withSession(session -> {
            ReplicaWriter writer = new ReplicaWriter(session, partition);
            if (user.isPresent()
                    && user.get().getDeleted()
                    && !writer.user(partitionKey).mailboxes().isEmpty()) {
                writer.apply(new CsyncCommand.ApplyUnuser(partitionKey, false));
            }
            for (MailboxState m : mailboxes.values()) {
                if (m.getDeleted()
                        && m.getHeader() != null
                        && !liveNames.contains(m.getHeader().getName())) {
                    writer.apply(new CsyncCommand.ApplyUnmailbox(m.getHeader().getName(), false));
                }
            }
            writer.pushUser(live, user.filter(u -> !u.getDeleted()), guid -> body(bodies, guid.hex()), pushed -> {});
            return null;
        });
        mailboxes.forEach((uniqueId, m) -> {
            if (m.getHeader() == null) view.open.put(uniqueId, m);
        });
    }

    private static Optional<MessageBody> body(Bodies bodies, String guid) throws IOException {
        List<MessageContent> chunks = bodies.chunks(guid);
        if (chunks.isEmpty()) return Optional.empty();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (MessageContent chunk : chunks) {
            ByteBuffer data = chunk.getData().duplicate();
            byte[] part = new byte[data.remaining()];
            data.get(part);
            bytes.write(part);
        }
        return Optional.of(MessageBody.of(bytes.toByteArray()));
    }

    private interface SessionWork<T> {
        T run(CsyncClient session) throws Exception;
    }

    /** Runs {@code work} on an idle session (or a new one); a session that failed on I/O is dropped, the sink retries. */
    private <T> T withSession(SessionWork<T> work) throws Exception {
        CsyncClient session = idle.pollFirst();
        if (session == null) {
            session = CsyncClient.connect(csync);
            openSessions.incrementAndGet();
        }
        boolean healthy = false;
        try {
            T result = work.run(session);
            healthy = true;
            return result;
        } catch (IOException e) {
            throw e; // the session is dropped below; the sink retries after a back-off
        } catch (CsyncException e) {
            healthy = true; // a NO from the replica leaves the session usable
            throw classified(e);
        } catch (Exception e) {
            healthy = true; // raised between commands: the session is usable
            throw e;
        } finally {
            if (healthy) {
                idle.addFirst(session);
            } else {
                openSessions.decrementAndGet();
                session.close();
            }
        }
    }

    /**
     * What a NO from the replica means to the sink's error policy. Busy, locked, or an I/O error on
     * the replica (a full disk, say) passes once the replica is fixed and hits every user alike, so
     * the events wait. Any other code (IMAP_PROTOCOL_BAD_PARAMETERS, IMAP_MAILBOX_MOVED from a
     * uniqueid clash, IMAP_MAILBOX_NONEXISTENT or IMAP_SYNC_CHECKSUM that the writer's own repairs
     * did not settle, IMAP_INVALID_USER, an unknown NO) is about this change and will not pass by
     * itself: retried a bounded number of times, then dead-lettered so the user's lane goes on.
     */
    static RuntimeException classified(CsyncException e) {
        return switch (e.error()) {
            case AGAIN, MAILBOX_LOCKED, IOERROR -> new TransientException("replica: " + e.getMessage(), e);
            default -> new RefusedException("replica refused: " + e.getMessage(), e);
        };
    }

    private Map<String, Long> apply(UserView view, MessageSpool spool, ReplicaWriter writer, List<ChangeEvent> events)
            throws Exception {
        Map<String, Long> crcs = new HashMap<>();
        BodySource bodies = bodies(spool);
        for (ChangeEvent event : events) {
            Object payload = event.getPayload();
            if (payload instanceof MessageContent chunk) {
                spool.accept(chunk);
                continue;
            }
            view.fold(event);
            if (payload instanceof MailboxUpsert header) {
                MailboxState change = view.open.get(header.getUniqueId());
                boolean incomplete = repairs.isMarked(header.getUniqueId());
                if (incomplete) change = completed(change, states.mailbox(header.getUniqueId()));
                ReplicaWriter.Pushed pushed = writer.push(change, bodies, states::mailbox);
                if (incomplete && !pushed.stale()) repairs.done(header.getUniqueId());
                if (pushed.syncCrc() != 0) crcs.put(pushed.uniqueId(), pushed.syncCrc());
                // The replica holds this change now: neither its records nor its bodies are needed again.
                view.open.remove(header.getUniqueId());
                Set<String> guids =
                        change.getRecords().stream().map(MessageRecord::getGuid).collect(Collectors.toSet());
                for (String guid : spool.spooled()) {
                    if (guids.contains(guid)) spool.release(guid);
                }
                continue;
            }
            Optional<CsyncCommand> command = EventCommands.forPayload(payload, partition);
            if (command.isEmpty()) continue; // RecordsUpsert: folded, pushed with its header
            writer.apply(command.get());
        }
        return crcs;
    }

    /** Marks the mailboxes of a dead-lettered change: their next push first completes them from the canonical state. */
    @Override
    public void deadLettered(String partitionKey, List<ChangeEvent> events) throws IOException {
        for (ChangeEvent event : events) {
            String uniqueId = UserView.mailboxOf(event);
            if (uniqueId != null) repairs.mark(uniqueId);
        }
    }

    /**
     * The folded view of a mailbox with the canonical records it lacks (up to its header's LAST_UID):
     * after a dead-lettered change, and a restart that forgot what was folded, the next change
     * carries only its own records, and a replica that has to create the mailbox again would get
     * a partial one that no full update can fill below its LAST_UID.
     */
    static MailboxState completed(MailboxState view, Optional<MailboxState> canonical) {
        if (canonical.isEmpty()) return view;
        long lastUid = view.getHeader().getLastUid();
        TreeMap<Long, MessageRecord> records = new TreeMap<>();
        canonical.get().getRecords().stream()
                .filter(r -> r.getUid() <= lastUid)
                .forEach(r -> records.put(r.getUid(), r));
        view.getRecords().forEach(r -> records.put(r.getUid(), r)); // as new as the header being pushed
        return MailboxState.newBuilder(view)
                .setRecords(new ArrayList<>(records.values()))
                .build();
    }

    /** The spool first, then the content topic for everything the spool lacks, fetched in one pass. */
    private BodySource bodies(MessageSpool spool) {
        return new BodySource() {
            @Override
            public Optional<MessageBody> open(Guid guid) throws IOException {
                return spool.open(guid);
            }

            @Override
            public void prefetch(Collection<Guid> guids) throws IOException {
                List<String> absent = new ArrayList<>();
                for (Guid g : guids) {
                    if (spool.open(g).isEmpty()) absent.add(g.hex());
                }
                if (absent.isEmpty()) return;
                Set<String> found = content.fetchInto(absent, spool, spoolRoot.resolve("fetch"));
                LOG.warn(
                        "tier {}: {} bodies missing on the replica and in the spool; {} found in {}",
                        tier,
                        absent.size(),
                        found.size(),
                        Topics.STREAMS_CONTENT);
                if (found.size() < absent.size()) {
                    List<String> lost =
                            absent.stream().filter(g -> !found.contains(g)).toList();
                    LOG.error(
                            "tier {}: bodies {} are on neither the replica, the spool nor {}",
                            tier,
                            lost,
                            Topics.STREAMS_CONTENT);
                }
            }
        };
    }

    private MessageSpool spool(UserView view, String partitionKey) throws IOException {
        if (view.spool == null) {
            view.spool = new MessageSpool(
                    spoolRoot.resolve(HexFormat.of().formatHex(partitionKey.getBytes(StandardCharsets.UTF_8))));
        }
        return view.spool;
    }

    /**
     * Drops a user's view once it holds nothing that lives only in memory (no open change, no body
     * half-assembled): whole spooled bodies stay on disk, where the next view finds them.
     */
    private void release(String partitionKey, UserView view) throws IOException {
        if (!view.open.isEmpty() || (view.spool != null && !view.spool.idle())) return;
        views.remove(partitionKey);
        if (view.spool != null) view.spool.close();
    }

    /** What the sink holds between applies: users with a view, mailboxes with an open change, their records. */
    record Retained(int users, int mailboxes, long records) {}

    Retained retained() {
        int mailboxes = 0;
        long records = 0;
        for (UserView v : views.values()) {
            for (MailboxState m : List.copyOf(v.open.values())) {
                mailboxes++;
                records += m.getRecords().size();
            }
        }
        return new Retained(views.size(), mailboxes, records);
    }

    @Override
    public void close() throws Exception {
        for (CsyncClient c; (c = idle.pollFirst()) != null; ) {
            openSessions.decrementAndGet();
            c.close();
        }
        unregister.run();
        for (UserView v : views.values()) {
            if (v.spool != null) v.spool.close();
        }
        states.close();
        content.close();
        LOG.info("tier {}: Cyrus sink closed", tier);
    }

    /**
     * What the sink holds of one user between events: the mailbox changes whose header has not come
     * yet (their records folded), and the spool of bodies.
     */
    private static final class UserView {
        final Map<String, MailboxState> open = new ConcurrentHashMap<>();
        MessageSpool spool;

        /**
         * Records and headers open or extend a change; a rename, expunge or delete only updates one
         * already open (so its header pushes the right name and flags), and a delete drops it.
         */
        void fold(ChangeEvent event) {
            Object payload = event.getPayload();
            if (payload instanceof UserDelete) {
                open.clear();
                return;
            }
            String uniqueId = mailboxOf(event);
            if (uniqueId == null) return;
            if (payload instanceof MailboxDelete) {
                open.remove(uniqueId);
            } else if (payload instanceof RecordsUpsert
                    || payload instanceof MailboxUpsert
                    || open.containsKey(uniqueId)) {
                open.put(uniqueId, StateFold.applyToMailbox(open.get(uniqueId), event));
            }
        }

        /** The uniqueid of the mailbox an event changes; null for user-level events and content. */
        static String mailboxOf(ChangeEvent event) {
            String key = StateFold.stateKey(event);
            return key != null && key.startsWith(StateFold.mailboxKey(""))
                    ? key.substring(StateFold.mailboxKey("").length())
                    : null;
        }
    }
}
