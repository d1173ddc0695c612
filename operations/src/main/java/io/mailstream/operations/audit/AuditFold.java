package io.mailstream.operations.audit;

import io.mailstream.operations.audit.AuditEntry.Action;
import io.mailstream.operations.audit.ChangeLogReader.LoggedEvent;
import io.mailstream.schemas.Annotation;
import io.mailstream.schemas.AnnotationDelete;
import io.mailstream.schemas.AnnotationUpsert;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.SeenUpsert;
import io.mailstream.schemas.SieveScriptState;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.state.StateFold;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Folds one partition key's events in log order and says, for each, what changed: the state
 * before and after are compared, because events assert state (an APPLY MAILBOX carries records,
 * not verbs). Per-user state folds with {@link StateFold#applyToUser}. Mailboxes fold with the
 * same rules as {@link StateFold#applyToMailbox} (records replace by UID, EXPUNGE marks
 * {@code \Expunged}, a delete or a rename to another key empties the mailbox) but in place, record
 * by record, so a long history of a large mailbox costs time in proportion to its events.
 *
 * <p>A record first seen above the mailbox's last known UID was delivered (or copied, when the
 * same body is live in another of the user's mailboxes). When the fold does not start at the
 * oldest event (a {@code --since} window), mailboxes and records that existed before are shown as
 * present when first seen, since what happened to them earlier is not read.
 */
final class AuditFold {
    /** A mailbox as folded so far. */
    static final class Box {
        final String uniqueId;
        String name;
        MailboxUpsert header;
        boolean deleted;
        /** Whether {@link #lastUid} is known: UIDs above it are new messages. */
        boolean baselineKnown;

        long lastUid;
        /** By UID; a hash map because a long history looks records up far more often than it lists them. */
        final Map<Long, MessageRecord> records = new HashMap<>();
        /** Every name the mailbox has had, for --mailbox across renames. */
        final Set<String> names = new LinkedHashSet<>();
        /** The name delete_mode delayed gave the mailbox when it was deleted; null otherwise. */
        String hiddenAs;

        Box(String uniqueId) {
            this.uniqueId = uniqueId;
        }

        String name() {
            return name;
        }

        boolean deleted() {
            return deleted;
        }

        MailboxUpsert header() {
            return header;
        }

        /** Every record, expunged ones included, ascending by UID. */
        List<MessageRecord> sortedRecords() {
            return new TreeMap<>(records).values().stream().toList();
        }

        /** Live (not expunged) records, ascending by UID. */
        List<MessageRecord> liveRecords() {
            return sortedRecords().stream()
                    .filter(r -> !StateFold.isExpunged(r))
                    .toList();
        }
    }

    private final Map<String, Box> boxes = new LinkedHashMap<>();
    /** GUID → uniqueid → live records of it there, to tell a copy from a delivery. */
    private final Map<String, Map<String, Integer>> live = new HashMap<>();

    private final Consumer<AuditEntry> out;
    private boolean wholeHistory;
    private UserState user;
    private LoggedEvent current;

    AuditFold(Consumer<AuditEntry> out) {
        this.out = out;
    }

    /** Whether the fold starts at the partition's oldest event: then nothing existed before. */
    void wholeHistory(boolean wholeHistory) {
        this.wholeHistory = wholeHistory;
    }

    Map<String, Box> boxes() {
        return boxes;
    }

    UserState user() {
        return user;
    }

    void apply(LoggedEvent logged) {
        if (logged.content()) return;
        current = logged;
        ChangeEvent event = logged.event();
        Object p = event.getPayload();
        if (p instanceof MailboxUpsert m) {
            mailbox(m);
        } else if (p instanceof RecordsUpsert r) {
            Box box = box(r.getUniqueId(), r.getMailboxName());
            for (MessageRecord rec : r.getRecords()) record(box, rec);
        } else if (p instanceof Expunge x) {
            Box box = box(x.getUniqueId(), x.getMailboxName());
            for (long uid : x.getUids()) expunge(box, uid);
        } else if (p instanceof MailboxRename r) {
            rename(r, StateFold.leavesKey(event));
        } else if (p instanceof MailboxDelete d) {
            Box box = box(d.getUniqueId(), d.getName());
            if (box.deleted && box.hiddenAs != null) {
                emit(Action.FOLDER_DELETED, box, null, null, "purged " + box.hiddenAs);
            } else {
                emit(Action.FOLDER_DELETED, box, null, null, liveCount(box) + " messages in it");
            }
            clear(box);
            box.deleted = true;
        } else if (StateFold.stateKey(event) != null) {
            UserState before = user;
            user = StateFold.applyToUser(before, event);
            userDiff(before, user, p);
        }
    }

    // ---- mailboxes ----

    private Box box(String uniqueId, String name) {
        Box box = boxes.get(uniqueId);
        if (box == null) {
            box = new Box(uniqueId);
            box.name = name;
            box.names.add(name);
            boxes.put(uniqueId, box);
            box.baselineKnown = wholeHistory;
            emit(wholeHistory ? Action.FOLDER_CREATED : Action.FOLDER_SEEN, box, null, null, null);
        }
        return box;
    }

    private void mailbox(MailboxUpsert m) {
        Box box = boxes.get(m.getUniqueId());
        if (box != null && box.hiddenAs != null && isDelayedDelete(m.getName())) {
            box.header = m;
            return;
        }
        if (box == null) {
            box = box(m.getUniqueId(), m.getName());
        } else if (box.deleted) {
            emit(Action.FOLDER_CREATED, box, null, null, "again");
        } else if (box.header != null) {
            if (!box.header.getName().equals(m.getName()) && !box.name.equals(m.getName())) {
                emit(Action.FOLDER_RENAMED, box, null, null, box.name + " -> " + m.getName());
            }
            // Most headers repeat the last one but for counters: compare before building diffs.
            if (!box.header.getAcl().equals(m.getAcl())) {
                String acl = aclDiff(box.header.getAcl(), m.getAcl());
                if (!acl.isEmpty()) emit(Action.ACL, box, null, null, acl);
            }
            if (!box.header.getAnnotations().equals(m.getAnnotations())) {
                String annotations = annotationDiff(box.header.getAnnotations(), m.getAnnotations());
                if (!annotations.isEmpty()) emit(Action.FOLDER_CHANGED, box, null, null, annotations);
            }
        }
        box.header = m;
        box.name = m.getName();
        box.names.add(m.getName());
        box.deleted = false;
        box.baselineKnown = true;
        box.lastUid = Math.max(box.lastUid, m.getLastUid());
    }

    private void rename(MailboxRename r, boolean leaves) {
        Box box = boxes.get(r.getUniqueId());
        if (box == null) {
            // A mailbox that arrives from another key: its records follow and existed before.
            box = new Box(r.getUniqueId());
            boxes.put(r.getUniqueId(), box);
            box.name = r.getNewName();
            box.names.add(r.getOldName());
            box.names.add(r.getNewName());
            emit(
                    Action.FOLDER_RENAMED,
                    box,
                    null,
                    null,
                    r.getOldName() + " -> " + r.getNewName() + " (from another user)");
            return;
        }
        if (isDelayedDelete(r.getNewName()) && !isDelayedDelete(r.getOldName())) {
            // delete_mode: delayed: Cyrus deletes a folder by renaming it out of the user's sight.
            emit(
                    Action.FOLDER_DELETED,
                    box,
                    null,
                    null,
                    liveCount(box) + " messages in it; kept by Cyrus as " + r.getNewName() + " until purged");
            clear(box);
            box.deleted = true;
            box.hiddenAs = r.getNewName();
            return;
        }
        box.name = r.getNewName();
        box.names.add(r.getNewName());
        if (leaves) {
            emit(
                    Action.FOLDER_LEFT,
                    box,
                    null,
                    null,
                    r.getOldName() + " -> " + r.getNewName() + " (user " + r.getNewPartitionKey() + ")");
            clear(box);
            box.deleted = true;
        } else {
            emit(Action.FOLDER_RENAMED, box, null, null, r.getOldName() + " -> " + r.getNewName());
        }
    }

    private void record(Box box, MessageRecord rec) {
        MessageRecord old = box.records.get(rec.getUid());
        boolean expunged = StateFold.isExpunged(rec);
        if (old == null) {
            String flags = String.join(" ", flagsWithoutExpunged(rec.getFlags()));
            if (box.baselineKnown && rec.getUid() > box.lastUid) {
                String from = liveElsewhere(rec.getGuid(), box.uniqueId);
                String detail = from != null ? "from " + from : "";
                if (!flags.isEmpty()) detail = (detail + " flags " + flags).trim();
                emit(from != null ? Action.COPIED : Action.DELIVERED, box, rec.getUid(), rec.getGuid(), detail);
                if (expunged) emit(Action.EXPUNGED, box, rec.getUid(), rec.getGuid(), "");
            } else if (expunged) {
                emit(Action.EXPUNGED, box, rec.getUid(), rec.getGuid(), "(first seen expunged)");
            } else {
                emit(Action.PRESENT, box, rec.getUid(), rec.getGuid(), flags.isEmpty() ? "" : "flags " + flags);
            }
        } else {
            boolean expunging = expunged && !StateFold.isExpunged(old);
            // IMAP expunges only \Deleted messages and MOVE marks its source so: a \Deleted set in
            // the same change as the expunge is part of it, not a flag change of its own.
            if (!old.getFlags().equals(rec.getFlags())) {
                String diff = flagDiff(
                        old.getFlags(), expunging ? withoutDeleted(rec.getFlags(), old.getFlags()) : rec.getFlags());
                if (!diff.isEmpty()) emit(Action.FLAGS, box, rec.getUid(), rec.getGuid(), diff);
            }
            if (expunged && !StateFold.isExpunged(old)) emit(Action.EXPUNGED, box, rec.getUid(), rec.getGuid(), "");
            if (!old.getAnnotations().equals(rec.getAnnotations())) {
                String annotations = annotationDiff(old.getAnnotations(), rec.getAnnotations());
                if (!annotations.isEmpty()) emit(Action.ANNOTATIONS, box, rec.getUid(), rec.getGuid(), annotations);
            }
            if (!StateFold.isExpunged(old)) unlive(old.getGuid(), box.uniqueId);
        }
        if (!expunged) live.computeIfAbsent(rec.getGuid(), g -> new HashMap<>()).merge(box.uniqueId, 1, Integer::sum);
        box.records.put(rec.getUid(), rec);
        box.lastUid = Math.max(box.lastUid, rec.getUid());
    }

    private void expunge(Box box, long uid) {
        MessageRecord rec = box.records.get(uid);
        if (rec == null) {
            emit(Action.EXPUNGED, box, uid, null, "");
            return;
        }
        if (StateFold.isExpunged(rec)) return;
        // Where StateFold puts it, as Cyrus's wire order does: after \Draft, before \Seen and the keywords.
        List<String> flags = new ArrayList<>(rec.getFlags());
        int at = 0;
        while (at < flags.size()
                && flags.get(at).startsWith("\\")
                && !flags.get(at).equalsIgnoreCase("\\Seen")) at++;
        flags.add(at, StateFold.EXPUNGED);
        box.records.put(uid, MessageRecord.newBuilder(rec).setFlags(flags).build());
        unlive(rec.getGuid(), box.uniqueId);
        emit(Action.EXPUNGED, box, uid, rec.getGuid(), "");
    }

    /** Cyrus's default {@code deletedprefix}: where delete_mode delayed keeps a deleted folder. */
    static boolean isDelayedDelete(String name) {
        return name.startsWith("DELETED.");
    }

    private static long liveCount(Box box) {
        return box.records.values().stream()
                .filter(x -> !StateFold.isExpunged(x))
                .count();
    }

    private void clear(Box box) {
        for (MessageRecord r : box.records.values()) if (!StateFold.isExpunged(r)) unlive(r.getGuid(), box.uniqueId);
        box.records.clear();
    }

    private void unlive(String guid, String uniqueId) {
        Map<String, Integer> where = live.get(guid);
        if (where == null) return;
        where.computeIfPresent(uniqueId, (k, n) -> n <= 1 ? null : n - 1);
        if (where.isEmpty()) live.remove(guid);
    }

    private String liveElsewhere(String guid, String uniqueId) {
        Map<String, Integer> where = live.get(guid);
        if (where == null) return null;
        for (String id : where.keySet()) {
            if (!id.equals(uniqueId)) return boxes.get(id).name;
        }
        return null;
    }

    // ---- user-level state ----

    private void userDiff(UserState before, UserState after, Object payload) {
        if (payload instanceof SeenUpsert s) {
            SeenUpsert old = before == null
                    ? null
                    : before.getSeen().stream()
                            .filter(x -> x.getUniqueId().equals(s.getUniqueId())
                                    && x.getUserId().equals(s.getUserId()))
                            .findFirst()
                            .orElse(null);
            if (old == null || !old.getSeenUids().equals(s.getSeenUids())) {
                Box box = boxes.get(s.getUniqueId());
                String where = box != null ? box.name : s.getUniqueId();
                emitUser(
                        Action.SEEN,
                        where,
                        s.getUniqueId(),
                        "by " + s.getUserId() + ": " + (s.getSeenUids().isEmpty() ? "none" : s.getSeenUids()));
            }
            return;
        }
        List<String> subsBefore = before == null ? List.of() : before.getSubscriptions();
        for (String name : after.getSubscriptions()) {
            if (!subsBefore.contains(name)) emitUser(Action.SUBSCRIBED, name, null, "");
        }
        for (String name : subsBefore) {
            if (!after.getSubscriptions().contains(name)) emitUser(Action.UNSUBSCRIBED, name, null, "");
        }
        Map<String, String> scriptsBefore = scripts(before);
        Map<String, String> scriptsAfter = scripts(after);
        scriptsAfter.forEach((name, sha) -> {
            if (!sha.equals(scriptsBefore.get(name))) {
                emitUser(
                        Action.SIEVE,
                        null,
                        null,
                        "script " + name + (scriptsBefore.containsKey(name) ? " changed" : " uploaded"));
            }
        });
        scriptsBefore.keySet().forEach(name -> {
            if (!scriptsAfter.containsKey(name)) emitUser(Action.SIEVE, null, null, "script " + name + " deleted");
        });
        String activeBefore = before == null ? null : before.getActiveSieve();
        if (!Objects.equals(activeBefore, after.getActiveSieve())) {
            emitUser(
                    Action.SIEVE,
                    null,
                    null,
                    after.getActiveSieve() == null ? "no active script" : "active script " + after.getActiveSieve());
        }
        Map<String, String> quotasBefore = quotas(before);
        Map<String, String> quotasAfter = quotas(after);
        quotasAfter.forEach((root, limits) -> {
            if (!limits.equals(quotasBefore.get(root)))
                emitUser(Action.QUOTA, root, null, limits.isEmpty() ? "unlimited" : limits);
        });
        quotasBefore.keySet().forEach(root -> {
            if (!quotasAfter.containsKey(root)) emitUser(Action.QUOTA, root, null, "removed");
        });
        if (payload instanceof AnnotationUpsert || payload instanceof AnnotationDelete) {
            String diff = userAnnotationDiff(before, after);
            if (!diff.isEmpty()) emitUser(Action.ANNOTATION, null, null, diff);
        }
        if (after.getDeleted() && (before == null || !before.getDeleted()))
            emitUser(Action.USER_DELETED, null, null, "");
    }

    private static Map<String, String> scripts(UserState u) {
        Map<String, String> out = new TreeMap<>();
        if (u != null)
            for (SieveScriptState s : u.getSieveScripts())
                out.put(StateFold.scriptName(s.getFilename()), s.getContentSha1());
        return out;
    }

    private static Map<String, String> quotas(UserState u) {
        Map<String, String> out = new TreeMap<>();
        if (u != null) {
            for (QuotaUpsert q : u.getQuotas()) {
                StringBuilder b = new StringBuilder();
                new TreeMap<>(q.getLimits())
                        .forEach((k, v) -> b.append(b.length() == 0 ? "" : " ")
                                .append(k)
                                .append('=')
                                .append(v));
                out.put(q.getRoot(), b.toString());
            }
        }
        return out;
    }

    private static String userAnnotationDiff(UserState before, UserState after) {
        Map<String, String> a = new TreeMap<>();
        Map<String, String> b = new TreeMap<>();
        if (before != null)
            for (AnnotationUpsert x : before.getAnnotations())
                a.put(x.getMailboxName() + " " + x.getEntry() + userSuffix(x.getUserId()), text(x.getValue()));
        for (AnnotationUpsert x : after.getAnnotations())
            b.put(x.getMailboxName() + " " + x.getEntry() + userSuffix(x.getUserId()), text(x.getValue()));
        return mapDiff(a, b);
    }

    // ---- diffs ----

    private static List<String> withoutDeleted(List<String> after, List<String> before) {
        boolean had = before.stream().anyMatch(f -> f.equalsIgnoreCase("\\Deleted"));
        if (had) return after;
        List<String> out = new ArrayList<>(after);
        out.removeIf(f -> f.equalsIgnoreCase("\\Deleted"));
        return out;
    }

    private static List<String> flagsWithoutExpunged(List<String> flags) {
        List<String> out = new ArrayList<>(flags.size());
        for (String f : flags) if (!f.equals(StateFold.EXPUNGED)) out.add(f);
        return out;
    }

    /** {@code +\Flagged -\Seen}: flags are case-insensitive in IMAP; \Expunged is shown as its own action. */
    static String flagDiff(List<String> before, List<String> after) {
        Map<String, String> a = new LinkedHashMap<>();
        Map<String, String> b = new LinkedHashMap<>();
        for (String f : flagsWithoutExpunged(before)) a.put(f.toLowerCase(java.util.Locale.ROOT), f);
        for (String f : flagsWithoutExpunged(after)) b.put(f.toLowerCase(java.util.Locale.ROOT), f);
        StringBuilder out = new StringBuilder();
        b.forEach((k, f) -> {
            if (!a.containsKey(k))
                out.append(out.length() == 0 ? "" : " ").append('+').append(f);
        });
        a.forEach((k, f) -> {
            if (!b.containsKey(k))
                out.append(out.length() == 0 ? "" : " ").append('-').append(f);
        });
        return out.toString();
    }

    /** Cyrus ACL strings are {@code id TAB rights TAB ...}: {@code bob +lrs; anyone -p}, or rights that changed. */
    static String aclDiff(String before, String after) {
        Map<String, String> a = acl(before);
        Map<String, String> b = acl(after);
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, String> e : b.entrySet()) {
            String old = a.get(e.getKey());
            if (old == null) parts.add(e.getKey() + " +" + e.getValue());
            else if (!old.equals(e.getValue())) parts.add(e.getKey() + " " + old + " -> " + e.getValue());
        }
        for (String id : a.keySet()) if (!b.containsKey(id)) parts.add(id + " -" + a.get(id));
        return String.join("; ", parts);
    }

    private static Map<String, String> acl(String s) {
        Map<String, String> out = new TreeMap<>();
        if (s == null) return out;
        String[] parts = s.split("\t");
        for (int i = 0; i + 1 < parts.length; i += 2) out.put(parts[i], parts[i + 1]);
        return out;
    }

    private static String annotationDiff(List<Annotation> before, List<Annotation> after) {
        Map<String, String> a = new TreeMap<>();
        Map<String, String> b = new TreeMap<>();
        for (Annotation x : before) a.put(x.getEntry() + userSuffix(x.getUserId()), text(x.getValue()));
        for (Annotation x : after) b.put(x.getEntry() + userSuffix(x.getUserId()), text(x.getValue()));
        return mapDiff(a, b);
    }

    private static String mapDiff(Map<String, String> a, Map<String, String> b) {
        List<String> parts = new ArrayList<>();
        b.forEach((k, v) -> {
            if (!v.equals(a.get(k))) parts.add(k + " = " + v);
        });
        new TreeSet<>(a.keySet()).forEach(k -> {
            if (!b.containsKey(k)) parts.add(k + " removed");
        });
        return String.join("; ", parts);
    }

    private static String userSuffix(String userId) {
        return userId == null || userId.isEmpty() ? "" : " (" + userId + ")";
    }

    private static String text(ByteBuffer value) {
        ByteBuffer v = value.duplicate();
        byte[] bytes = new byte[v.remaining()];
        v.get(bytes);
        String s = new String(bytes, StandardCharsets.UTF_8);
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    // ---- output ----

    private void emit(Action action, Box box, Long uid, String guid, String detail) {
        Envelope e = current.envelope();
        out.accept(new AuditEntry(
                e.getCaptureTime(),
                e.getSourceServerId(),
                e.getSite(),
                e.getTier(),
                e.getEpoch(),
                action,
                box.name,
                box.uniqueId,
                uid,
                guid,
                null,
                null,
                null,
                detail,
                current.partition(),
                current.offset()));
    }

    private void emitUser(Action action, String mailbox, String uniqueId, String detail) {
        Envelope e = current.envelope();
        out.accept(new AuditEntry(
                e.getCaptureTime(),
                e.getSourceServerId(),
                e.getSite(),
                e.getTier(),
                e.getEpoch(),
                action,
                mailbox,
                uniqueId,
                null,
                null,
                null,
                null,
                null,
                detail,
                current.partition(),
                current.offset()));
    }
}
