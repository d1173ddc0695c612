package io.mailstream.csync.replica;

import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncCommand.*;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.csync.server.CsyncSessionHandler;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A csync session of a receiver that keeps a {@link ReplicaState}: the GETs are answered from
 * it, and every state-changing APPLY goes to {@link #commit}, where the receiver decides what
 * happens between {@link ReplicaState#check} and {@link ReplicaState#apply}. Message staging
 * (RESERVE, MESSAGE) and the lifecycle stay with the receiver: where bodies go differs.
 */
public abstract class ReplicaSession implements CsyncSessionHandler {
    private final ReplicaState state;
    private boolean sieveMailbox;

    protected ReplicaSession(ReplicaState state) {
        this.state = state;
    }

    /** Whether the client enabled SIEVE-MAILBOX: then scripts travel as the #sieve mailbox, not as SIEVE lines. */
    protected final boolean sieveMailbox() {
        return sieveMailbox;
    }

    /** Checks, then applies (with whatever the receiver does in between); throws to answer NO. */
    protected abstract void commit(CsyncCommand command) throws CsyncException;

    @Override
    public void enabled(Set<String> capabilities) {
        sieveMailbox = capabilities.contains("SIEVE-MAILBOX");
    }

    // ---- GET ----

    @Override
    public List<CsyncReply> getUser(GetUser cmd) {
        return state.user(cmd.userId(), sieveMailbox);
    }

    @Override
    public List<Mailbox> getMailboxes(GetMailboxes cmd) {
        return state.mailboxesNamed(cmd.names());
    }

    @Override
    public List<Mailbox> getUniqueIds(GetUniqueIds cmd) {
        return state.mailboxesWithUniqueIds(cmd.uniqueIds());
    }

    @Override
    public Mailbox getFullMailbox(GetFullMailbox cmd) throws CsyncException {
        return state.fullMailbox(cmd.name());
    }

    @Override
    public List<CsyncReply> getMeta(GetMeta cmd) {
        return state.meta(cmd.userId(), sieveMailbox);
    }

    @Override
    public Optional<QuotaRoot> getQuota(GetQuota cmd) {
        return state.quota(cmd.root());
    }

    @Override
    public List<Annotation> getAnnotation(GetAnnotation cmd) throws CsyncException {
        return state.annotations(cmd.mboxName());
    }

    // ---- APPLY: state changes ----

    @Override
    public void mailbox(ApplyMailbox cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void unmailbox(ApplyUnmailbox cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void rename(ApplyRename cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void expunge(ApplyExpunge cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void seen(ApplySeen cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void sub(ApplySub cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void unsub(ApplyUnsub cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void quota(ApplyQuota cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void unquota(ApplyUnquota cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void annotation(ApplyAnnotation cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void unannotation(ApplyUnannotation cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void sieve(ApplySieve cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void unsieve(ApplyUnsieve cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void activateSieve(ApplyActivateSieve cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void unactivateSieve(ApplyUnactivateSieve cmd) throws CsyncException {
        commit(cmd);
    }

    @Override
    public void unuser(ApplyUnuser cmd) throws CsyncException {
        commit(cmd);
    }
}
