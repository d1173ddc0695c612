package io.mailstream.csync.server;

import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.CsyncCommand.ApplyActivateSieve;
import io.mailstream.csync.model.CsyncCommand.ApplyAnnotation;
import io.mailstream.csync.model.CsyncCommand.ApplyExpunge;
import io.mailstream.csync.model.CsyncCommand.ApplyMailbox;
import io.mailstream.csync.model.CsyncCommand.ApplyMessage;
import io.mailstream.csync.model.CsyncCommand.ApplyQuota;
import io.mailstream.csync.model.CsyncCommand.ApplyRename;
import io.mailstream.csync.model.CsyncCommand.ApplyReserve;
import io.mailstream.csync.model.CsyncCommand.ApplySeen;
import io.mailstream.csync.model.CsyncCommand.ApplySieve;
import io.mailstream.csync.model.CsyncCommand.ApplySub;
import io.mailstream.csync.model.CsyncCommand.ApplyUnactivateSieve;
import io.mailstream.csync.model.CsyncCommand.ApplyUnannotation;
import io.mailstream.csync.model.CsyncCommand.ApplyUnmailbox;
import io.mailstream.csync.model.CsyncCommand.ApplyUnquota;
import io.mailstream.csync.model.CsyncCommand.ApplyUnsieve;
import io.mailstream.csync.model.CsyncCommand.ApplyUnsub;
import io.mailstream.csync.model.CsyncCommand.ApplyUnuser;
import io.mailstream.csync.model.CsyncCommand.GetAnnotation;
import io.mailstream.csync.model.CsyncCommand.GetFetch;
import io.mailstream.csync.model.CsyncCommand.GetFetchSieve;
import io.mailstream.csync.model.CsyncCommand.GetFullMailbox;
import io.mailstream.csync.model.CsyncCommand.GetMailboxes;
import io.mailstream.csync.model.CsyncCommand.GetMeta;
import io.mailstream.csync.model.CsyncCommand.GetQuota;
import io.mailstream.csync.model.CsyncCommand.GetUniqueIds;
import io.mailstream.csync.model.CsyncCommand.GetUser;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.csync.model.SieveEntry;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Receiver side of one csync session: one method per GET/APPLY command (spec 3). The server
 * calls them one at a time from the session thread, answers {@code OK success} when a method
 * returns, and {@code NO <code> <text>} when it throws {@link CsyncException}. Any other
 * exception becomes {@code NO IMAP_IOERROR ...} and the session goes on. To make Cyrus retry
 * later (e.g. Kafka unavailable) throw {@code new CsyncException(CsyncError.AGAIN, ...)}.
 *
 * <p>Every method has a default that refuses the command with IMAP_PROTOCOL_ERROR, so a
 * receiver implements only what it supports.
 */
public interface CsyncSessionHandler extends AutoCloseable {

    private static CsyncException unsupported(String what) {
        return new CsyncException(CsyncError.PROTOCOL_ERROR, what + " is not supported");
    }

    /** {@code * MAILBOX} (no RECORD) for each of the user's mailboxes, then QUOTA, SEEN, LSUB, SIEVE. */
    default List<CsyncReply> getUser(GetUser cmd) throws CsyncException {
        throw unsupported("GET USER");
    }

    /** Existing mailboxes among the names, headers only; unknown names are skipped. */
    default List<Mailbox> getMailboxes(GetMailboxes cmd) throws CsyncException {
        throw unsupported("GET MAILBOXES");
    }

    default List<Mailbox> getUniqueIds(GetUniqueIds cmd) throws CsyncException {
        throw unsupported("GET UNIQUEIDS");
    }

    /** The mailbox with RECORD listing every index record. */
    default Mailbox getFullMailbox(GetFullMailbox cmd) throws CsyncException {
        throw unsupported("GET FULLMAILBOX");
    }

