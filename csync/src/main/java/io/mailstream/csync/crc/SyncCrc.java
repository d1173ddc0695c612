package io.mailstream.csync.crc;

import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.MessageRecord;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Cyrus's per-mailbox sync checksums (spec 4.9): {@code SYNC_CRC} over the index records and
 * {@code SYNC_CRC_ANNOT} over per-message annotations. Each record contributes the CRC-32 of a
 * text form, combined by XOR, so order does not matter; expunged records contribute nothing.
 */
public final class SyncCrc {
    /** Initial value of SYNC_CRC_ANNOT (decimal 12345678): the value of a mailbox with no annotations. */
    public static final long ANNOT_INITIAL = 12345678L;

    private static final Set<String> COUNTED_SYSTEM_FLAGS =
            Set.of("\\deleted", "\\answered", "\\flagged", "\\draft", "\\seen");

    private SyncCrc() {}

    /** Both checksums of a mailbox, as sent in SYNC_CRC / SYNC_CRC_ANNOT. */
    public record Pair(long basic, long annot) {
        /** Cyrus's mailbox_crceq: per value, equal or either side 0 ("don't care"). */
        public boolean matches(long otherBasic, long otherAnnot) {
            return SyncCrc.matches(basic, otherBasic) && SyncCrc.matches(annot, otherAnnot);
        }
    }

    public static Pair of(Iterable<MessageRecord> records) {
        return new Pair(basic(records), annot(records));
    }

    public static boolean matches(long a, long b) {
        return a == 0 || b == 0 || a == b;
    }

    public static long basic(Iterable<MessageRecord> records) {
        long crc = 0;
        for (MessageRecord r : records) {
            if (!r.isExpunged()) {
                crc ^= recordCrc(r);
            }
        }
        return crc;
    }

    static long recordCrc(MessageRecord r) {
        long flagCrc = 0;
        for (String flag : r.flags()) {
            String lower = flag.toLowerCase(Locale.ROOT);
            if (!lower.startsWith("\\") || COUNTED_SYSTEM_FLAGS.contains(lower)) {
                flagCrc ^= crc32(lower.getBytes(StandardCharsets.UTF_8));
            }
        }
        String text = Long.toUnsignedString(r.uid()) + " " + Long.toUnsignedString(r.modSeq()) + " " + r.lastUpdated()
                + " (" + flagCrc + ") " + r.internalDate() + " " + r.guid().hex();
        return crc32(text.getBytes(StandardCharsets.US_ASCII));
    }

    public static long annot(Iterable<MessageRecord> records) {
        long crc = ANNOT_INITIAL;
        for (MessageRecord r : records) {
            if (r.isExpunged()) {
                continue;
            }
            for (Annotation a : r.annotations()) {
                byte[] value = hashedValue(a);
                if (value.length > 0) {
                    crc ^= annotCrc(r.uid(), a.entry(), a.userId(), value);
                }
            }
        }
        return crc;
    }

    /**
     * The value as Cyrus hashes it: the three virtual annotations are re-derived from the index
     * field (0 = absent), thrid as unpadded lower-case hex, the others as decimal.
     */
    private static byte[] hashedValue(Annotation a) {
        String entry = a.entry();
        if (entry.equals(Annotation.THRID)) {
            long cid = a.toDList().require("VALUE").asHex();
            return cid == 0 ? new byte[0] : Long.toHexString(cid).getBytes(StandardCharsets.US_ASCII);
        }
        if (entry.equals(Annotation.SAVEDATE) || entry.equals(Annotation.CREATEDMODSEQ)) {
            long n = a.toDList().require("VALUE").asNum64();
            return n == 0 ? new byte[0] : Long.toUnsignedString(n).getBytes(StandardCharsets.US_ASCII);
        }
        return a.value();
    }

    private static long annotCrc(long uid, String entry, String userId, byte[] value) {
        CRC32 crc = new CRC32();
        crc.update((Long.toUnsignedString(uid) + " " + entry + " " + userId + " ").getBytes(StandardCharsets.UTF_8));
        crc.update(value);
        return crc.getValue();
    }

    private static long crc32(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }
}
