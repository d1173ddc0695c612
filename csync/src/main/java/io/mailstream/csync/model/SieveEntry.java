package io.mailstream.csync.model;

import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.dlist.DKvList;
import java.util.List;
import java.util.Optional;

/**
 * A sieve script entry. APPLY SIEVE: USERID FILENAME LAST_UPDATE CONTENT; {@code * SIEVE} in
 * GET USER/META: FILENAME LAST_UPDATE [GUID] [ISACTIVE]; GET FETCH_SIEVE: USERID FILENAME CONTENT.
 * FILENAME is {@code <name>.script} (or {@code <name>.bc} for the active marker).
 */
public final class SieveEntry extends KvBacked {
    private static final List<String> ORDER =
            List.of("USERID", "FILENAME", "LAST_UPDATE", "GUID", "ISACTIVE", "CONTENT");

    private SieveEntry(DKvList kv) {
        super(kv);
    }

    public static SieveEntry from(DKvList kv) {
        requireKeys(kv, "FILENAME");
        return new SieveEntry(kv);
    }

    /** The APPLY SIEVE form. */
    public static SieveEntry upload(String userId, String fileName, long lastUpdate, byte[] content) {
        return from(DKvList.of(List.of(
                new DKvList.Entry("USERID", DAtom.of(userId)),
                new DKvList.Entry("FILENAME", DAtom.of(fileName)),
                new DKvList.Entry("LAST_UPDATE", DAtom.ofNumber(lastUpdate)),
                new DKvList.Entry("CONTENT", DAtom.of(content)))));
    }

    /** The {@code * SIEVE} listing form without GUID (then the master compares by date); see {@link #withGuid}. */
    public static SieveEntry listing(String fileName, long lastUpdate, boolean active) {
        return from(DKvList.of(List.of(
                new DKvList.Entry("FILENAME", DAtom.of(fileName)),
                new DKvList.Entry("LAST_UPDATE", DAtom.ofNumber(lastUpdate)),
                new DKvList.Entry("ISACTIVE", DAtom.ofNumber(active ? 1 : 0)))));
    }

    @Override
    protected List<String> order() {
        return ORDER;
    }

    public Optional<String> userId() {
        return optText("USERID");
    }

    public String fileName() {
        return text("FILENAME");
    }

    public long lastUpdate() {
        return kv.get("LAST_UPDATE").map(v -> v.asDate()).orElse(0L);
    }

    public Optional<Guid> guid() {
        return kv.get("GUID").map(v -> Guid.of(v.asGuidHex()));
    }

    public boolean isActive() {
        return kv.get("ISACTIVE").map(v -> v.asNum32() != 0).orElse(false);
    }

    public byte[] content() {
        return kv.require("CONTENT").asAtom().bytes();
    }

    public SieveEntry withGuid(Guid guid) {
        return new SieveEntry(set("GUID", DAtom.of(guid.hex())));
    }
}
