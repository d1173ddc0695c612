package io.mailstream.testkit;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Everything one user can see on a server, read over IMAP and ManageSieve without changing state (EXAMINE,
 * BODY.PEEK): per folder UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, ACL (or MYRIGHTS where the user may not read
 * the ACL), /private and /shared comments, quota roots; per message UID, FLAGS (without the session-only
 * \Recent), INTERNALDATE, size, MODSEQ and SHA-1 of the bytes; subscriptions; sieve scripts. Stored as a
 * sorted key -> value map so two snapshots compare with equals() and diff line by line.
 */
public final class ImapSnapshot {
    private static final String[] METADATA = {"/private/comment", "/shared/comment"};

    private final String label;
    private final SortedMap<String, String> entries;

    private ImapSnapshot(String label, SortedMap<String, String> entries) {
        this.label = label;
        this.entries = entries;
    }

    public static ImapSnapshot take(CyrusEndpoint server, String user) {
        SortedMap<String, String> e = new TreeMap<>();
        try (ImapClient c = server.imap(user)) {
            c.enable("CONDSTORE");
            for (ImapClient.ListEntry entry : c.list("", "*")) {
                if (hasAttribute(entry, "\\Noselect") || hasAttribute(entry, "\\NonExistent")) continue;
                folder(c, entry.name(), e);
            }
            for (ImapClient.ListEntry sub : c.lsub("", "*"))
                e.put("subscribed " + sub.name(), String.join(" ", sub.attributes()));
            c.getMetadata("", "/shared/comment").forEach((k, v) -> e.put("server metadata " + k, v));
            c.logout();
        }
        try (ManageSieveClient s = server.sieve(user)) {
            s.listScripts().forEach((name, active) -> {
                e.put("sieve " + name, s.getScript(name));
                e.put("sieve " + name + " active", active.toString());
            });
        }
        return new ImapSnapshot(user + "@" + server.host() + ":" + server.imapPort(), e);
    }

    private static void folder(ImapClient c, String name, SortedMap<String, String> e) {
        String f = "folder " + name + " ";
        ImapClient.MailboxInfo info = c.examine(name);
        e.put(f + "uidvalidity", "" + info.uidValidity());
        e.put(f + "uidnext", "" + info.uidNext());
        e.put(f + "highestmodseq", "" + info.highestModseq());
        e.put(f + "exists", "" + info.exists());
        ImapClient.Response acl = c.command("GETACL " + ImapClient.quote(name));
        e.put(
                f + (acl.ok() ? "acl" : "myrights"),
                acl.ok() ? new TreeMap<>(c.getAcl(name)).toString() : c.myRights(name));
        c.getMetadata(name, METADATA).forEach((k, v) -> e.put(f + "metadata " + k, v));
        c.getQuotaRoot(name).forEach((root, resources) -> {
            StringBuilder q = new StringBuilder();
            resources.forEach((res, v) -> q.append(res)
                    .append(' ')
                    .append(v[0])
                    .append('/')
                    .append(v[1])
                    .append(' '));
            e.put(f + "quotaroot " + root, q.toString().strip());
        });
        if (info.exists() > 0) {
            for (ImapClient.Message m : c.uidFetch("1:*")) {
                Set<String> flags = new TreeSet<>(m.flags());
                flags.remove("\\Recent");
                e.put(
                        f + "uid " + m.uid(),
                        "flags=" + flags + " internaldate=" + m.internalDate() + " size=" + m.size() + " modseq="
                                + m.modseq() + " sha1=" + sha1(m.body()));
            }
        }
    }

    private static boolean hasAttribute(ImapClient.ListEntry entry, String attribute) {
        return entry.attributes().stream().anyMatch(attribute::equalsIgnoreCase);
    }

    private static String sha1(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Map<String, String> entries() {
        return entries;
    }

    /** Human-readable differences ("- key: value" only here, "+ key: value" only there); empty when equal. */
    public List<String> diff(ImapSnapshot other) {
        List<String> out = new ArrayList<>();
        Set<String> keys = new TreeSet<>(entries.keySet());
        keys.addAll(other.entries.keySet());
        for (String k : keys) {
            String a = entries.get(k);
            String b = other.entries.get(k);
            if (a != null && a.equals(b)) continue;
            if (a != null) out.add("- " + k + ": " + a);
            if (b != null) out.add("+ " + k + ": " + b);
        }
        return out;
    }

    /** A failure message with the full diff, or null when equal. */
    public String describeDifferences(ImapSnapshot other) {
        List<String> d = diff(other);
        return d.isEmpty()
                ? null
                : "snapshots differ (- " + label + ", + " + other.label + "):\n  " + String.join("\n  ", d);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImapSnapshot s && entries.equals(s.entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(label).append(":\n");
        entries.forEach(
                (k, v) -> sb.append("  ").append(k).append(": ").append(v).append('\n'));
        return sb.toString();
    }
}
