package io.mailstream.sinks;

import io.mailstream.bridge.apply.EventCommands;
import io.mailstream.bridge.apply.MessageSpool;
import io.mailstream.bridge.apply.RepairSource;
import io.mailstream.bridge.apply.ReplicaWriter;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.state.StateFold;
import io.mailstream.csync.client.CsyncClient;
import io.mailstream.csync.client.CsyncClientConfig;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.UserDelete;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
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
 * ({@link StateFold}) into the user's view, and each header (the commit point of one APPLY
 * MAILBOX upstream) pushes that mailbox with {@link ReplicaWriter}, as Cyrus's own client would.
 * The other events are their own APPLY commands. Returns only when the replica said OK to all.
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
    private final RepairSource repair;
    private final AutoCloseable repairResource;
    private final LinkedBlockingDeque<CsyncClient> idle = new LinkedBlockingDeque<>();
    private final Map<String, UserView> views = new ConcurrentHashMap<>();

    CyrusTarget(String tier, CsyncClientConfig csync, String partition, Path spoolRoot, RepairSource repair, AutoCloseable repairResource) {
        this.tier = tier;
        this.csync = csync;
        this.partition = partition;
        this.spoolRoot = spoolRoot;
        this.repair = repair;
        this.repairResource = repairResource;
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
        CanonicalStates states = new CanonicalStates(bootstrapServers);
        return new CyrusTarget(tier, csync, config.get(ConfigKeys.TIER_CYRUS_PARTITION, tier),
                config.dataDir().resolve("sink-" + tier).resolve("spool"), states::mailbox, states);
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
            throw e; // the session is dropped below; the sink retries after a back-off
        } catch (Exception e) {
            healthy = true; // a NO from the replica leaves the session usable
            throw e;
        } finally {
            if (healthy) idle.addFirst(session);
            else session.close();
        }
    }

    private Map<String, Long> apply(UserView view, MessageSpool spool, ReplicaWriter writer, List<ChangeEvent> events) throws Exception {
        Map<String, Long> crcs = new HashMap<>();
        for (ChangeEvent event : events) {
            Object payload = event.getPayload();
            if (payload instanceof MessageContent chunk) {
                spool.accept(chunk);
                continue;
            }
            String key = StateFold.stateKey(event);
            if (key != null && key.startsWith(StateFold.mailboxKey(""))) view.fold(event);
            if (payload instanceof MailboxUpsert header) {
                MailboxState state = view.mailboxes.get(header.getUniqueId());
                ReplicaWriter.Pushed pushed = writer.push(state, view.names(), spool, repair);
                if (pushed.syncCrc() != 0) crcs.put(pushed.uniqueId(), pushed.syncCrc());
                Set<String> guids = state.getRecords().stream().map(MessageRecord::getGuid).collect(Collectors.toSet());
                for (String guid : spool.spooled()) {
                    if (guids.contains(guid)) spool.release(guid);
                }
                continue;
            }
            Optional<CsyncCommand> command = EventCommands.forPayload(payload, partition);
            if (command.isEmpty()) continue; // RecordsUpsert: folded, pushed with its header
            writer.apply(command.get());
            if (payload instanceof UserDelete || payload instanceof MailboxDelete) view.forget(payload);
        }
        return crcs;
    }

    private MessageSpool spool(UserView view, String partitionKey) throws IOException {
        if (view.spool == null) {
            view.spool = new MessageSpool(spoolRoot.resolve(HexFormat.of().formatHex(partitionKey.getBytes(StandardCharsets.UTF_8))));
        }
        return view.spool;
    }

    /** What the sink holds between applies: users with a view, mailboxes folded in them, their records. */
    record Retained(int users, int mailboxes, long records) {}

    Retained retained() {
        int mailboxes = 0;
        long records = 0;
        for (UserView v : views.values()) {
            synchronized (v) {
                mailboxes += v.mailboxes.size();
                for (MailboxState m : v.mailboxes.values()) records += m.getRecords().size();
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
        repairResource.close();
        LOG.info("tier {}: Cyrus sink closed", tier);
    }

    /**
     * What the sink knows of one user's mailboxes: the fold of the feed events it has seen since it
     * started. Deltas need no more (everything before the committed offset is on the replica);
     * a full update completes it from the canonical state.
     */
    private static final class UserView {
        final Map<String, MailboxState> mailboxes = new HashMap<>();
        MessageSpool spool;

        void fold(ChangeEvent event) {
            String uniqueId = StateFold.stateKey(event).substring(StateFold.mailboxKey("").length());
            mailboxes.put(uniqueId, StateFold.applyToMailbox(mailboxes.get(uniqueId), event));
        }

        /** Where the replica may find bodies already: every live mailbox of the user this sink knows. */
        List<String> names() {
            return mailboxes.values().stream().filter(m -> m.getHeader() != null && !m.getDeleted())
                    .map(m -> m.getHeader().getName()).sorted().toList();
        }

        void forget(Object payload) {
            if (payload instanceof MailboxDelete d) mailboxes.remove(d.getUniqueId());
            else mailboxes.clear();
        }
    }
}
