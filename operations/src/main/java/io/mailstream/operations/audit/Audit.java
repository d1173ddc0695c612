package io.mailstream.operations.audit;

import io.mailstream.operations.audit.AuditEntry.Action;
import io.mailstream.operations.audit.ChangeLogReader.LoggedEvent;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What happened to a user's mail, and when, from {@code mailstream.changes}: a timeline of
 * changes, and the mailboxes or one mailbox's messages as they were at a moment.
 */
public final class Audit {
    /**
     * An IMAP MOVE reaches Cyrus's sync log as two mailboxes, which capture commits as two changes
     * moments apart: an expunge and an arrival of the same body this close together, from the same
     * capture, are one move.
     */
    static final long MOVE_WINDOW_MS = 5_000;

    /**
     * What to show. {@code mailbox} is a name (any name the mailbox has had) or a uniqueid;
     * {@code uid} needs {@code mailbox}; {@code guid} may be a prefix of at least 8 hex digits;
     * times are epoch ms (0 / {@link Long#MAX_VALUE}: unbounded).
     */
    public record Query(
            String user, String mailbox, Long uid, String guid, String messageId, long sinceMs, long untilMs) {
        public Query {
            if (user == null || user.isEmpty()) throw new IllegalArgumentException("--user is required");
            if (uid != null && mailbox == null)
                throw new IllegalArgumentException("--uid needs --mailbox: a UID is only unique within a mailbox");
            int selectors = (uid != null ? 1 : 0) + (guid != null ? 1 : 0) + (messageId != null ? 1 : 0);
            if (selectors > 1) throw new IllegalArgumentException("give at most one of --uid, --guid and --message-id");
            if (guid != null && !guid.matches("(?i)[0-9a-f]{8,40}")) {
                throw new IllegalArgumentException("--guid must be 8 to 40 hex digits, got '" + guid + "'");
            }
            if (sinceMs > untilMs) throw new IllegalArgumentException("--since is after --until");
        }
    }

    /** A timeline and what reading it took. */
    public record Timeline(List<AuditEntry> entries, long eventsRead, boolean wholeHistory) {}

    /** One mailbox as it was at a moment. */
    public record MailboxAt(String name, String uniqueId, long uidValidity, long lastUid, long messages, String acl) {}

    /** One message as it was at a moment. */
    public record MessageAt(long uid, String guid, long size, long internalDate, List<String> flags) {}

    /** The answer of {@code --at}: the mailbox list, or one mailbox's messages when a mailbox was named. */
    public record Snapshot(
            long atMs, List<MailboxAt> mailboxes, MailboxAt mailbox, List<MessageAt> messages, long eventsRead) {}

    private Audit() {}

    /** The user's changes matching {@code query}, in the order capture committed them. */
    public static Timeline timeline(ChangeLogReader log, Query query) {
        List<AuditEntry> all = new ArrayList<>();
        AuditFold fold = new AuditFold(e -> {
            if (e.captureTime() >= query.sinceMs() && e.captureTime() <= query.untilMs()) all.add(e);
        });
        Set<String> messageIdGuids = new HashSet<>();
        String wantedMessageId = query.messageId() == null ? null : normalizeMessageId(query.messageId());
        long[] read = {0};
        boolean whole = log.read(
                query.user(),
                query.sinceMs(),
                query.untilMs(),
                wantedMessageId != null,
                fold::wholeHistory,
                (LoggedEvent e) -> {
                    read[0]++;
                    if (e.envelope().getCaptureTime() > query.untilMs()) return;
                    if (wantedMessageId != null
                            && e.event() != null
                            && e.event().getPayload() instanceof MessageContent c
                            && c.getChunkIndex() == 0
                            && wantedMessageId.equals(messageId(c.getData()))) {
                        messageIdGuids.add(c.getGuid());
                    }
                    fold.apply(e);
                });
        List<AuditEntry> paired = pairMoves(all);
        return new Timeline(filter(paired, query, fold, messageIdGuids), read[0], whole);
    }

