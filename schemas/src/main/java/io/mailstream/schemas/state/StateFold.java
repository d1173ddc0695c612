package io.mailstream.schemas.state;

import io.mailstream.schemas.AnnotationDelete;
import io.mailstream.schemas.AnnotationUpsert;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.QuotaDelete;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.RecordsUpsert;
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
import io.mailstream.schemas.codec.AvroCodec;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;

/**
 * The one definition of how change events fold into canonical state, shared by streams (the
 * canonical state stores), the out-of-band store and the tests that recompute state from
 * history. Pure: inputs are never modified, a new state is returned.
 *
 * <p>Every event asserts state, so folding the same event twice gives the same result
 * (the idempotency every hop relies on).
 */
public final class StateFold {
    public static final String EXPUNGED = "\\Expunged";

    static {
        // Folding deep-copies records (newBuilder(other)), which Avro allows only for trusted classes.
        AvroCodec.trustGeneratedClasses();
    }

    private StateFold() {}

    /** Which canonical-state record an event touches: {@code mailbox:<uniqueid>}, {@code user:<userid>}, or null. */
    public static String stateKey(ChangeEvent event) {
        Object p = event.getPayload();
        if (p instanceof MailboxUpsert m) return mailboxKey(m.getUniqueId());
        if (p instanceof RecordsUpsert r) return mailboxKey(r.getUniqueId());
        if (p instanceof Expunge e) return mailboxKey(e.getUniqueId());
        if (p instanceof MailboxRename r) return mailboxKey(r.getUniqueId());
        if (p instanceof MailboxDelete d) return mailboxKey(d.getUniqueId());
        if (p instanceof SeenUpsert
                || p instanceof Subscribe
                || p instanceof Unsubscribe
                || p instanceof SieveUpsert
                || p instanceof SieveDelete
                || p instanceof SieveActivate
                || p instanceof SieveDeactivate
                || p instanceof UserDelete
                || p instanceof QuotaUpsert
                || p instanceof QuotaDelete
                || p instanceof AnnotationUpsert
                || p instanceof AnnotationDelete) {
            // Standalone annotations belong to the partition key that carried them ("#server" for server-wide ones).
            return userKey(event.getEnvelope().getPartitionKey());
        }
        return null;
    }

    /**
     * Whether the event tells its partition key that a mailbox has moved to another key (a rename
     * to another user, or between a user and a shared folder). The new key receives the whole
     * mailbox; under the old key the mailbox is gone, as if deleted, but nothing is deleted.
     */
    public static boolean leavesKey(ChangeEvent event) {
        return event.getPayload() instanceof MailboxRename r
                && r.getNewPartitionKey() != null
                && !r.getNewPartitionKey().equals(event.getEnvelope().getPartitionKey());
    }

    public static String mailboxKey(String uniqueId) {
        return "mailbox:" + uniqueId;
    }

    public static String userKey(String userId) {
        return "user:" + userId;
    }

    /** Folds a mailbox event into the mailbox's state ({@code current} may be null). */
    public static MailboxState applyToMailbox(MailboxState current, ChangeEvent event) {
        MailboxState.Builder next = current == null
                ? MailboxState.newBuilder()
                        .setHeader(null)
                        .setRecords(new ArrayList<>())
                        .setDeleted(false)
                : MailboxState.newBuilder(current);
        next.setPartitionKey(event.getEnvelope().getPartitionKey())
                .setLastEventId(event.getEnvelope().getEventId())
                .setLastCaptureTime(event.getEnvelope().getCaptureTime());
        Object p = event.getPayload();
        if (p instanceof MailboxUpsert m) {
            next.setHeader(MailboxUpsert.newBuilder(m).build()).setDeleted(false);
        } else if (p instanceof RecordsUpsert r) {
            next.setRecords(mergeRecords(next.getRecords(), r.getRecords()));
        } else if (p instanceof Expunge e) {
            next.setRecords(expunge(next.getRecords(), e.getUids()));
        } else if (p instanceof MailboxRename r) {
            if (next.getHeader() != null) {
                MailboxUpsert.Builder h = MailboxUpsert.newBuilder(next.getHeader())
                        .setName(r.getNewName())
                        .setPartition(r.getPartition());
                if (r.getUidValidity() > h.getUidValidity()) h.setUidValidity(r.getUidValidity());
                next.setHeader(h.build());
            }
            if (leavesKey(event)) {
                // Its records now live under the new key; kept here they would be a stale second copy.
                next.setDeleted(true).setRecords(new ArrayList<>());
            }
        } else if (p instanceof MailboxDelete) {
            next.setDeleted(true).setRecords(new ArrayList<>());
        } else {
            throw new IllegalArgumentException(
                    "not a mailbox event: " + p.getClass().getSimpleName());
        }
        return next.build();
    }

