package io.mailstream.producers.capture;

import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.CsyncCommand.*;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.csync.server.CsyncSessionHandler;
import io.mailstream.csync.server.SessionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One csync connection from the primary's sync_client: answers GETs from the shadow, stages
 * APPLY MESSAGE bodies in its own directory until RESTART (as a replica's {@code sync./<pid>}),
 * and hands every state-changing APPLY to {@link Capture#commit}.
 */
final class CaptureSession implements CsyncSessionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureSession.class);

    private final Capture capture;
    private final SessionInfo info;
    private final Path staging;
    private final Map<Guid, MessageFile> staged = new HashMap<>();
    private boolean sieveMailbox;

    CaptureSession(Capture capture, SessionInfo info, Path staging) {
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
    public void enabled(Set<String> capabilities) {
        sieveMailbox = capabilities.contains("SIEVE-MAILBOX");
    }

    @Override
    public void force() {
        LOG.info("session {}: APPLY FORCE (sync_client -O)", info.sessionId());
        capture.setForce();
    }

    // ---- GET: from the shadow ----

    @Override
    public List<CsyncReply> getUser(GetUser cmd) throws CsyncException {
        return capture.read(s -> s.user(cmd.userId(), sieveMailbox));
    }

    @Override
    public List<Mailbox> getMailboxes(GetMailboxes cmd) throws CsyncException {
        return capture.read(s -> cmd.names().stream().flatMap(n -> s.mailbox(n).stream())
                .filter(m -> !m.isTombstone()).toList());
    }

    @Override
    public List<Mailbox> getUniqueIds(GetUniqueIds cmd) throws CsyncException {
        return capture.read(s -> cmd.uniqueIds().stream().flatMap(id -> s.mailboxByUniqueId(id).stream())
                .filter(m -> !m.isTombstone()).toList());
    }

    @Override
    public Mailbox getFullMailbox(GetFullMailbox cmd) throws CsyncException {
        return capture.read(s -> s.fullMailbox(cmd.name()));
    }

    @Override
    public List<CsyncReply> getMeta(GetMeta cmd) throws CsyncException {
        return capture.read(s -> s.meta(cmd.userId(), sieveMailbox));
    }

    @Override
    public Optional<QuotaRoot> getQuota(GetQuota cmd) throws CsyncException {
        return capture.read(s -> s.quota(cmd.root()));
    }

    @Override
    public List<Annotation> getAnnotation(GetAnnotation cmd) throws CsyncException {
        return capture.read(s -> s.annotations(cmd.mboxName()));
    }

    // GET FETCH stays unsupported: capture keeps no bodies, and with sync_client -O the master never copies back.

    // ---- APPLY: staging ----

    @Override
    public List<Guid> reserve(ApplyReserve cmd) {
        capture.count("RESERVE");
        Set<Guid> held = capture.heldGuids(cmd.mboxNames());
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
        try {
            Files.createDirectories(staging);
            for (MessageFile f : cmd.files()) {
                if (!f.guidMatchesBody()) {
                    throw new CsyncException(CsyncError.IOERROR, "GUID " + f.guid() + " does not match the message bytes");
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
    public void mailbox(ApplyMailbox cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void unmailbox(ApplyUnmailbox cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void rename(ApplyRename cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void expunge(ApplyExpunge cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void seen(ApplySeen cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void sub(ApplySub cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void unsub(ApplyUnsub cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void quota(ApplyQuota cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void unquota(ApplyUnquota cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void annotation(ApplyAnnotation cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void unannotation(ApplyUnannotation cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void sieve(ApplySieve cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void unsieve(ApplyUnsieve cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void activateSieve(ApplyActivateSieve cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void unactivateSieve(ApplyUnactivateSieve cmd) throws CsyncException {
        capture.commit(cmd, this);
    }

    @Override
    public void unuser(ApplyUnuser cmd) throws CsyncException {
        capture.commit(cmd, this);
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
