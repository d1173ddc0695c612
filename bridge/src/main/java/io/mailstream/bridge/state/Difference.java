package io.mailstream.bridge.state;

/**
 * One way a tier differs from the canonical state.
 *
 * @param partitionKey the user (or shared top-level name) it belongs to
 * @param mailbox      the mailbox's name, or null for user data
 * @param uniqueId     the mailbox's uniqueid, or null for user data
 * @param kind         what kind of difference ({@link Kind})
 * @param detail       what differs, canonical value first: "LAST_UID canonical 12, tier 11"
 */
public record Difference(String partitionKey, String mailbox, String uniqueId, Kind kind, String detail) {

    public enum Kind {
        /** The canonical state holds the mailbox, the tier does not. */
        MISSING_MAILBOX,
        /** The tier holds a mailbox the canonical state does not. */
        EXTRA_MAILBOX,
        /** Header fields (name, UIDVALIDITY, LAST_UID, HIGHESTMODSEQ, SYNC_CRCs, ACL, annotations). */
        MAILBOX,
        /** Index records (UID, GUID, flags, modseq, internal date, annotations). */
        RECORD,
        /** Message bodies: absent, or not what their GUID says. */
        BODY,
        /** Seen state, subscriptions, sieve scripts, quotas. */
        USER,
        /** The tier's copy cannot be read at all (a truncated file, say). */
        UNREADABLE,
        /** A repair was tried and failed; the differences it was for remain. */
        REPAIR_FAILED
    }

    public boolean isMailbox() {
        return uniqueId != null;
    }

    /** One line: {@code alice user.alice.Work (uid): RECORD UID 7 flags canonical (\Seen), tier ()}. */
    public String line() {
        String where = mailbox == null ? partitionKey : partitionKey + " " + mailbox + " (" + uniqueId + ")";
        return where + ": " + kind + " " + detail;
    }
}
