package io.mailstream.bridge.state;

import io.mailstream.bridge.state.Difference.Kind;
import io.mailstream.schemas.Annotation;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.SeenUpsert;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.state.StateFold;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Compares a tier's state with the canonical state, field by field, in the mail domain's terms.
 * Pure. Values every Cyrus replica sets for itself are not compared (the partition, a quota
 * root's MODSEQ, a seen entry's LASTREAD), as Cyrus's own replication leaves them differing too.
 */
public final class StateDiff {
    private StateDiff() {}

    /**
     * Pass 1, per mailbox: what the headers say, the SYNC_CRCs summing up the records. Mailboxes are
     * matched by uniqueid; {@code tier}'s SYNC_CRCs are what the tier itself reports (a Cyrus) or
     * computed from its records (the store).
     */
    public static List<Difference> headers(String partitionKey, List<MailboxState> canonical, List<MailboxState> tier) {
        Map<String, MailboxUpsert> ours = byId(canonical);
        Map<String, MailboxUpsert> theirs = byId(tier);
        List<Difference> out = new ArrayList<>();
        for (MailboxUpsert c : ours.values()) {
            MailboxUpsert t = theirs.get(c.getUniqueId());
            if (t == null) {
                out.add(new Difference(
                        partitionKey, c.getName(), c.getUniqueId(), Kind.MISSING_MAILBOX, "not on the tier"));
                continue;
            }
            List<String> fields = new ArrayList<>();
            field(fields, "name", c.getName(), t.getName());
            field(fields, "UIDVALIDITY", c.getUidValidity(), t.getUidValidity());
            field(fields, "LAST_UID", c.getLastUid(), t.getLastUid());
            field(fields, "HIGHESTMODSEQ", c.getHighestModseq(), t.getHighestModseq());
            field(fields, "SYNC_CRC", c.getSyncCrc(), t.getSyncCrc());
            field(fields, "SYNC_CRC_ANNOT", c.getSyncCrcAnnot(), t.getSyncCrcAnnot());
            field(fields, "ACL", c.getAcl(), t.getAcl());
            field(fields, "annotations", annotations(c.getAnnotations()), annotations(t.getAnnotations()));
            if (!fields.isEmpty())
                out.add(new Difference(
                        partitionKey, c.getName(), c.getUniqueId(), Kind.MAILBOX, String.join("; ", fields)));
        }
        for (MailboxUpsert t : theirs.values()) {
            if (!ours.containsKey(t.getUniqueId())) {
                out.add(new Difference(
                        partitionKey, t.getName(), t.getUniqueId(), Kind.EXTRA_MAILBOX, "not in the canonical state"));
            }
        }
        return out;
    }

    /** Pass 2, one mailbox: record by record (live records; an expunged one counts as absent). */
    public static List<Difference> records(String partitionKey, MailboxState canonical, MailboxState tier) {
        MailboxUpsert h = canonical.getHeader();
        Map<Long, MessageRecord> ours = live(canonical);
        Map<Long, MessageRecord> theirs = live(tier);
        List<Difference> out = new ArrayList<>();
        TreeSet<Long> uids = new TreeSet<>(ours.keySet());
        uids.addAll(theirs.keySet());
        for (long uid : uids) {
            MessageRecord c = ours.get(uid);
            MessageRecord t = theirs.get(uid);
            String detail;
            if (t == null) detail = "UID " + uid + " missing on the tier (GUID " + c.getGuid() + ")";
            else if (c == null) detail = "UID " + uid + " only on the tier (GUID " + t.getGuid() + ")";
            else {
                List<String> fields = new ArrayList<>();
                field(fields, "GUID", c.getGuid(), t.getGuid());
                field(fields, "flags", flags(c), flags(t));
                field(fields, "modseq", c.getModseq(), t.getModseq());
                field(fields, "internal date", c.getInternalDate(), t.getInternalDate());
                field(fields, "annotations", annotations(c.getAnnotations()), annotations(t.getAnnotations()));
                if (fields.isEmpty()) continue;
                detail = "UID " + uid + " " + String.join("; ", fields);
            }
            out.add(new Difference(partitionKey, h.getName(), h.getUniqueId(), Kind.RECORD, detail));
        }
        return out;
    }

