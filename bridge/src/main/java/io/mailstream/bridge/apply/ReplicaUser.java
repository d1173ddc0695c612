package io.mailstream.bridge.apply;

import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.Mailbox;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What a replica reported for a user in GET USER: its mailboxes and non-mailbox state. */
public record ReplicaUser(
        List<Mailbox> mailboxes,
        List<String> quotaRoots,
        List<String> subscriptions,
        List<String> sieveScripts,
        Optional<String> activeSieve) {

    public static ReplicaUser from(List<CsyncReply> replies) {
        List<Mailbox> mailboxes = new ArrayList<>();
        List<String> quotas = new ArrayList<>();
        List<String> subs = new ArrayList<>();
        List<String> scripts = new ArrayList<>();
        String active = null;
        for (CsyncReply r : replies) {
            if (r instanceof CsyncReply.MailboxReply m) mailboxes.add(m.mailbox());
            else if (r instanceof CsyncReply.QuotaReply q) quotas.add(q.quota().root());
            else if (r instanceof CsyncReply.LsubReply l) subs.addAll(l.mboxNames());
            else if (r instanceof CsyncReply.SieveReply s) {
                // Cyrus lists each <name>.script, plus <name>.bc marked ISACTIVE for the active one.
                String file = s.sieve().fileName();
                if (file.endsWith(".script")) scripts.add(file);
                if (s.sieve().isActive()) active = file.substring(0, file.lastIndexOf('.'));
            }
        }
        return new ReplicaUser(
                List.copyOf(mailboxes),
                List.copyOf(quotas),
                List.copyOf(subs),
                List.copyOf(scripts),
                Optional.ofNullable(active));
    }
}
