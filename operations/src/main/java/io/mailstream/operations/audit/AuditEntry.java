package io.mailstream.operations.audit;

import java.time.Instant;

/**
 * One line of a timeline: what happened to a user's mail in one change, as captured.
 *
 * @param captureTime when capture received the change (epoch ms)
 * @param server      the capture (source server id) that wrote the event
 * @param site        the data centre of that capture
 * @param tier        the tier the event was captured from
 * @param epoch       the primary epoch it was captured under
 * @param action      what happened, one of {@link Action}
 * @param mailbox     the mailbox's name at that moment (null for user-level changes)
 * @param uniqueId    the mailbox's uniqueid (null for user-level changes)
 * @param uid         the message's UID in {@code mailbox}, or null
 * @param guid        the message's GUID, or null
 * @param fromMailbox for a move: where the message was; else null
 * @param fromUniqueId for a move: the uniqueid of that mailbox; else null
 * @param fromUid     for a move: its UID there; else null
 * @param detail      the particulars (flags +X -Y, old and new names, rights), human-readable
 * @param offset      the position of the event in its partition of mailstream.changes
 */
public record AuditEntry(
        long captureTime,
        String server,
        String site,
        String tier,
        long epoch,
        Action action,
        String mailbox,
        String uniqueId,
        Long uid,
        String guid,
        String fromMailbox,
        String fromUniqueId,
        Long fromUid,
        String detail,
        int partition,
        long offset) {

    /** What happened; the word is what the text and JSON output show. */
    public enum Action {
        DELIVERED("delivered"),
        COPIED("copied"),
        MOVED("moved"),
        FLAGS("flags"),
        EXPUNGED("expunged"),
        ANNOTATIONS("annotations"),
        PRESENT("present"),
        FOLDER_CREATED("folder-created"),
        FOLDER_SEEN("folder-present"),
        FOLDER_RENAMED("folder-renamed"),
        FOLDER_DELETED("folder-deleted"),
        FOLDER_LEFT("folder-left-user"),
        ACL("acl"),
        FOLDER_CHANGED("folder-changed"),
        SEEN("seen"),
        SUBSCRIBED("subscribed"),
        UNSUBSCRIBED("unsubscribed"),
        SIEVE("sieve"),
        QUOTA("quota"),
        ANNOTATION("annotation"),
        USER_DELETED("user-deleted");

        public final String word;

        Action(String word) {
            this.word = word;
        }
    }

    /** This arrival as the end of a move out of {@code from}, at the time and position of {@code completedBy}. */
    AuditEntry movedFrom(AuditEntry from, AuditEntry completedBy) {
        return new AuditEntry(
                completedBy.captureTime,
                server,
                site,
                tier,
                epoch,
                Action.MOVED,
                mailbox,
                uniqueId,
                uid,
                guid,
                from.mailbox,
                from.uniqueId,
                from.uid,
                "from " + from.mailbox + " uid " + from.uid + " to " + mailbox,
                completedBy.partition,
                completedBy.offset);
    }

    /** {@code 2026-12-02T13:07:41.123Z  primary-1@dc1 primary/e3  user.alice.Work  uid 4  flags +\Flagged}. */
    public String toText() {
        StringBuilder b = new StringBuilder(120);
        b.append(Instant.ofEpochMilli(captureTime))
                .append("  ")
                .append(server)
                .append('@')
                .append(site)
                .append(' ')
                .append(tier)
                .append("/e")
                .append(epoch)
                .append("  ");
        b.append(mailbox == null ? "-" : mailbox);
        if (uid != null) b.append("  uid ").append(uid);
        b.append("  ").append(action.word);
        if (detail != null && !detail.isEmpty()) b.append(' ').append(detail);
        if (guid != null) b.append("  guid ").append(guid, 0, Math.min(12, guid.length()));
        return b.toString();
    }

    /** One JSON object, every field named, for tools. */
    public String toJson() {
        StringBuilder b = new StringBuilder(256).append('{');
        field(b, "time", Instant.ofEpochMilli(captureTime).toString()).append(',');
        b.append("\"captureTime\":").append(captureTime).append(',');
        field(b, "server", server).append(',');
        field(b, "site", site).append(',');
        field(b, "tier", tier).append(',');
        b.append("\"epoch\":").append(epoch).append(',');
        field(b, "action", action.word).append(',');
        field(b, "mailbox", mailbox).append(',');
        field(b, "uniqueId", uniqueId).append(',');
        b.append("\"uid\":").append(uid).append(',');
        field(b, "guid", guid).append(',');
        field(b, "fromMailbox", fromMailbox).append(',');
        field(b, "fromUniqueId", fromUniqueId).append(',');
        b.append("\"fromUid\":").append(fromUid).append(',');
        field(b, "detail", detail).append(',');
        b.append("\"partition\":").append(partition).append(',');
        b.append("\"offset\":").append(offset);
        return b.append('}').toString();
    }

    static StringBuilder field(StringBuilder b, String name, String value) {
        b.append('"').append(name).append("\":");
        return string(b, value);
    }

    static StringBuilder string(StringBuilder b, String value) {
        if (value == null) return b.append("null");
        b.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"');
    }
}
