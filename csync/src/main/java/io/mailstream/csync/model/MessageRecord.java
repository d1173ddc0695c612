package io.mailstream.csync.model;

import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.dlist.DKvList;
import io.mailstream.csync.dlist.DList;
import io.mailstream.csync.dlist.DValue;
import java.util.ArrayList;
import java.util.List;

/** One index record of a mailbox as sent in RECORD (spec 3.2): UID, MODSEQ, FLAGS, GUID... */
public final class MessageRecord extends KvBacked {
    public static final String EXPUNGED = "\\Expunged";
    private static final List<String> ORDER =
            List.of("UID", "MODSEQ", "LAST_UPDATED", "FLAGS", "INTERNALDATE", "SIZE", "GUID", "ANNOTATIONS");

    private MessageRecord(DKvList kv) {
        super(kv);
    }

    public static MessageRecord from(DKvList kv) {
        requireKeys(kv, "UID", "MODSEQ", "LAST_UPDATED", "FLAGS", "INTERNALDATE", "SIZE", "GUID");
        return new MessageRecord(kv);
    }

    public static MessageRecord of(
            long uid,
            long modSeq,
            long lastUpdated,
            List<String> flags,
            long internalDate,
            long size,
            Guid guid,
            List<Annotation> annotations) {
        DKvList kv = DKvList.of(List.of(
                new DKvList.Entry("UID", DAtom.ofNumber(uid)),
                new DKvList.Entry("MODSEQ", DAtom.ofNumber(modSeq)),
                new DKvList.Entry("LAST_UPDATED", DAtom.ofNumber(lastUpdated)),
                new DKvList.Entry("FLAGS", flagList(flags)),
                new DKvList.Entry("INTERNALDATE", DAtom.ofNumber(internalDate)),
                new DKvList.Entry("SIZE", DAtom.ofNumber(size)),
                new DKvList.Entry("GUID", DAtom.of(guid.hex()))));
        MessageRecord out = new MessageRecord(kv);
        return annotations.isEmpty() ? out : out.withAnnotations(annotations);
    }

    static DList flagList(List<String> flags) {
        List<DValue> atoms = new ArrayList<>(flags.size());
        for (String f : flags) {
            atoms.add(f.startsWith("\\") ? DAtom.flag(f) : DAtom.of(f));
        }
        return DList.of(atoms);
    }

    @Override
    protected List<String> order() {
        return ORDER;
    }

    public long uid() {
        return num32("UID");
    }

    public long modSeq() {
        return num64("MODSEQ");
    }

    public long lastUpdated() {
        return kv.require("LAST_UPDATED").asDate();
    }

    /** System flags and keywords in wire order, {@code \Expunged} included if set. */
    public List<String> flags() {
        return kv.require("FLAGS").asList().map(DValue::asString);
    }

    public boolean isExpunged() {
        return flags().stream().anyMatch(EXPUNGED::equalsIgnoreCase);
    }

    public long internalDate() {
        return kv.require("INTERNALDATE").asDate();
    }

    public long size() {
        return num32("SIZE");
    }

    public Guid guid() {
        return Guid.of(kv.require("GUID").asGuidHex());
    }

    /** Per-message annotations, virtual ones (thrid, savedate, createdmodseq) included. */
    public List<Annotation> annotations() {
        return kv.get("ANNOTATIONS")
                .map(v -> v.asList().map(a -> Annotation.from(a.asKvList())))
                .orElse(List.of());
    }

    public MessageRecord withFlags(List<String> flags) {
        return new MessageRecord(set("FLAGS", flagList(flags)));
    }

    public MessageRecord withModSeq(long modSeq) {
        return new MessageRecord(setNumber("MODSEQ", modSeq));
    }

    public MessageRecord withAnnotations(List<Annotation> annotations) {
        return new MessageRecord(set(
                "ANNOTATIONS",
                DList.of(annotations.stream().map(Annotation::toDList).toList())));
    }

    /** The same record marked expunged (APPLY EXPUNGE: no modseq change). */
    public MessageRecord expunged() {
        if (isExpunged()) {
            return this;
        }
        List<String> flags = new ArrayList<>(flags());
        // Cyrus's wire order: \Deleted \Answered \Flagged \Draft \Expunged \Seen keywords.
        int at = 0;
        while (at < flags.size()
                && List.of("\\deleted", "\\answered", "\\flagged", "\\draft")
                        .contains(flags.get(at).toLowerCase(java.util.Locale.ROOT))) {
            at++;
        }
        flags.add(at, EXPUNGED);
        return withFlags(flags);
    }
}