    /** Folds a per-user event (seen, subscriptions, sieve, quota, annotation, user delete) into the user's state. */
    public static UserState applyToUser(UserState current, ChangeEvent event) {
        String userId = event.getEnvelope().getPartitionKey();
        UserState.Builder next = current == null
                ? UserState.newBuilder()
                        .setUserId(userId)
                        .setSeen(new ArrayList<>())
                        .setSubscriptions(new ArrayList<>())
                        .setSieveScripts(new ArrayList<>())
                        .setActiveSieve(null)
                        .setQuotas(new ArrayList<>())
                        .setAnnotations(new ArrayList<>())
                        .setDeleted(false)
                : UserState.newBuilder(current);
        next.setLastEventId(event.getEnvelope().getEventId())
                .setLastCaptureTime(event.getEnvelope().getCaptureTime());
        Object p = event.getPayload();
        if (p instanceof SeenUpsert s) {
            List<SeenUpsert> seen = new ArrayList<>(next.getSeen());
            seen.removeIf(x ->
                    x.getUniqueId().equals(s.getUniqueId()) && x.getUserId().equals(s.getUserId()));
            seen.add(SeenUpsert.newBuilder(s).build());
            seen.sort((a, b) ->
                    (a.getUserId() + "\0" + a.getUniqueId()).compareTo(b.getUserId() + "\0" + b.getUniqueId()));
            next.setSeen(seen).setDeleted(false);
        } else if (p instanceof Subscribe s) {
            List<String> subs = new ArrayList<>(next.getSubscriptions());
            if (!subs.contains(s.getMailboxName())) subs.add(s.getMailboxName());
            subs.sort(null);
            next.setSubscriptions(subs).setDeleted(false);
        } else if (p instanceof Unsubscribe u) {
            List<String> subs = new ArrayList<>(next.getSubscriptions());
            subs.remove(u.getMailboxName());
            next.setSubscriptions(subs);
        } else if (p instanceof SieveUpsert s) {
            List<SieveScriptState> scripts = new ArrayList<>(next.getSieveScripts());
            scripts.removeIf(x -> x.getFilename().equals(s.getFilename()));
            ByteBuffer content = s.getContent().duplicate();
            byte[] bytes = new byte[content.remaining()];
            content.get(bytes);
            scripts.add(SieveScriptState.newBuilder()
                    .setFilename(s.getFilename())
                    .setLastUpdate(s.getLastUpdate())
                    .setContentSha1(sha1(bytes))
                    .setContent(ByteBuffer.wrap(bytes))
                    .build());
            scripts.sort((a, b) -> a.getFilename().compareTo(b.getFilename()));
            next.setSieveScripts(scripts).setDeleted(false);
        } else if (p instanceof SieveDelete d) {
            List<SieveScriptState> scripts = new ArrayList<>(next.getSieveScripts());
            scripts.removeIf(x -> x.getFilename().equals(d.getFilename()));
            next.setSieveScripts(scripts);
        } else if (p instanceof SieveActivate a) {
            next.setActiveSieve(scriptName(a.getFilename()));
        } else if (p instanceof SieveDeactivate) {
            next.setActiveSieve(null);
        } else if (p instanceof QuotaUpsert q) {
            List<QuotaUpsert> quotas = new ArrayList<>(next.getQuotas());
            quotas.removeIf(x -> x.getRoot().equals(q.getRoot()));
            quotas.add(QuotaUpsert.newBuilder(q).build());
            quotas.sort((a, b) -> a.getRoot().compareTo(b.getRoot()));
            next.setQuotas(quotas);
        } else if (p instanceof QuotaDelete q) {
            List<QuotaUpsert> quotas = new ArrayList<>(next.getQuotas());
            quotas.removeIf(x -> x.getRoot().equals(q.getRoot()));
            next.setQuotas(quotas);
        } else if (p instanceof AnnotationUpsert a) {
            List<AnnotationUpsert> annotations = new ArrayList<>(next.getAnnotations());
            annotations.removeIf(x -> sameAnnotation(x, a.getMailboxName(), a.getEntry(), a.getUserId()));
            annotations.add(AnnotationUpsert.newBuilder(a).build());
            annotations.sort((x, y) -> annotationKey(x).compareTo(annotationKey(y)));
            next.setAnnotations(annotations);
        } else if (p instanceof AnnotationDelete a) {
            List<AnnotationUpsert> annotations = new ArrayList<>(next.getAnnotations());
            annotations.removeIf(x -> sameAnnotation(x, a.getMailboxName(), a.getEntry(), a.getUserId()));
            next.setAnnotations(annotations);
        } else if (p instanceof UserDelete) {
            next.setSeen(new ArrayList<>())
                    .setSubscriptions(new ArrayList<>())
                    .setSieveScripts(new ArrayList<>())
                    .setActiveSieve(null)
                    .setQuotas(new ArrayList<>())
                    .setAnnotations(new ArrayList<>())
                    .setDeleted(true);
        } else {
            throw new IllegalArgumentException(
                    "not a user event: " + p.getClass().getSimpleName());
        }
        return next.build();
    }

