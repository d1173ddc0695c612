package io.mailstream.csync.model;

import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.dlist.DKvList;
import java.util.List;
import java.util.Optional;

/**
 * One entry of a user's seen database for a mailbox (by uniqueid): APPLY SEEN carries USERID,
 * the {@code * SEEN} reply does not (spec 3.1/3.2).
 */
public final class SeenEntry extends KvBacked {
    private static final List<String> ORDER =
            List.of("USERID", "UNIQUEID", "LASTREAD", "LASTUID", "LASTCHANGE", "SEENUIDS");

    private SeenEntry(DKvList kv) {
        super(kv);
    }

    public static SeenEntry from(DKvList kv) {
        requireKeys(kv, "UNIQUEID", "LASTREAD", "LASTUID", "LASTCHANGE", "SEENUIDS");
        return new SeenEntry(kv);
    }

    public static SeenEntry of(
            String userId, String uniqueId, long lastRead, long lastUid, long lastChange, String seenUids) {
        return from(DKvList.of(List.of(
                new DKvList.Entry("USERID", DAtom.of(userId)),
                new DKvList.Entry("UNIQUEID", DAtom.of(uniqueId)),
                new DKvList.Entry("LASTREAD", DAtom.ofNumber(lastRead)),
                new DKvList.Entry("LASTUID", DAtom.ofNumber(lastUid)),
                new DKvList.Entry("LASTCHANGE", DAtom.ofNumber(lastChange)),
                new DKvList.Entry("SEENUIDS", DAtom.of(seenUids)))));
    }

    @Override
    protected List<String> order() {
        return ORDER;
    }

    public Optional<String> userId() {
        return optText("USERID");
    }

    public String uniqueId() {
        return text("UNIQUEID");
    }

    public long lastRead() {
        return kv.require("LASTREAD").asDate();
    }

    public long lastUid() {
        return num32("LASTUID");
    }

    public long lastChange() {
        return kv.require("LASTCHANGE").asDate();
    }

    /** IMAP sequence set of seen UIDs, e.g. {@code 1:3,5}. */
    public String seenUids() {
        return text("SEENUIDS");
    }

    public SeenEntry withUserId(String userId) {
        return new SeenEntry(set("USERID", DAtom.of(userId)));
    }

    /** The reply form (GET USER/META), which has no USERID. */
    public SeenEntry withoutUserId() {
        return new SeenEntry(kv.without("USERID"));
    }
}