    /**
     * User data: seen state, subscriptions, quotas (limits), sieve scripts and the active one. An
     * absent state is compared as an empty one.
     */
    public static List<Difference> user(String partitionKey, Optional<UserState> canonical, Optional<UserState> tier) {
        UserState c = canonical.filter(u -> !u.getDeleted()).orElse(null);
        UserState t = tier.filter(u -> !u.getDeleted()).orElse(null);
        List<String> fields = new ArrayList<>();
        Map<String, String> cSeen = seen(c);
        Map<String, String> tSeen = seen(t);
        for (String id : new TreeSet<>(union(cSeen.keySet(), tSeen.keySet()))) {
            field(fields, "seen " + id, cSeen.getOrDefault(id, "none"), tSeen.getOrDefault(id, "none"));
        }
        field(
                fields,
                "subscriptions",
                c == null ? List.of() : c.getSubscriptions(),
                t == null ? List.of() : t.getSubscriptions());
        field(fields, "quotas", quotas(c), quotas(t));
        field(fields, "sieve scripts", scripts(c), scripts(t));
        field(fields, "active sieve", c == null ? null : c.getActiveSieve(), t == null ? null : t.getActiveSieve());
        if (fields.isEmpty()) return List.of();
        return fields.stream()
                .map(f -> new Difference(partitionKey, null, null, Kind.USER, f))
                .toList();
    }

    /** The SYNC_CRCs of a mailbox's records, as a Cyrus computes them (expunged records count for nothing). */
    public static MailboxState withComputedCrcs(MailboxState m) {
        var crcs = io.mailstream.csync.crc.SyncCrc.of(m.getRecords().stream()
                .map(io.mailstream.bridge.apply.MailboxTranslation::toRecord)
                .toList());
        return MailboxState.newBuilder(m)
                .setHeader(MailboxUpsert.newBuilder(m.getHeader())
                        .setSyncCrc(crcs.basic())
                        .setSyncCrcAnnot(crcs.annot())
                        .build())
                .build();
    }

    private static Map<String, MailboxUpsert> byId(List<MailboxState> states) {
        Map<String, MailboxUpsert> out = new TreeMap<>();
        for (MailboxState m : states) {
            if (m.getHeader() != null && !m.getDeleted()) out.put(m.getHeader().getUniqueId(), m.getHeader());
        }
        return out;
    }

    private static Map<Long, MessageRecord> live(MailboxState m) {
        return m.getRecords().stream()
                .filter(r -> !StateFold.isExpunged(r))
                .collect(Collectors.toMap(MessageRecord::getUid, Function.identity(), (a, b) -> b, TreeMap::new));
    }

    /** Flags compared as a set, case-insensitively for system flags, as Cyrus treats them. */
    private static String flags(MessageRecord r) {
        return r.getFlags().stream()
                .map(f -> f.startsWith("\\") ? f.toLowerCase() : f)
                .sorted()
                .toList()
                .toString();
    }

    private static String annotations(List<Annotation> list) {
        return list.stream()
                .map(a -> a.getEntry() + " " + a.getUserId() + "=" + text(a.getValue()))
                .sorted()
                .toList()
                .toString();
    }

    private static String text(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] bytes = new byte[d.remaining()];
        d.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static Map<String, String> seen(UserState u) {
        Map<String, String> out = new TreeMap<>();
        if (u == null) return out;
        for (SeenUpsert s : u.getSeen()) {
            out.put(
                    s.getUniqueId(),
                    "LASTUID " + s.getLastUid() + " SEENUIDS " + s.getSeenUids() + " LASTCHANGE " + s.getLastChange());
        }
        return out;
    }

    private static String quotas(UserState u) {
        if (u == null) return "[]";
        return u.getQuotas().stream()
                .map(QuotaUpsert::getRoot)
                .sorted()
                .map(root -> root + " "
                        + new TreeMap<>(u.getQuotas().stream()
                                .filter(q -> q.getRoot().equals(root))
                                .findFirst()
                                .orElseThrow()
                                .getLimits()))
                .toList()
                .toString();
    }

    private static String scripts(UserState u) {
        if (u == null) return "[]";
        return u.getSieveScripts().stream()
                .map(s -> s.getFilename() + " " + s.getContentSha1())
                .sorted()
                .toList()
                .toString();
    }

    private static <T> java.util.Set<T> union(java.util.Set<T> a, java.util.Set<T> b) {
        java.util.Set<T> out = new java.util.HashSet<>(a);
        out.addAll(b);
        return out;
    }

    private static void field(List<String> out, String name, Object canonical, Object tier) {
        if (!Objects.equals(canonical, tier)) out.add(name + " canonical " + canonical + ", tier " + tier);
    }
}