    /** SEEN, LSUB and SIEVE replies of a user. */
    default List<CsyncReply> getMeta(GetMeta cmd) throws CsyncException {
        throw unsupported("GET META");
    }

    default Optional<QuotaRoot> getQuota(GetQuota cmd) throws CsyncException {
        throw unsupported("GET QUOTA");
    }

    /** Mailbox-level (or, for {@code ""}, server) annotations, each with MBOXNAME set. */
    default List<Annotation> getAnnotation(GetAnnotation cmd) throws CsyncException {
        throw unsupported("GET ANNOTATION");
    }

    default MessageFile getFetch(GetFetch cmd) throws CsyncException {
        throw unsupported("GET FETCH");
    }

    default SieveEntry getFetchSieve(GetFetchSieve cmd) throws CsyncException {
        throw unsupported("GET FETCH_SIEVE");
    }

    /** Returns the GUIDs that are neither staged in this session nor stored (the {@code * MISSING} list). */
    default List<Guid> reserve(ApplyReserve cmd) throws CsyncException {
        throw unsupported("APPLY RESERVE");
    }

    /** Stage bodies for this session. The bodies are deleted when the method returns: copy them. */
    default void message(ApplyMessage cmd) throws CsyncException {
        throw unsupported("APPLY MESSAGE");
    }

    default void mailbox(ApplyMailbox cmd) throws CsyncException {
        throw unsupported("APPLY MAILBOX");
    }

    /** Nonexistent mailbox: throw MAILBOX_NONEXISTENT (the client treats that as success). */
    default void unmailbox(ApplyUnmailbox cmd) throws CsyncException {
        throw unsupported("APPLY UNMAILBOX");
    }

    default void rename(ApplyRename cmd) throws CsyncException {
        throw unsupported("APPLY RENAME");
    }

    default void expunge(ApplyExpunge cmd) throws CsyncException {
        throw unsupported("APPLY EXPUNGE");
    }

    default void seen(ApplySeen cmd) throws CsyncException {
        throw unsupported("APPLY SEEN");
    }

    default void sub(ApplySub cmd) throws CsyncException {
        throw unsupported("APPLY SUB");
    }

    default void unsub(ApplyUnsub cmd) throws CsyncException {
        throw unsupported("APPLY UNSUB");
    }

    default void quota(ApplyQuota cmd) throws CsyncException {
        throw unsupported("APPLY QUOTA");
    }

    default void unquota(ApplyUnquota cmd) throws CsyncException {
        throw unsupported("APPLY UNQUOTA");
    }

    default void annotation(ApplyAnnotation cmd) throws CsyncException {
        throw unsupported("APPLY ANNOTATION");
    }

    default void unannotation(ApplyUnannotation cmd) throws CsyncException {
        throw unsupported("APPLY UNANNOTATION");
    }

    default void sieve(ApplySieve cmd) throws CsyncException {
        throw unsupported("APPLY SIEVE");
    }

    default void unsieve(ApplyUnsieve cmd) throws CsyncException {
        throw unsupported("APPLY UNSIEVE");
    }

    default void activateSieve(ApplyActivateSieve cmd) throws CsyncException {
        throw unsupported("APPLY ACTIVATE_SIEVE");
    }

    default void unactivateSieve(ApplyUnactivateSieve cmd) throws CsyncException {
        throw unsupported("APPLY UNACTIVATE_SIEVE");
    }

    default void unuser(ApplyUnuser cmd) throws CsyncException {
        throw unsupported("APPLY UNUSER");
    }

    /** APPLY FORCE ({@code sync_client -O}). */
    default void force() throws CsyncException {
        throw unsupported("APPLY FORCE");
    }

    /** Capabilities the client enabled with APPLY CAPABILITIES (only ones the server offers). */
    default void enabled(Set<String> capabilities) {}

    /** RESTART: discard everything staged in this session. */
    void restart();

    /** End of session (EXIT, disconnect, server stop): discard staging, release resources. */
    @Override
    void close();
}
