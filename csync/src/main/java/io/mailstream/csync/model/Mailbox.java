package io.mailstream.csync.model;

import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.dlist.DKvList;
import io.mailstream.csync.dlist.DList;
import io.mailstream.csync.dlist.DValue;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A mailbox as APPLY MAILBOX sends it and {@code * MAILBOX} returns it (spec 3.1/3.2): header
 * fields, optionally mailbox annotations, SINCE_* preconditions and RECORD. Backed by the
 * received kvlist so that every key, known or not, is echoed verbatim and in order.
 */
public final class Mailbox extends KvBacked {
    /** Cyrus's emission order (sync_support.c mailbox dlist builder). */
    static final List<String> ORDER = List.of(
            "UNIQUEID",
            "MBOXNAME",
            "MBOXTYPE",
            "SYNC_CRC",
            "SYNC_CRC_ANNOT",
            "LAST_UID",
            "HIGHESTMODSEQ",
            "RECENTUID",
            "RECENTTIME",
            "LAST_APPENDDATE",
            "POP3_LAST_LOGIN",
            "POP3_SHOW_AFTER",
            "XCONVMODSEQ",
            "RACLMODSEQ",
            "UIDVALIDITY",
            "PARTITION",
            "ACL",
            "OPTIONS",
            "QUOTAROOT",
            "CREATEDMODSEQ",
            "FOLDERMODSEQ",
            "ANNOTATIONS",
            "SINCE_MODSEQ",
            "SINCE_CRC",
            "SINCE_CRC_ANNOT",
            "RECORD");

    private Mailbox(DKvList kv) {
        super(kv);
    }

    /** Wraps a received kvlist; UNIQUEID, MBOXNAME and HIGHESTMODSEQ are always required. */
    public static Mailbox from(DKvList kv) {
        requireKeys(kv, "UNIQUEID", "MBOXNAME", "HIGHESTMODSEQ");
        return new Mailbox(kv);
    }

    /** Starts a mailbox from typed values; keys come out in Cyrus's order whatever the call order. */
    public static Builder builder(String uniqueId, String name) {
        return new Builder(uniqueId, name);
    }

    @Override
    protected List<String> order() {
        return ORDER;
    }

    public String uniqueId() {
        return text("UNIQUEID");
    }

    public String name() {
        return text("MBOXNAME");
    }

    /** Type letters (spec 2.7); empty for a plain email mailbox. */
    public String mboxType() {
        return optText("MBOXTYPE").orElse("");
    }

    public boolean isIntermediate() {
        return mboxType().contains("i");
    }

    /** A tombstone entry (type contains {@code d}), not a DELETED.* mailbox. */
    public boolean isTombstone() {
        return mboxType().contains("d");
    }

    /** Intermediates and tombstones carry only a few keys (spec 3.2). */
    public boolean isHeaderOnly() {
        return isIntermediate() || isTombstone();
    }

    /** 0 when absent: "don't care" (spec 4.9). */
    public long syncCrc() {
        return num64OrZero("SYNC_CRC");
    }

    public long syncCrcAnnot() {
        return num64OrZero("SYNC_CRC_ANNOT");
    }

    public long lastUid() {
        return num32("LAST_UID");
    }

    public long highestModSeq() {
        return num64("HIGHESTMODSEQ");
    }

    public long recentUid() {
        return num32("RECENTUID");
    }

    public long recentTime() {
        return kv.require("RECENTTIME").asDate();
    }

    public long lastAppendDate() {
        return kv.require("LAST_APPENDDATE").asDate();
    }

    public long pop3LastLogin() {
        return kv.require("POP3_LAST_LOGIN").asDate();
    }

    public long pop3ShowAfter() {
        return num64OrZero("POP3_SHOW_AFTER");
    }

    public long xconvModSeq() {
        return num64OrZero("XCONVMODSEQ");
    }

    public long raclModSeq() {
        return num64OrZero("RACLMODSEQ");
    }

    public long uidValidity() {
        return num32("UIDVALIDITY");
    }

    public String partition() {
        return text("PARTITION");
    }

    /** Internal ACL string: {@code identifier TAB rights TAB} repeated. */
    public String acl() {
        return text("ACL");
    }

    public String options() {
        return text("OPTIONS");
    }

    public Optional<String> quotaRoot() {
        return optText("QUOTAROOT");
    }

    public long createdModSeq() {
        return num64OrZero("CREATEDMODSEQ");
    }

    public long folderModSeq() {
        return num64OrZero("FOLDERMODSEQ");
    }

    /** Mailbox-level annotations; an absent list means "none" (APPLY deletes all, spec 3.2). */
    public List<Annotation> annotations() {
        return kv.get("ANNOTATIONS")
                .map(v -> v.asList().map(a -> Annotation.from(a.asKvList())))
                .orElse(List.of());
    }

    public OptionalLong sinceModSeq() {
        return kv.get("SINCE_MODSEQ").map(v -> OptionalLong.of(v.asNum64())).orElse(OptionalLong.empty());
    }

    public long sinceCrc() {
        return num64OrZero("SINCE_CRC");
    }

    public long sinceCrcAnnot() {
        return num64OrZero("SINCE_CRC_ANNOT");
    }

    public boolean hasRecords() {
        return kv.has("RECORD");
    }