    /** The user's mailboxes (or, with {@code mailbox}, that mailbox's messages) as they were at {@code atMs}. */
    public static Snapshot at(ChangeLogReader log, String user, String mailbox, long atMs) {
        AuditFold fold = new AuditFold(e -> {});
        long[] read = {0};
        log.read(user, 0, atMs, false, fold::wholeHistory, e -> {
            if (e.envelope().getCaptureTime() <= atMs) {
                read[0]++;
                fold.apply(e);
            }
        });
        List<MailboxAt> boxes = new ArrayList<>();
        AuditFold.Box chosen = null;
        for (AuditFold.Box b : fold.boxes().values()) {
            if (b.deleted()) continue;
            boxes.add(describe(b));
            if (mailbox != null && (mailbox.equals(b.uniqueId) || mailbox.equals(b.name()))) chosen = b;
        }
        boxes.sort((a, b) -> a.name().compareTo(b.name()));
        if (mailbox == null) return new Snapshot(atMs, boxes, null, List.of(), read[0]);
        if (chosen == null) {
            throw new IllegalArgumentException("user " + user + " had no mailbox " + mailbox + " at "
                    + java.time.Instant.ofEpochMilli(atMs) + " (mailboxes then: "
                    + String.join(", ", boxes.stream().map(MailboxAt::name).toList()) + ")");
        }
        List<MessageAt> messages = new ArrayList<>();
        for (MessageRecord r : chosen.liveRecords()) {
            messages.add(new MessageAt(
                    r.getUid(), r.getGuid(), r.getSize(), r.getInternalDate(), List.copyOf(r.getFlags())));
        }
        return new Snapshot(atMs, boxes, describe(chosen), messages, read[0]);
    }

    private static MailboxAt describe(AuditFold.Box b) {
        return new MailboxAt(
                b.name(),
                b.uniqueId,
                b.header() == null ? 0 : b.header().getUidValidity(),
                b.header() == null ? 0 : b.header().getLastUid(),
                b.liveRecords().size(),
                b.header() == null ? "" : b.header().getAcl());
    }

