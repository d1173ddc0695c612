package io.mailstream.csync.server;

import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncCommand.*;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import java.util.List;

/** Routes a typed command to the matching handler method and wraps its result as reply lines. */
final class CommandDispatcher {
    private CommandDispatcher() {}

    static List<CsyncReply> dispatch(CsyncSessionHandler h, CsyncCommand c) throws CsyncException {
        if (c instanceof GetUser x) {
            return h.getUser(x);
        } else if (c instanceof GetMailboxes x) {
            return h.getMailboxes(x).stream()
                    .<CsyncReply>map(m -> new CsyncReply.MailboxReply(m.header()))
                    .toList();
        } else if (c instanceof GetUniqueIds x) {
            return h.getUniqueIds(x).stream()
                    .<CsyncReply>map(m -> new CsyncReply.MailboxReply(m.header()))
                    .toList();
        } else if (c instanceof GetFullMailbox x) {
            return List.of(new CsyncReply.MailboxReply(h.getFullMailbox(x)));
        } else if (c instanceof GetMeta x) {
            return h.getMeta(x);
        } else if (c instanceof GetQuota x) {
            return h.getQuota(x)
                    .<List<CsyncReply>>map(q -> List.of(new CsyncReply.QuotaReply(q)))
                    .orElse(List.of());
        } else if (c instanceof GetAnnotation x) {
            return h.getAnnotation(x).stream()
                    .<CsyncReply>map(CsyncReply.AnnotationReply::new)
                    .toList();
        } else if (c instanceof GetFetch x) {
            return List.of(new CsyncReply.MessageReply(h.getFetch(x)));
        } else if (c instanceof GetFetchSieve x) {
            return List.of(new CsyncReply.SieveReply(h.getFetchSieve(x)));
        } else if (c instanceof ApplyReserve x) {
            List<io.mailstream.csync.model.Guid> missing = h.reserve(x);
            return missing.isEmpty() ? List.of() : List.of(new CsyncReply.MissingReply(missing));
        } else if (c instanceof ApplyMessage x) {
            h.message(x);
        } else if (c instanceof ApplyMailbox x) {
            h.mailbox(x);
        } else if (c instanceof ApplyUnmailbox x) {
            h.unmailbox(x);
        } else if (c instanceof ApplyRename x) {
            h.rename(x);
        } else if (c instanceof ApplyExpunge x) {
            h.expunge(x);
        } else if (c instanceof ApplySeen x) {
            h.seen(x);
        } else if (c instanceof ApplySub x) {
            h.sub(x);
        } else if (c instanceof ApplyUnsub x) {
            h.unsub(x);
        } else if (c instanceof ApplyQuota x) {
            h.quota(x);
        } else if (c instanceof ApplyUnquota x) {
            h.unquota(x);
        } else if (c instanceof ApplyAnnotation x) {
            h.annotation(x);
        } else if (c instanceof ApplyUnannotation x) {
            h.unannotation(x);
        } else if (c instanceof ApplySieve x) {
            h.sieve(x);
        } else if (c instanceof ApplyUnsieve x) {
            h.unsieve(x);
        } else if (c instanceof ApplyActivateSieve x) {
            h.activateSieve(x);
        } else if (c instanceof ApplyUnactivateSieve x) {
            h.unactivateSieve(x);
        } else if (c instanceof ApplyUnuser x) {
            h.unuser(x);
        } else if (c instanceof ApplyForce) {
            h.force();
        } else {
            // ApplyCapabilities is answered by the session itself (it knows what was offered).
            throw new IllegalStateException("not dispatchable: " + c);
        }
        return List.of();
    }
}