    /** RECORD items in wire order (ascending UID); empty if absent. */
    public List<MessageRecord> records() {
        return kv.get("RECORD")
                .map(v -> v.asList().map(r -> MessageRecord.from(r.asKvList())))
                .orElse(List.of());
    }

    /**
     * The header a replica stores and echoes: everything received except RECORD and the
     * request-only SINCE_* preconditions (Cyrus never returns those).
     */
    public Mailbox header() {
        return new Mailbox(kv.without("RECORD", "SINCE_MODSEQ", "SINCE_CRC", "SINCE_CRC_ANNOT"));
    }

    public Mailbox withRecords(List<MessageRecord> records) {
        return with(
                "RECORD", DList.of(records.stream().map(MessageRecord::toDList).toList()));
    }

    /**
     * This header as APPLY RENAME leaves it on a replica: the new name, the new partition where
     * the header has one (intermediates have none), and a higher UIDVALIDITY if one was sent.
     */
    public Mailbox renamed(String newName, String newPartition, Long newUidValidity) {
        Mailbox h = withName(newName);
        if (kv.has("PARTITION")) {
            h = h.withPartition(newPartition);
        }
        if (newUidValidity != null && !h.isHeaderOnly() && newUidValidity > h.uidValidity()) {
            h = h.withUidValidity(newUidValidity);
        }
        return h;
    }

    public Mailbox withName(String name) {
        return with("MBOXNAME", DAtom.of(name));
    }

    public Mailbox withPartition(String partition) {
        return with("PARTITION", DAtom.of(partition));
    }

    public Mailbox withUidValidity(long uidValidity) {
        return with("UIDVALIDITY", DAtom.ofNumber(uidValidity));
    }

    public Mailbox withSyncCrcs(long crc, long crcAnnot) {
        return with("SYNC_CRC", DAtom.ofNumber(crc)).with("SYNC_CRC_ANNOT", DAtom.ofNumber(crcAnnot));
    }

    public Mailbox withSince(long modSeq, long crc, long crcAnnot) {
        return with("SINCE_MODSEQ", DAtom.ofNumber(modSeq))
                .with("SINCE_CRC", DAtom.ofNumber(crc))
                .with("SINCE_CRC_ANNOT", DAtom.ofNumber(crcAnnot));
    }

    /** Replaces the mailbox annotations; an empty list removes the key. */
    public Mailbox withAnnotations(List<Annotation> annotations) {
        if (annotations.isEmpty()) {
            return new Mailbox(kv.without("ANNOTATIONS"));
        }
        return with(
                "ANNOTATIONS",
                DList.of(annotations.stream().map(Annotation::toDList).toList()));
    }

    /** Sets any key, e.g. one this class has no typed setter for. */
    public Mailbox with(String key, DValue value) {
        return new Mailbox(set(key, value));
    }

    /** Typed construction of a mailbox for APPLY MAILBOX. */
    public static final class Builder {
        private Mailbox m;

        private Builder(String uniqueId, String name) {
            m = new Mailbox(DKvList.empty())
                    .with("UNIQUEID", DAtom.of(uniqueId))
                    .with("MBOXNAME", DAtom.of(name));
        }

        public Builder mboxType(String type) {
            return text("MBOXTYPE", type);
        }

        public Builder syncCrc(long crc, long crcAnnot) {
            m = m.withSyncCrcs(crc, crcAnnot);
            return this;
        }

        public Builder lastUid(long v) {
            return num("LAST_UID", v);
        }

        public Builder highestModSeq(long v) {
            return num("HIGHESTMODSEQ", v);
        }

        public Builder recentUid(long v) {
            return num("RECENTUID", v);
        }

        public Builder recentTime(long v) {
            return num("RECENTTIME", v);
        }

        public Builder lastAppendDate(long v) {
            return num("LAST_APPENDDATE", v);
        }

        public Builder pop3LastLogin(long v) {
            return num("POP3_LAST_LOGIN", v);
        }

        public Builder pop3ShowAfter(long v) {
            return num("POP3_SHOW_AFTER", v);
        }

        public Builder uidValidity(long v) {
            return num("UIDVALIDITY", v);
        }

        public Builder partition(String v) {
            return text("PARTITION", v);
        }

        public Builder acl(String v) {
            return text("ACL", v);
        }

        public Builder options(String v) {
            return text("OPTIONS", v);
        }

        public Builder quotaRoot(String v) {
            return text("QUOTAROOT", v);
        }

        public Builder createdModSeq(long v) {
            return num("CREATEDMODSEQ", v);
        }

        public Builder folderModSeq(long v) {
            return num("FOLDERMODSEQ", v);
        }

        public Builder annotations(List<Annotation> v) {
            m = m.withAnnotations(v);
            return this;
        }

        public Builder since(long modSeq, long crc, long crcAnnot) {
            m = m.withSince(modSeq, crc, crcAnnot);
            return this;
        }

        public Builder records(List<MessageRecord> records) {
            m = m.withRecords(records);
            return this;
        }

        private Builder num(String key, long v) {
            m = m.with(key, DAtom.ofNumber(v));
            return this;
        }

        private Builder text(String key, String v) {
            m = m.with(key, DAtom.of(v));
            return this;
        }

        public Mailbox build() {
            return Mailbox.from(m.kv);
        }
    }
}