    /**
     * Replaces an expunge and an arrival of the same body in another mailbox, from the same capture
     * and within {@link #MOVE_WINDOW_MS}, by one "moved" line where the later of the two was.
     */
    static List<AuditEntry> pairMoves(List<AuditEntry> entries) {
        Map<String, List<Integer>> arrivals = new HashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            AuditEntry e = entries.get(i);
            if ((e.action() == Action.DELIVERED || e.action() == Action.COPIED) && e.guid() != null) {
                arrivals.computeIfAbsent(e.guid(), g -> new ArrayList<>()).add(i);
            }
        }
        if (arrivals.isEmpty()) return entries;
        // Where each record arrived: a move's arrival must come after the record it moves appeared.
        Map<String, Integer> arrivedAt = new HashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            AuditEntry e = entries.get(i);
            if (e.uid() != null && e.action() != Action.EXPUNGED)
                arrivedAt.putIfAbsent(e.uniqueId() + "/" + e.uid(), i);
        }
        AuditEntry[] out = entries.toArray(new AuditEntry[0]);
        boolean[] used = new boolean[out.length];
        for (int i = 0; i < out.length; i++) {
            AuditEntry x = out[i];
            if (x == null || x.action() != Action.EXPUNGED || x.guid() == null) continue;
            List<Integer> candidates = arrivals.get(x.guid());
            if (candidates == null) continue;
            int best = -1;
            int sourceArrived = arrivedAt.getOrDefault(x.uniqueId() + "/" + x.uid(), -1);
            for (int j : candidates) {
                AuditEntry a = entries.get(j);
                if (used[j]
                        || j < sourceArrived
                        || a.uniqueId().equals(x.uniqueId())
                        || !a.server().equals(x.server())
                        || Math.abs(a.captureTime() - x.captureTime()) > MOVE_WINDOW_MS) continue;
                if (best < 0 || Math.abs(j - i) < Math.abs(best - i)) best = j;
            }
            if (best < 0) continue;
            used[best] = true;
            AuditEntry arrival = entries.get(best);
            AuditEntry later = best > i ? arrival : x;
            AuditEntry moved = arrival.movedFrom(x, later);
            // The move is shown where it was complete: at the later of its two halves.
            if (best > i) {
                out[i] = null;
                out[best] = moved;
            } else {
                out[best] = null;
                out[i] = moved;
            }
        }
        List<AuditEntry> result = new ArrayList<>(out.length);
        for (AuditEntry e : out) if (e != null) result.add(e);
        return result;
    }

    private static List<AuditEntry> filter(
            List<AuditEntry> entries, Query q, AuditFold fold, Set<String> messageIdGuids) {
        Set<String> mailboxIds = new HashSet<>();
        if (q.mailbox() != null) {
            for (AuditFold.Box b : fold.boxes().values()) {
                if (b.uniqueId.equals(q.mailbox()) || b.names.contains(q.mailbox())) mailboxIds.add(b.uniqueId);
            }
        }
        Set<String> guids = null;
        if (q.uid() != null) {
            guids = new HashSet<>();
            for (AuditEntry e : entries) {
                if (e.uid() != null && e.uid().equals(q.uid()) && mailboxIds.contains(e.uniqueId()) && e.guid() != null)
                    guids.add(e.guid());
            }
        } else if (q.messageId() != null) {
            guids = messageIdGuids;
        }
        String guidPrefix = q.guid() == null ? null : q.guid().toLowerCase(Locale.ROOT);
        List<AuditEntry> out = new ArrayList<>();
        for (AuditEntry e : entries) {
            boolean inMailbox = q.mailbox() == null
                    || mailboxIds.contains(e.uniqueId())
                    || (e.fromUniqueId() != null && mailboxIds.contains(e.fromUniqueId()));
            boolean keep;
            if (q.uid() != null) {
                keep = (e.guid() != null && guids.contains(e.guid()))
                        || (mailboxIds.contains(e.uniqueId()) && q.uid().equals(e.uid()))
                        || (e.fromUniqueId() != null
                                && mailboxIds.contains(e.fromUniqueId())
                                && q.uid().equals(e.fromUid()));
            } else if (guids != null) {
                keep = inMailbox && e.guid() != null && guids.contains(e.guid());
            } else if (guidPrefix != null) {
                keep = inMailbox && e.guid() != null && e.guid().startsWith(guidPrefix);
            } else {
                keep = inMailbox;
            }
            if (keep) out.add(e);
        }
        return out;
    }

    /** The Message-ID header of a message's first chunk, without angle brackets, lower-cased; null if none. */
    static String messageId(ByteBuffer data) {
        ByteBuffer d = data.duplicate();
        int n = Math.min(d.remaining(), 64 * 1024);
        byte[] head = new byte[n];
        d.get(head);
        String text = new String(head, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) end = text.indexOf("\n\n");
        if (end >= 0) text = text.substring(0, end);
        String[] lines = text.split("\r?\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].regionMatches(true, 0, "Message-ID:", 0, 11)) {
                StringBuilder v = new StringBuilder(lines[i].substring(11));
                // folded header: continuation lines start with white space
                while (i + 1 < lines.length
                        && !lines[i + 1].isEmpty()
                        && Character.isWhitespace(lines[i + 1].charAt(0))) v.append(lines[++i]);
                return normalizeMessageId(v.toString());
            }
        }
        return null;
    }

    static String normalizeMessageId(String id) {
        String s = id.trim();
        if (s.startsWith("<")) s = s.substring(1);
        if (s.endsWith(">")) s = s.substring(0, s.length() - 1);
        return s.trim().toLowerCase(Locale.ROOT);
    }
}
