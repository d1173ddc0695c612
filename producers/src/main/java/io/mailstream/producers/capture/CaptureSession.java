package io.mailstream.producers.capture;

import io.mailstream.bridge.capture.PartitionKeys;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncCommand.ApplyMessage;
import io.mailstream.csync.model.CsyncCommand.ApplyReserve;
import io.mailstream.csync.model.CsyncCommand.GetMailboxes;
import io.mailstream.csync.model.CsyncCommand.GetUser;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.replica.ReplicaSession;
import io.mailstream.csync.replica.ReplicaState;
import io.mailstream.csync.server.SessionInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One csync connection from the primary's sync_client: answers GETs from the shadow (as
 * {@link ReplicaSession} does), stages APPLY MESSAGE bodies in its own directory until RESTART
 * (as a replica's {@code sync./<pid>}), and hands every state-changing APPLY to {@link Capture#commit}.
 */
final class CaptureSession extends ReplicaSession {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureSession.class);

    private final Capture capture;
    private final SessionInfo info;
    private final Path staging;
    private final Map<Guid, MessageFile> staged = new HashMap<>();
    /** Partition keys of the mailboxes the current batch asked about (GET USER, GET MAILBOXES). */
    private final Set<String> batchKeys = new HashSet<>();

    private boolean reserved;

    CaptureSession(Capture capture, ReplicaState shadow, SessionInfo info, Path staging) {
        super(shadow);
        this.capture = capture;
        this.info = info;
        this.staging = staging;
    }

    boolean isStaged(Guid guid) {
        return staged.containsKey(guid);
    }

    Optional<MessageFile> staged(Guid guid) {
        return Optional.ofNullable(staged.get(guid));
    }

    @Override
    public void force() {
        LOG.info("session {}: APPLY FORCE (sync_client -O)", info.sessionId());
        capture.setForce();
    }

    // GET FETCH stays unsupported: capture keeps no bodies, and with sync_client -O the master never copies back.

    // ---- GET: which partition keys the next RESERVE's bodies may go to ----

    @Override
    public List<CsyncReply> getUser(GetUser cmd) {
        batchKey(cmd.userId());
        return super.getUser(cmd);
    }

    @Override
    public List<Mailbox> getMailboxes(GetMailboxes cmd) {
        cmd.names().forEach(name -> batchKey(PartitionKeys.ofMailbox(name)));
        return super.getMailboxes(cmd);
    }

    /**
     * sync_client asks for every mailbox of a batch before its RESERVE, but lists in RESERVE only
     * those the replica has: a folder new to the batch is missing there. The keys of a batch
     * start with the first GET after a RESERVE.
     */
    private void batchKey(String partitionKey) {
        if (reserved) {
            batchKeys.clear();
            reserved = false;
        }
        batchKeys.add(partitionKey);
    }

    // ---- APPLY: staging ----

    @Override
    public List<Guid> reserve(ApplyReserve cmd) throws CsyncException {
        capture.count("RESERVE");
        capture.requirePrimary();
        Set<String> keys = new HashSet<>(batchKeys);
        cmd.mboxNames().forEach(name -> keys.add(PartitionKeys.ofMailbox(name)));
        reserved = true;
        Set<Guid> held = capture.heldUnderEvery(keys);
        List<Guid> missing = new ArrayList<>();
        for (Guid g : cmd.guids()) {
            if (!held.contains(g) && !staged.containsKey(g)) {
                missing.add(g);
            }
        }
        return missing;
    }

    @Override
    public void message(ApplyMessage cmd) throws CsyncException {
        capture.count("MESSAGE");
        capture.requirePrimary(); // a capture that is not the primary's stages nothing either
        try {
            Files.createDirectories(staging);
            for (MessageFile f : cmd.files()) {
                if (!f.guidMatchesBody()) {
                    throw new CsyncException(
                            CsyncError.IOERROR, "GUID " + f.guid() + " does not match the message bytes");
                }
                Path file = staging.resolve(f.guid().hex());
                try (InputStream in = f.body().open()) {
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
                staged.put(f.guid(), new MessageFile(f.partition(), f.guid(), MessageBody.ofFile(file)));
            }
        } catch (IOException e) {
            throw new CsyncException(CsyncError.IOERROR, "cannot stage message: " + e.getMessage(), e);
        }
    }

    // ---- APPLY: state changes ----

    @Override
    protected void commit(CsyncCommand command) throws CsyncException {
        capture.commit(command, this);
    }

    // ---- lifecycle ----

    @Override
    public void restart() {
        dropStaged();
    }

    @Override
    public void close() {
        dropStaged();
        capture.sessionClosed();
    }

    private void dropStaged() {
        staged.clear();
        try {
            Capture.deleteTree(staging);
        } catch (IOException e) {
            LOG.warn("session {}: cannot delete staged bodies in {}: {}", info.sessionId(), staging, e.toString());
        }
    }
}
