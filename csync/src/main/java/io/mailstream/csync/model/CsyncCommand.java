package io.mailstream.csync.model;

import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.dlist.DKeyed;
import io.mailstream.csync.dlist.DKvList;
import io.mailstream.csync.dlist.DList;
import io.mailstream.csync.dlist.DListTypeException;
import io.mailstream.csync.dlist.DNil;
import io.mailstream.csync.dlist.DValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The GET and APPLY commands of the 3.6 protocol (spec 3), one record each. {@link #verb()} is
 * {@code GET} or {@code APPLY}; {@link #toDKeyed()} is the argument after the verb.
 * {@code LOCAL_*} variants are the same records with {@code local = true}.
 */
public sealed interface CsyncCommand {

    String verb();

    DKeyed toDKeyed();

    /** Whether the command is GET (read-only). */
    default boolean isGet() {
        return verb().equals("GET");
    }

    // ---- GET ---------------------------------------------------------------------------------

    record GetUser(String userId) implements CsyncCommand {
        public String verb() {
            return "GET";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("USER", DAtom.of(userId));
        }
    }

    record GetMailboxes(List<String> names) implements CsyncCommand {
        public GetMailboxes {
            names = List.copyOf(names);
        }

        public String verb() {
            return "GET";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("MAILBOXES", DList.ofStrings(names));
        }
    }

    record GetUniqueIds(List<String> uniqueIds) implements CsyncCommand {
        public GetUniqueIds {
            uniqueIds = List.copyOf(uniqueIds);
        }

        public String verb() {
            return "GET";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("UNIQUEIDS", DList.ofStrings(uniqueIds));
        }
    }

    record GetFullMailbox(String name) implements CsyncCommand {
        public String verb() {
            return "GET";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("FULLMAILBOX", DAtom.of(name));
        }
    }

    record GetMeta(String userId) implements CsyncCommand {
        public String verb() {
            return "GET";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("META", DAtom.of(userId));
        }
    }

    record GetQuota(String root) implements CsyncCommand {
        public String verb() {
            return "GET";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("QUOTA", DAtom.of(root));
        }
    }

    /** Mailbox-level annotations of one mailbox; {@code ""} = server annotations. */
    record GetAnnotation(String mboxName) implements CsyncCommand {
        public String verb() {
            return "GET";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("ANNOTATION", DAtom.of(mboxName));
        }
    }

    record GetFetch(String mboxName, String partition, String uniqueId, Guid guid, long uid) implements CsyncCommand {
        public String verb() {
            return "GET";
        }

        public DKeyed toDKeyed() {
            return new DKeyed(
                    "FETCH",
                    kv(
                            "MBOXNAME",
                            DAtom.of(mboxName),
                            "PARTITION",
                            DAtom.of(partition),
                            "UNIQUEID",
                            DAtom.of(uniqueId),
                            "GUID",
                            DAtom.of(guid.hex()),
                            "UID",
                            DAtom.ofNumber(uid)));
        }
    }

    record GetFetchSieve(String userId, String fileName) implements CsyncCommand {
        public String verb() {
            return "GET";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("FETCH_SIEVE", kv("USERID", DAtom.of(userId), "FILENAME", DAtom.of(fileName)));
        }
    }

    // ---- APPLY -------------------------------------------------------------------------------

    record ApplyReserve(String partition, List<String> mboxNames, List<Guid> guids) implements CsyncCommand {
        public ApplyReserve {
            mboxNames = List.copyOf(mboxNames);
            guids = List.copyOf(guids);
        }

        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed(
                    "RESERVE",
                    kv(
                            "PARTITION",
                            DAtom.of(partition),
                            "MBOXNAME",
                            DList.ofStrings(mboxNames),
                            "GUID",
                            DList.ofStrings(guids.stream().map(Guid::hex).toList())));
        }
    }

    /**
     * Message bodies to stage. Bodies read by the server are deleted once the handler returns;
     * a handler that keeps them must copy them.
     */
    record ApplyMessage(List<MessageFile> files) implements CsyncCommand {
        public ApplyMessage {
            files = List.copyOf(files);
        }

        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed(
                    "MESSAGE", DList.of(files.stream().map(MessageFile::toDList).toList()));
        }
    }

    record ApplyMailbox(Mailbox mailbox, boolean local) implements CsyncCommand {
        public ApplyMailbox {
            Objects.requireNonNull(mailbox);
        }

        public ApplyMailbox(Mailbox mailbox) {
            this(mailbox, false);
        }

        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed(local ? "LOCAL_MAILBOX" : "MAILBOX", mailbox.toDList());
        }
    }

    record ApplyUnmailbox(String name, boolean local) implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed(local ? "LOCAL_UNMAILBOX" : "UNMAILBOX", DAtom.of(name));
        }
    }

    /** Rename keeping the uniqueid; also a partition move. {@code uidValidity} may be null. */
    record ApplyRename(String oldName, String newName, String partition, Long uidValidity, boolean local)
            implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            List<DKvList.Entry> e = new ArrayList<>(List.of(
                    new DKvList.Entry("OLDMBOXNAME", DAtom.of(oldName)),
                    new DKvList.Entry("NEWMBOXNAME", DAtom.of(newName)),
                    new DKvList.Entry("PARTITION", DAtom.of(partition))));
            if (uidValidity != null) {
                e.add(new DKvList.Entry("UIDVALIDITY", DAtom.ofNumber(uidValidity)));
            }
            return new DKeyed(local ? "LOCAL_RENAME" : "RENAME", DKvList.of(e));
        }
    }

    record ApplyExpunge(String mboxName, String uniqueId, List<Long> uids) implements CsyncCommand {
        public ApplyExpunge {
            uids = List.copyOf(uids);
        }

        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed(
                    "EXPUNGE",
                    kv(
                            "MBOXNAME",
                            DAtom.of(mboxName),
                            "UNIQUEID",
                            DAtom.of(uniqueId),
                            "UID",
                            DList.of(uids.stream().map(DAtom::ofNumber).toList())));
        }
    }

    record ApplySeen(SeenEntry seen) implements CsyncCommand {
        public ApplySeen {
            if (seen.userId().isEmpty()) {
                throw new DListTypeException("APPLY SEEN needs USERID");
            }
        }

        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("SEEN", seen.toDList());
        }
    }

    record ApplySub(String userId, String mboxName) implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("SUB", kv("USERID", DAtom.of(userId), "MBOXNAME", DAtom.of(mboxName)));
        }
    }

    record ApplyUnsub(String userId, String mboxName) implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("UNSUB", kv("USERID", DAtom.of(userId), "MBOXNAME", DAtom.of(mboxName)));
        }
    }

    record ApplyQuota(QuotaRoot quota) implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("QUOTA", quota.toDList());
        }
    }

    record ApplyUnquota(String root) implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("UNQUOTA", DAtom.of(root));
        }
    }

    /** Set a mailbox-level ({@code MBOXNAME} non-empty) or server-level annotation. */
    record ApplyAnnotation(Annotation annotation) implements CsyncCommand {
        public ApplyAnnotation {
            if (annotation.mboxName().isEmpty()) {
                throw new DListTypeException("APPLY ANNOTATION needs MBOXNAME");
            }
            annotation.value();
        }

        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("ANNOTATION", annotation.toDList());
        }
    }

    record ApplyUnannotation(String mboxName, String entry, String userId) implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed(
                    "UNANNOTATION",
                    kv("MBOXNAME", DAtom.of(mboxName), "ENTRY", DAtom.of(entry), "USERID", DAtom.of(userId)));
        }
    }

    record ApplySieve(SieveEntry script) implements CsyncCommand {
        public ApplySieve {
            if (script.userId().isEmpty()) {
                throw new DListTypeException("APPLY SIEVE needs USERID");
            }
            script.content();
        }

        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("SIEVE", script.toDList());
        }
    }

    record ApplyUnsieve(String userId, String fileName) implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("UNSIEVE", kv("USERID", DAtom.of(userId), "FILENAME", DAtom.of(fileName)));
        }
    }

    /** FILENAME is {@code <name>.bc} on the wire (spec 3.2). */
    record ApplyActivateSieve(String userId, String fileName) implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("ACTIVATE_SIEVE", kv("USERID", DAtom.of(userId), "FILENAME", DAtom.of(fileName)));
        }
    }

    record ApplyUnactivateSieve(String userId) implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("UNACTIVATE_SIEVE", kv("USERID", DAtom.of(userId)));
        }
    }

    record ApplyUnuser(String userId, boolean local) implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed(local ? "LOCAL_UNUSER" : "UNUSER", DAtom.of(userId));
        }
    }

    record ApplyCapabilities(List<String> capabilities) implements CsyncCommand {
        public ApplyCapabilities {
            capabilities = List.copyOf(capabilities);
        }

        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("CAPABILITIES", DList.ofStrings(capabilities));
        }
    }

    /** {@code sync_client -O}: accept replica values that are higher instead of CHECKSUM. */
    record ApplyForce() implements CsyncCommand {
        public String verb() {
            return "APPLY";
        }

        public DKeyed toDKeyed() {
            return new DKeyed("FORCE", DKvList.empty());
        }
    }

    // ---- decoding ----------------------------------------------------------------------------

    /**
     * Decodes {@code verb keyed-value} into a typed command. Unknown sub-commands give
     * IMAP_PROTOCOL_ERROR, missing or ill-typed keys IMAP_PROTOCOL_BAD_PARAMETERS.
     */
    static CsyncCommand decode(String verb, DKeyed arg) throws CsyncException {
        String name = arg.key().toUpperCase(Locale.ROOT);
        DValue v = arg.value();
        try {
            if (verb.equalsIgnoreCase("GET")) {
                return decodeGet(name, v);
            }
            if (verb.equalsIgnoreCase("APPLY")) {
                return decodeApply(name, v);
            }
        } catch (DListTypeException | IllegalArgumentException e) {
            throw new CsyncException(CsyncError.PROTOCOL_BAD_PARAMETERS, verb + " " + name + ": " + e.getMessage(), e);
        }
        throw new CsyncException(CsyncError.PROTOCOL_ERROR, "unknown verb " + verb);
    }

    private static CsyncCommand decodeGet(String name, DValue v) throws CsyncException {
        switch (name) {
            case "USER":
                return new GetUser(v.asString());
            case "MAILBOXES":
                return new GetMailboxes(strings(v));
            case "UNIQUEIDS":
                return new GetUniqueIds(strings(v));
            case "FULLMAILBOX":
                return new GetFullMailbox(v.asString());
            case "META":
                return new GetMeta(v.asString());
            case "QUOTA":
                return new GetQuota(v.asString());
            case "ANNOTATION":
                return new GetAnnotation(v.asString());
            case "FETCH": {
                DKvList k = v.asKvList();
                return new GetFetch(
                        k.require("MBOXNAME").asString(),
                        k.require("PARTITION").asString(),
                        k.require("UNIQUEID").asString(),
                        Guid.of(k.require("GUID").asGuidHex()),
                        k.require("UID").asNum32());
            }
            case "FETCH_SIEVE": {
                DKvList k = v.asKvList();
                return new GetFetchSieve(
                        k.require("USERID").asString(), k.require("FILENAME").asString());
            }
            default:
                throw new CsyncException(CsyncError.PROTOCOL_ERROR, "unknown GET " + name);
        }
    }

    private static CsyncCommand decodeApply(String name, DValue v) throws CsyncException {
        boolean local = name.startsWith("LOCAL_");
        String base = local ? name.substring("LOCAL_".length()) : name;
        if (local && !List.of("MAILBOX", "UNMAILBOX", "RENAME", "UNUSER").contains(base)) {
            throw new CsyncException(CsyncError.PROTOCOL_ERROR, "unknown APPLY " + name);
        }
        switch (base) {
            case "RESERVE": {
                DKvList k = v.asKvList();
                return new ApplyReserve(
                        k.require("PARTITION").asString(),
                        strings(k.require("MBOXNAME")),
                        k.require("GUID").asList().map(g -> Guid.of(g.asGuidHex())));
            }
            case "MESSAGE": {
                List<MessageFile> files = new ArrayList<>();
                for (DValue item : v.asList().items()) {
                    if (!item.isNil()) { // Cyrus skips NIL items (a file that changed under the sender)
                        files.add(MessageFile.from(item.asFile()));
                    }
                }
                return new ApplyMessage(files);
            }
            case "MAILBOX":
                return new ApplyMailbox(Mailbox.from(v.asKvList()), local);
            case "UNMAILBOX":
                return new ApplyUnmailbox(v.asString(), local);
            case "RENAME": {
                DKvList k = v.asKvList();
                return new ApplyRename(
                        k.require("OLDMBOXNAME").asString(),
                        k.require("NEWMBOXNAME").asString(),
                        k.require("PARTITION").asString(),
                        k.get("UIDVALIDITY").map(DValue::asNum32).orElse(null),
                        local);
            }
            case "EXPUNGE": {
                DKvList k = v.asKvList();
                return new ApplyExpunge(
                        k.require("MBOXNAME").asString(),
                        k.require("UNIQUEID").asString(),
                        k.require("UID").asList().map(DValue::asNum32));
            }
            case "SEEN":
                return new ApplySeen(SeenEntry.from(v.asKvList()));
            case "SUB": {
                DKvList k = v.asKvList();
                return new ApplySub(
                        k.require("USERID").asString(), k.require("MBOXNAME").asString());
            }
            case "UNSUB": {
                DKvList k = v.asKvList();
                return new ApplyUnsub(
                        k.require("USERID").asString(), k.require("MBOXNAME").asString());
            }
            case "QUOTA":
                return new ApplyQuota(QuotaRoot.from(v.asKvList()));
            case "UNQUOTA":
                return new ApplyUnquota(v.asString());
            case "ANNOTATION":
                return new ApplyAnnotation(Annotation.from(v.asKvList()));
            case "UNANNOTATION": {
                DKvList k = v.asKvList();
                return new ApplyUnannotation(
                        k.require("MBOXNAME").asString(),
                        k.require("ENTRY").asString(),
                        k.require("USERID").asString());
            }
            case "SIEVE":
                return new ApplySieve(SieveEntry.from(v.asKvList()));
            case "UNSIEVE": {
                DKvList k = v.asKvList();
                return new ApplyUnsieve(
                        k.require("USERID").asString(), k.require("FILENAME").asString());
            }
            case "ACTIVATE_SIEVE": {
                DKvList k = v.asKvList();
                return new ApplyActivateSieve(
                        k.require("USERID").asString(), k.require("FILENAME").asString());
            }
            case "UNACTIVATE_SIEVE":
                return new ApplyUnactivateSieve(v.asKvList().require("USERID").asString());
            case "UNUSER":
                return new ApplyUnuser(v.asString(), local);
            case "CAPABILITIES":
                return new ApplyCapabilities(strings(v));
            case "FORCE":
                return new ApplyForce();
            default:
                throw new CsyncException(CsyncError.PROTOCOL_ERROR, "unknown APPLY " + name);
        }
    }

    /** A list of strings; Cyrus also accepts a single atom where a list is expected. */
    private static List<String> strings(DValue v) {
        if (v instanceof DAtom a) {
            return List.of(a.text());
        }
        if (v instanceof DNil) {
            return List.of();
        }
        return v.asList().map(DValue::asString);
    }

    private static DKvList kv(Object... keysAndValues) {
        List<DKvList.Entry> e = new ArrayList<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            e.add(new DKvList.Entry((String) keysAndValues[i], (DValue) keysAndValues[i + 1]));
        }
        return DKvList.of(e);
    }
}
