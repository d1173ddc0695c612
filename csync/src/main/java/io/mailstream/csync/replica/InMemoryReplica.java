package io.mailstream.csync.replica;

import io.mailstream.csync.crc.SyncCrc;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncCommand.*;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.csync.model.SeenEntry;
import io.mailstream.csync.model.SieveEntry;
import io.mailstream.csync.server.CsyncHandlerFactory;
import io.mailstream.csync.server.CsyncSessionHandler;
import io.mailstream.csync.server.SessionInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A csync receiver with the semantics of a Cyrus 3.6 replica (spec 3), kept in memory: the
 * state and its checks are a {@link ReplicaState} that echoes mailbox headers exactly as
 * received (minus RECORD and SINCE_*), unknown keys included; this class adds what a replica
 * does with message bodies (RESERVE/MESSAGE staging per session, stored bodies, GET FETCH) and
 * commits an APPLY MAILBOX whose CRCs disagree before answering SYNC_CHECKSUM, as Cyrus does.
 * Thread-safe: bodies and compound changes are guarded by the state's monitor; the read
 * accessors return immutable snapshots.
 */
public final class InMemoryReplica implements CsyncHandlerFactory {
    private static final Logger LOG = LoggerFactory.getLogger(InMemoryReplica.class);

    private final ReplicaState state = new ReplicaState(ReplicaState.CrcReport.AS_RECEIVED);
    private final Map<Guid, byte[]> bodies = new HashMap<>();
    private boolean force;

    @Override
    public CsyncSessionHandler openSession(SessionInfo session) {
        return new Session(session);
    }

    // ---- read access (snapshots) -------------------------------------------------------------

    /** Header of the mailbox with that name, as last received (no RECORD). */
    public Optional<Mailbox> mailbox(String name) {
        return state.mailbox(name);
    }

    public Optional<Mailbox> mailboxByUniqueId(String uniqueId) {
        return state.mailboxByUniqueId(uniqueId);
    }

    /** Every stored mailbox header, intermediates and tombstones included. */
    public List<Mailbox> mailboxes() {
        return state.mailboxes();
    }

    /** Record index of a mailbox by uniqueid, ascending UID, expunged records included. */
    public List<MessageRecord> records(String uniqueId) {
        return state.records(uniqueId);
    }

    /** The replica's own CRCs of a mailbox, computed from its records. */
    public Optional<SyncCrc.Pair> crcs(String uniqueId) {
        return state.crcs(uniqueId);
    }

    public Optional<byte[]> body(Guid guid) {
        synchronized (state) {
            return Optional.ofNullable(bodies.get(guid)).map(byte[]::clone);
        }
    }

    public Set<Guid> bodyGuids() {
        synchronized (state) {
            return Set.copyOf(bodies.keySet());
        }
    }

    /** Users that own at least one stored mailbox. */
    public Set<String> users() {
        return state.users();
    }

    /** Seen entries of a user by mailbox uniqueid (reply form, no USERID). */
    public Map<String, SeenEntry> seen(String userId) {
        return state.seen(userId);
    }

    public Set<String> subscriptions(String userId) {
        return state.subscriptions(userId);
    }

    /** Sieve scripts of a user by file name ({@code <name>.script}). */
    public Map<String, byte[]> sieveScripts(String userId) {
        return state.sieveScripts(userId);
    }

    /** Name (without extension) of the user's active script. */
    public Optional<String> activeSieve(String userId) {
        return state.activeSieve(userId);
    }

    public Optional<QuotaRoot> quota(String root) {
        return state.quota(root);
    }

    /** Server-level annotations (APPLY ANNOTATION with MBOXNAME ""). */
    public List<Annotation> serverAnnotations() {
        return state.serverAnnotations();
    }

    public boolean isForced() {
        synchronized (state) {
            return force;
        }
    }

    /** One csync session: its staging area; GETs and APPLY checks are the state's. */
    private final class Session extends ReplicaSession {
        private final SessionInfo info;
        private final Map<Guid, byte[]> staged = new HashMap<>();

        Session(SessionInfo info) {
            super(state);
            this.info = info;
        }

        @Override
        public void restart() {
            staged.clear();
        }

        @Override
        public void close() {
            staged.clear();
        }

        @Override
        public void force() {
            synchronized (state) {
                force = true;
            }
        }

        // ---- GET: bodies and scripts ----

        @Override
        public MessageFile getFetch(GetFetch cmd) throws CsyncException {
            synchronized (state) {
                byte[] body = bodies.get(cmd.guid());
                if (body == null) {
                    throw new CsyncException(CsyncError.MAILBOX_NONEXISTENT, "no message " + cmd.guid());
                }
                return new MessageFile(cmd.partition(), cmd.guid(), MessageBody.of(body));
            }
        }

        @Override
        public SieveEntry getFetchSieve(GetFetchSieve cmd) throws CsyncException {
            return state.sieveScript(cmd.userId(), cmd.fileName());
        }

        // ---- APPLY: messages ----

        @Override
        public List<Guid> reserve(ApplyReserve cmd) {
            synchronized (state) {
                List<Guid> missing = new ArrayList<>();
                for (Guid g : cmd.guids()) {
                    byte[] stored = bodies.get(g);
                    if (stored != null) {
                        staged.put(g, stored);
                    } else if (!staged.containsKey(g)) {
                        missing.add(g);
                    }
                }
                return missing;
            }
        }

        @Override
        public void message(ApplyMessage cmd) throws CsyncException {
            for (MessageFile f : cmd.files()) {
                if (!f.guidMatchesBody()) {
                    throw new CsyncException(
                            CsyncError.IOERROR, "GUID " + f.guid() + " does not match the message bytes");
                }
            }
            for (MessageFile f : cmd.files()) {
                staged.put(f.guid(), f.body().readAllBytes());
            }
        }

        // ---- APPLY: state changes ----

        @Override
        protected void commit(CsyncCommand command) throws CsyncException {
            if (command instanceof ApplyMailbox a) {
                Mailbox m = a.mailbox();
                // A session-level refusal, so it is ours and not the state's: the capability is per connection.
                if (!m.isHeaderOnly() && m.mboxType().contains("f") && !sieveMailbox()) {
                    throw new CsyncException(CsyncError.MAILBOX_NOTSUPPORTED, "#sieve mailbox without SIEVE-MAILBOX");
                }
            }
            synchronized (state) {
                Set<Guid> incoming = state.check(command, force, g -> staged.containsKey(g) || bodies.containsKey(g));
                boolean crcsMatch = !(command instanceof ApplyMailbox a) || state.crcsMatchAfter(a.mailbox());
                state.apply(command);
                for (Guid g : incoming) {
                    byte[] body = staged.containsKey(g) ? staged.get(g) : bodies.get(g);
                    if (body != null) {
                        bodies.put(g, body);
                    }
                }
                // Step 7: the master's CRCs against ours; like Cyrus, the change stays committed either way.
                if (!crcsMatch) {
                    Mailbox m = ((ApplyMailbox) command).mailbox();
                    LOG.info(
                            "{}: CRC mismatch after apply: ours {} master {}/{}",
                            m.name(),
                            state.crcs(m.uniqueId()).orElseThrow(),
                            m.syncCrc(),
                            m.syncCrcAnnot());
                    throw new CsyncException(CsyncError.SYNC_CHECKSUM, "CRC mismatch on " + m.name());
                }
            }
            if (command instanceof ApplyUnuser u) {
                LOG.debug("session {}: removed user {}", info.sessionId(), u.userId());
            }
        }
    }
}
