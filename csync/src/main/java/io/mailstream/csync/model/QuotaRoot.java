package io.mailstream.csync.model;

import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.dlist.DKvList;
import java.util.List;
import java.util.OptionalLong;

/**
 * A quota root and its limits (spec 3.1 {@code * QUOTA}, 3.2 APPLY QUOTA). LIMIT is the storage
 * limit as num32 with 4294967295 meaning unlimited; the named resources are present only when
 * limited. Storage is in KiB.
 */
public final class QuotaRoot extends KvBacked {
    public static final String STORAGE = "STORAGE";
    public static final String MESSAGE = "MESSAGE";
    public static final String ANNOTATION_STORAGE = "X-ANNOTATION-STORAGE";
    public static final String NUM_FOLDERS = "X-NUM-FOLDERS";
    public static final long UNLIMITED_LEGACY = 0xFFFFFFFFL;
    private static final List<String> ORDER =
            List.of("ROOT", "LIMIT", STORAGE, MESSAGE, ANNOTATION_STORAGE, NUM_FOLDERS, "MODSEQ");

    private QuotaRoot(DKvList kv) {
        super(kv);
    }

    public static QuotaRoot from(DKvList kv) {
        requireKeys(kv, "ROOT");
        return new QuotaRoot(kv);
    }

    /** A root with only a storage limit (null = unlimited). */
    public static QuotaRoot of(String root, Long storageKib, long modSeq) {
        QuotaRoot q = new QuotaRoot(DKvList.of(List.of(
                new DKvList.Entry("ROOT", DAtom.of(root)),
                new DKvList.Entry("LIMIT", DAtom.ofNumber(storageKib == null ? UNLIMITED_LEGACY : storageKib)))));
        if (storageKib != null) {
            q = q.withLimit(STORAGE, storageKib);
        }
        return new QuotaRoot(q.setNumber("MODSEQ", modSeq));
    }

    @Override
    protected List<String> order() {
        return ORDER;
    }

    public String root() {
        return text("ROOT");
    }

    /** Limit of a named resource ({@link #STORAGE}, {@link #MESSAGE}, ...); empty = unlimited. */
    public OptionalLong limit(String resource) {
        return kv.get(resource).map(v -> OptionalLong.of(v.asNum64())).orElse(OptionalLong.empty());
    }

    public long modSeq() {
        return num64OrZero("MODSEQ");
    }

    public QuotaRoot withLimit(String resource, long value) {
        return new QuotaRoot(setNumber(resource, value));
    }
}
