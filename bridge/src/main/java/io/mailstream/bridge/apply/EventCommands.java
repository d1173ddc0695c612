package io.mailstream.bridge.apply;

import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.csync.model.SeenEntry;
import io.mailstream.csync.model.SieveEntry;
import io.mailstream.schemas.AnnotationDelete;
import io.mailstream.schemas.AnnotationUpsert;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.QuotaDelete;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.SeenUpsert;
import io.mailstream.schemas.SieveActivate;
import io.mailstream.schemas.SieveDeactivate;
import io.mailstream.schemas.SieveDelete;
import io.mailstream.schemas.SieveScriptState;
import io.mailstream.schemas.SieveUpsert;
import io.mailstream.schemas.Subscribe;
import io.mailstream.schemas.Unsubscribe;
import io.mailstream.schemas.UserDelete;
import io.mailstream.schemas.UserState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The APPLY command each standalone change event stands for, and the commands that assert a whole
 * user's non-mailbox state (seen, subscriptions, sieve, quotas, standalone annotations). Mailbox
 * contents (headers, records, bodies) are not here: they go through {@link ReplicaWriter}, batched as Cyrus does.
 */
public final class EventCommands {
    private EventCommands() {}

    /**
     * The command for one event's payload, or empty for payloads that are part of an APPLY MAILBOX
     * (MailboxUpsert, RecordsUpsert, MessageContent). {@code partition} is the replica's.
     */
    public static Optional<CsyncCommand> forPayload(Object payload, String partition) {
        CsyncCommand c;
        if (payload instanceof MailboxRename r) {
            c = new CsyncCommand.ApplyRename(
                    r.getOldName(),
                    r.getNewName(),
                    partition,
                    r.getUidValidity() > 0 ? r.getUidValidity() : null,
                    false);
        } else if (payload instanceof MailboxDelete d) {
            c = new CsyncCommand.ApplyUnmailbox(d.getName(), false);
        } else if (payload instanceof Expunge e) {
            c = new CsyncCommand.ApplyExpunge(e.getMailboxName(), e.getUniqueId(), e.getUids());
        } else if (payload instanceof SeenUpsert s) {
            c = seen(s);
        } else if (payload instanceof Subscribe s) {
            c = new CsyncCommand.ApplySub(s.getUserId(), s.getMailboxName());
        } else if (payload instanceof Unsubscribe u) {
            c = new CsyncCommand.ApplyUnsub(u.getUserId(), u.getMailboxName());
        } else if (payload instanceof SieveUpsert s) {
            c = new CsyncCommand.ApplySieve(SieveEntry.upload(
                    s.getUserId(), s.getFilename(), s.getLastUpdate(), MailboxTranslation.bytes(s.getContent())));
        } else if (payload instanceof SieveDelete d) {
            c = new CsyncCommand.ApplyUnsieve(d.getUserId(), d.getFilename());
        } else if (payload instanceof SieveActivate a) {
            c = activate(a.getUserId(), scriptName(a.getFilename()));
        } else if (payload instanceof SieveDeactivate d) {
            c = new CsyncCommand.ApplyUnactivateSieve(d.getUserId());
        } else if (payload instanceof QuotaUpsert q) {
            c = quota(q);
        } else if (payload instanceof QuotaDelete q) {
            c = new CsyncCommand.ApplyUnquota(q.getRoot());
        } else if (payload instanceof AnnotationUpsert a) {
            c = annotation(a);
        } else if (payload instanceof AnnotationDelete a) {
            c = new CsyncCommand.ApplyUnannotation(a.getMailboxName(), a.getEntry(), a.getUserId());
        } else if (payload instanceof UserDelete u) {
            c = new CsyncCommand.ApplyUnuser(u.getUserId(), false);
        } else {
            return Optional.empty();
        }
        return Optional.of(c);
    }

    /**
     * Commands that make a replica hold exactly {@code user}'s quotas, subscriptions, sieve scripts
     * (and active script), seen entries and standalone annotations, given what the replica reported
     * in GET USER: extras there are removed (except seen entries, which Cyrus never deletes either,
     * and annotations, which GET USER does not report).
     */
    public static List<CsyncCommand> forUser(UserState user, ReplicaUser replica) {
        String userId = user.getUserId();
        List<CsyncCommand> out = new ArrayList<>();
        for (QuotaUpsert q : user.getQuotas()) out.add(quota(q));
        for (String root : replica.quotaRoots()) {
            if (user.getQuotas().stream().noneMatch(q -> q.getRoot().equals(root)))
                out.add(new CsyncCommand.ApplyUnquota(root));
        }
        for (String name : user.getSubscriptions()) {
            if (!replica.subscriptions().contains(name)) out.add(new CsyncCommand.ApplySub(userId, name));
        }
        for (String name : replica.subscriptions()) {
            if (!user.getSubscriptions().contains(name)) out.add(new CsyncCommand.ApplyUnsub(userId, name));
        }
        for (SieveScriptState s : user.getSieveScripts()) {
            out.add(new CsyncCommand.ApplySieve(SieveEntry.upload(
                    userId, s.getFilename(), s.getLastUpdate(), MailboxTranslation.bytes(s.getContent()))));
        }
        for (String file : replica.sieveScripts()) {
            if (user.getSieveScripts().stream().noneMatch(s -> s.getFilename().equals(file))) {
                out.add(new CsyncCommand.ApplyUnsieve(userId, file));
            }
        }
        if (user.getActiveSieve() != null) out.add(activate(userId, user.getActiveSieve()));
        else if (replica.activeSieve().isPresent()) out.add(new CsyncCommand.ApplyUnactivateSieve(userId));
        for (SeenUpsert s : user.getSeen()) out.add(seen(s));
        for (AnnotationUpsert a : user.getAnnotations()) out.add(annotation(a));
        return out;
    }

    private static CsyncCommand seen(SeenUpsert s) {
        return new CsyncCommand.ApplySeen(SeenEntry.of(
                s.getUserId(), s.getUniqueId(), s.getLastRead(), s.getLastUid(), s.getLastChange(), s.getSeenUids()));
    }

    private static CsyncCommand annotation(AnnotationUpsert a) {
        return new CsyncCommand.ApplyAnnotation(Annotation.forMailbox(
                a.getMailboxName(), a.getEntry(), a.getUserId(), MailboxTranslation.bytes(a.getValue())));
    }

    /** ACTIVATE_SIEVE names the compiled file, {@code <name>.bc} (spec 3.2). */
    private static CsyncCommand activate(String userId, String scriptName) {
        return new CsyncCommand.ApplyActivateSieve(userId, scriptName + ".bc");
    }

    /** Events name a script {@code <name>.script} or {@code <name>.bc}, as Cyrus sent it. */
    private static String scriptName(String filename) {
        int dot = filename.lastIndexOf('.');
        return dot < 0 ? filename : filename.substring(0, dot);
    }

    private static CsyncCommand quota(QuotaUpsert q) {
        Long storage = q.getLimits().get(QuotaRoot.STORAGE);
        QuotaRoot root = QuotaRoot.of(q.getRoot(), storage, q.getModseq());
        for (Map.Entry<String, Long> limit : q.getLimits().entrySet()) {
            if (!limit.getKey().equals(QuotaRoot.STORAGE)) root = root.withLimit(limit.getKey(), limit.getValue());
        }
        return new CsyncCommand.ApplyQuota(root);
    }
}
