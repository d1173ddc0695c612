package io.mailstream.csync.model;

import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.dlist.DKvList;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * An annotation (IMAP METADATA entry): inside a record or mailbox {@code %(ENTRY USERID MODSEQ
 * VALUE)}, or standalone with MBOXNAME for APPLY/GET ANNOTATION ({@code MBOXNAME ""} = server).
 * USERID {@code ""} is the shared value, anything else a private one. The value is a byte string.
 */
public final class Annotation extends KvBacked {
    public static final String VENDOR = "/vendor/cmu/cyrus-imapd/";
    /** Virtual per-message annotations that carry index fields (spec 3.2 RECORD table). */
    public static final String THRID = VENDOR + "thrid";

    public static final String SAVEDATE = VENDOR + "savedate";
    public static final String CREATEDMODSEQ = VENDOR + "createdmodseq";

    private static final List<String> ORDER = List.of("MBOXNAME", "ENTRY", "USERID", "MODSEQ", "VALUE");

    private Annotation(DKvList kv) {
        super(kv);
    }

    public static Annotation from(DKvList kv) {
        requireKeys(kv, "ENTRY", "USERID");
        return new Annotation(kv);
    }

    /** A record or mailbox annotation (all four keys, as Cyrus requires since 3.2). */
    public static Annotation of(String entry, String userId, long modSeq, byte[] value) {
        return new Annotation(DKvList.empty())
                .with("ENTRY", DAtom.of(entry))
                .with("USERID", DAtom.of(userId))
                .with("MODSEQ", DAtom.ofNumber(modSeq))
                .with("VALUE", DAtom.of(value));
    }

    public static Annotation of(String entry, String userId, long modSeq, String value) {
        return of(entry, userId, modSeq, value.getBytes(StandardCharsets.UTF_8));
    }

    /** The APPLY ANNOTATION / {@code * ANNOTATION} form: MBOXNAME ENTRY USERID VALUE. */
    public static Annotation forMailbox(String mboxName, String entry, String userId, byte[] value) {
        return new Annotation(DKvList.empty())
                .with("MBOXNAME", DAtom.of(mboxName))
                .with("ENTRY", DAtom.of(entry))
                .with("USERID", DAtom.of(userId))
                .with("VALUE", DAtom.of(value));
    }

    private Annotation with(String key, DAtom v) {
        return new Annotation(set(key, v));
    }

    @Override
    protected List<String> order() {
        return ORDER;
    }

    public Optional<String> mboxName() {
        return optText("MBOXNAME");
    }

    public String entry() {
        return text("ENTRY");
    }

    public String userId() {
        return text("USERID");
    }

    public long modSeq() {
        return num64OrZero("MODSEQ");
    }

    public byte[] value() {
        return kv.require("VALUE").asAtom().bytes();
    }

    public String valueText() {
        return kv.require("VALUE").asString();
    }

    public boolean isShared() {
        return userId().isEmpty();
    }

    public Annotation withMboxName(String mboxName) {
        return with("MBOXNAME", DAtom.of(mboxName));
    }

    public Annotation withoutMboxName() {
        return new Annotation(kv.without("MBOXNAME"));
    }

    /** (mailbox, entry, userid): what identifies an annotation. */
    public String identity() {
        return mboxName().orElse("") + "\0" + entry() + "\0" + userId();
    }
}