    /** The script's name without Cyrus's {@code .script} / {@code .bc} suffix. */
    public static String scriptName(String filename) {
        if (filename.endsWith(".script")) return filename.substring(0, filename.length() - ".script".length());
        if (filename.endsWith(".bc")) return filename.substring(0, filename.length() - ".bc".length());
        return filename;
    }

    /** An annotation is identified by mailbox, entry and userid, as in Cyrus's annotations database. */
    private static boolean sameAnnotation(AnnotationUpsert a, String mailboxName, String entry, String userId) {
        return a.getMailboxName().equals(mailboxName)
                && a.getEntry().equals(entry)
                && a.getUserId().equals(userId);
    }

    private static String annotationKey(AnnotationUpsert a) {
        return a.getMailboxName() + "\0" + a.getEntry() + "\0" + a.getUserId();
    }

    public static boolean isExpunged(MessageRecord record) {
        return record.getFlags().contains(EXPUNGED);
    }

    /** Records by UID: an incoming record replaces the one with the same UID. Result ascending by UID. */
    static List<MessageRecord> mergeRecords(List<MessageRecord> current, List<MessageRecord> incoming) {
        TreeMap<Long, MessageRecord> byUid = new TreeMap<>();
        for (MessageRecord r : current) byUid.put(r.getUid(), r);
        for (MessageRecord r : incoming)
            byUid.put(r.getUid(), MessageRecord.newBuilder(r).build());
        return new ArrayList<>(byUid.values());
    }

    /** APPLY EXPUNGE: mark the UIDs expunged without a modseq bump, as Cyrus does; unknown UIDs are skipped. */
    static List<MessageRecord> expunge(List<MessageRecord> current, List<Long> uids) {
        List<MessageRecord> out = new ArrayList<>(current.size());
        for (MessageRecord r : current) {
            if (uids.contains(r.getUid()) && !isExpunged(r)) {
                // Cyrus's wire order puts \Expunged after \Draft and before \Seen and the keywords.
                List<String> flags = new ArrayList<>(r.getFlags());
                int at = 0;
                while (at < flags.size()
                        && flags.get(at).startsWith("\\")
                        && !flags.get(at).equalsIgnoreCase("\\Seen")) at++;
                flags.add(at, EXPUNGED);
                out.add(MessageRecord.newBuilder(r).setFlags(flags).build());
            } else {
                out.add(r);
            }
        }
        return out;
    }

    private static String sha1(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every JVM", e);
        }
    }
}
