package io.mailstream.sinks;

import io.mailstream.bridge.apply.BodySource;
import io.mailstream.bridge.apply.EventCommands;
import io.mailstream.bridge.apply.MessageSpool;
import io.mailstream.bridge.apply.ReplicaWriter;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.Topics;
import io.mailstream.core.state.StateFold;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.Guid;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.UserDelete;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.stream.Collectors;

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
final class CyrusTarget implements TierTarget {
    private static final Logger LOG = LoggerFactory.getLogger(CyrusTarget.class);

    private final String tier;
    private final CsyncClientConfig csync;
    private final String partition;
    private final Path spoolRoot;
    private final CanonicalStates states;
    private final ContentTopic content;
    private final LinkedBlockingDeque<CsyncClient> idle = new LinkedBlockingDeque<>();
    private final Map<String, UserView> views = new ConcurrentHashMap<>();

    CyrusTarget(String tier, CsyncClientConfig csync, String partition, Path spoolRoot, CanonicalStates states, ContentTopic content) {
        this.tier = tier;
        this.csync = csync;
        this.partition = partition;
        this.spoolRoot = spoolRoot;
        this.states = states;
        this.content = content;
    }

    /** The target a {@code type=cyrus} tier configures; repairs read the canonical state from {@code mailstream.state}. */
    static CyrusTarget open(MailstreamConfig config, String bootstrapServers, String tier) {
        String address = config.get(ConfigKeys.TIER_CYRUS_ADDRESS, tier);
        int colon = address.lastIndexOf(':');
        if (colon <= 0) throw new io.mailstream.core.config.ConfigException("tier." + tier + ".cyrus.address: expected host:port, got '" + address + "'");
        CsyncClientConfig csync = CsyncClientConfig.of(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)),
                        config.get(ConfigKeys.TIER_CYRUS_USER, tier), config.get(ConfigKeys.TIER_CYRUS_PASSWORD, tier))
                // Cyrus 3.6 keeps sieve scripts in a user.X.#sieve mailbox (type f), which a replica
                // accepts only after APPLY CAPABILITIES (SIEVE-MAILBOX); capture receives them that way.
                .withSieveMailbox(true)
                // One attempt per apply: the feed loop's ErrorPolicy backs off and retries the batch.
                .withBackoff(Duration.ofMillis(100), Duration.ofSeconds(1), 1);
        return new CyrusTarget(tier, csync, config.get(ConfigKeys.TIER_CYRUS_PARTITION, tier),
                config.dataDir().resolve("sink-" + tier).resolve("spool"), new CanonicalStates(bootstrapServers),
                new ContentTopic(bootstrapServers));
    }

    @Override
    public Applied apply(String partitionKey, List<ChangeEvent> events) throws Exception {
        UserView view = views.computeIfAbsent(partitionKey, k -> new UserView());
        CsyncClient session = idle.pollFirst();
        if (session == null) session = CsyncClient.connect(csync);
        boolean healthy = false;
        try {
            Map<String, Long> crcs = apply(view, spool(view, partitionKey), new ReplicaWriter(session, partition), events);
            healthy = true;
            return new Applied(crcs);
        } catch (IOException e) {
            // The session is dropped below; the sink retries after a back-off. The feed delivers
            // these events again, so open changes are folded anew rather than kept (a change begun
            // in an earlier apply then lacks records: the replica answers CHECKSUM and the push
            // repairs from mailstream.state).
            view.open.clear();
            throw e;
        } catch (Exception e) {
            healthy = true; // a NO from the replica leaves the session usable
            view.open.clear();
            throw e;
        } finally {
            if (healthy) idle.addFirst(session);
            else session.close();
            release(partitionKey, view);
        }
    }

    private Map<String, Long> apply(UserView view, MessageSpool spool, ReplicaWriter writer, List<ChangeEvent> events) throws Exception {
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
                ReplicaWriter.Pushed pushed = writer.push(change, bodies, states::mailbox);
                if (pushed.syncCrc() != 0) crcs.put(pushed.uniqueId(), pushed.syncCrc());
                // The replica holds this change now: neither its records nor its bodies are needed again.
                view.open.remove(header.getUniqueId());
                Set<String> guids = change.getRecords().stream().map(MessageRecord::getGuid).collect(Collectors.toSet());
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
                LOG.warn("tier {}: {} bodies missing on the replica and in the spool; {} found in {}", tier, absent.size(),
                        found.size(), Topics.STREAMS_CONTENT);
                if (found.size() < absent.size()) {
                    List<String> lost = absent.stream().filter(g -> !found.contains(g)).toList();
                    LOG.error("tier {}: bodies {} are on neither the replica, the spool nor {}", tier, lost, Topics.STREAMS_CONTENT);
                }
            }
        };
    }

    private MessageSpool spool(UserView view, String partitionKey) throws IOException {
        if (view.spool == null) {
            view.spool = new MessageSpool(spoolRoot.resolve(HexFormat.of().formatHex(partitionKey.getBytes(StandardCharsets.UTF_8))));
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
        for (CsyncClient c; (c = idle.pollFirst()) != null; ) c.close();
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
            String key = StateFold.stateKey(event);
            if (key == null || !key.startsWith(StateFold.mailboxKey(""))) return;
            String uniqueId = key.substring(StateFold.mailboxKey("").length());
            if (payload instanceof MailboxDelete) {
                open.remove(uniqueId);
            } else if (payload instanceof RecordsUpsert || payload instanceof MailboxUpsert || open.containsKey(uniqueId)) {
                open.put(uniqueId, StateFold.applyToMailbox(open.get(uniqueId), event));
            }
        }
    }
}
