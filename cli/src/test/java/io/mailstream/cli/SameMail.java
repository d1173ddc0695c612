package io.mailstream.cli;

import io.mailstream.bridge.capture.CaptureTranslator;
import io.mailstream.csync.dlist.DListLimits;
import io.mailstream.csync.dlist.DListReader;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.schemas.MailboxState;
import io.mailstream.sinks.StoreReader;
import io.mailstream.sinks.StoredBody;
import io.mailstream.testkit.CyrusEndpoint;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.ImapException;
import io.mailstream.testkit.ImapSnapshot;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a Cyrus replica or an out-of-band store holds what a Cyrus primary holds, as a list of
 * differences (empty when the same): over IMAP ({@link ImapSnapshot}), over {@code SYNCGET} (the
 * user and every mailbox with all its records), and for a store its mailboxes, records and bodies.
 */
final class SameMail {
    private static final Pattern MBOXNAME = Pattern.compile("MBOXNAME ([^ )]+)");

    private SameMail() {}

    /** IMAP snapshots and SYNCGET USER and FULLMAILBOX, for every user. */
    static List<String> replicaDifferences(CyrusEndpoint primary, CyrusEndpoint replica, Collection<String> users) {
        List<String> out = new ArrayList<>();
        for (String user : users) {
            String d = ImapSnapshot.take(primary, user).describeDifferences(ImapSnapshot.take(replica, user));
            if (d != null) out.add(d);
        }
        try (ImapClient p = primary.imapAdmin();
                ImapClient r = replica.imapAdmin()) {
            for (String user : users) {
                diff("SYNCGET of " + user, syncGetUser(p, user), syncGetUser(r, user), out);
            }
        }
        return out;
    }

    /**
     * GET USER, then GET FULLMAILBOX of each of its mailboxes (every record, expunged ones
     * included, so a duplicated or missing message shows), as wire lines, less two values every
     * replica sets itself, Cyrus's own replication included: a quota root's MODSEQ (sync_client
     * sends APPLY QUOTA only when a limit changes) and a sieve script's LAST_UPDATE (the file's
     * mtime on the replica).
     */
    static List<String> syncGetUser(ImapClient admin, String user) {
        List<String> lines = new ArrayList<>();
        for (byte[] line : admin.syncGet("USER " + user)) {
            String l = new String(line, StandardCharsets.UTF_8);
            if (l.startsWith("* QUOTA ")) l = l.replaceAll(" MODSEQ \\d+", "");
            if (l.startsWith("* SIEVE ")) l = l.replaceAll(" LAST_UPDATE \\d+", "");
            lines.add(l);
            Matcher name = MBOXNAME.matcher(l);
            if (l.startsWith("* MAILBOX ") && name.find()) {
                admin.syncGet("FULLMAILBOX " + name.group(1))
                        .forEach(b -> lines.add(new String(b, StandardCharsets.UTF_8)));
            }
        }
        return lines.stream().sorted().toList();
    }

    /** The user's mailboxes as the primary reports them to a replica (GET USER, then FULLMAILBOX each). */
    static List<Mailbox> fullMailboxes(ImapClient admin, String user) {
        List<Mailbox> out = new ArrayList<>();
        for (String line : syncGetUser(admin, user)) {
            if (line.startsWith("* MAILBOX ") && line.contains("RECORD ")) out.add(parseMailbox(line));
        }
        // imapd's SYNCGET USER answers as if SIEVE-MAILBOX were off and leaves out the #sieve mailbox,
        // which capture (SIEVE-MAILBOX on) does receive and the tiers do hold; FULLMAILBOX returns it.
        fullMailbox(admin, "user." + user + ".#sieve").ifPresent(out::add); // absent: Cyrus never made one
        return out;
    }

    /** GET FULLMAILBOX of one mailbox (header and every record), or empty when the server has no mailbox of that name. */
    static java.util.Optional<Mailbox> fullMailbox(ImapClient admin, String name) {
        List<byte[]> lines;
        try {
            lines = admin.syncGet("FULLMAILBOX " + name);
        } catch (ImapException noSuchMailbox) {
            return java.util.Optional.empty();
        }
        for (byte[] line : lines) {
            String l = new String(line, StandardCharsets.UTF_8);
            if (l.startsWith("* MAILBOX ")) return java.util.Optional.of(parseMailbox(l));
        }
        return java.util.Optional.empty();
    }

    /** Mailboxes (every header field and record) and the bodies of every live record, against the primary's. */
    static List<String> storeDifferences(ImapClient primaryAdmin, StoreReader store, Collection<String> users)
            throws IOException {
        Map<String, List<Mailbox>> expected = new TreeMap<>();
        for (String user : users) expected.put(user, fullMailboxes(primaryAdmin, user));
        return storeDifferences(store, expected);
    }

    /** The store's folder of each partition key against the mailboxes (with every record) the primary has under it. */
    static List<String> storeDifferences(StoreReader store, Map<String, List<Mailbox>> expectedByKey)
            throws IOException {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, List<Mailbox>> key : expectedByKey.entrySet()) {
            Map<String, MailboxState> stored = new TreeMap<>();
            store.mailboxes(key.getKey()).forEach(m -> stored.put(m.getHeader().getUniqueId(), m));
            out.addAll(stateDifferences("store", key.getKey(), key.getValue(), stored));
            for (Mailbox m : key.getValue()) {
                if (!stored.containsKey(m.uniqueId())) continue;
                for (MessageRecord r : m.records()) {
                    if (!r.isExpunged()) bodyDifference(store, r).ifPresent(out::add);
                }
            }
        }
        return out;
    }

    /**
     * Folded mailbox states (by uniqueid) of one partition key against the primary's mailboxes
     * under that key: the same uniqueids, and for each the header and every record.
     */
    static List<String> stateDifferences(
            String where, String key, List<Mailbox> expectedMailboxes, Map<String, MailboxState> actual) {
        List<String> out = new ArrayList<>();
        Map<String, Mailbox> expected = new TreeMap<>();
        expectedMailboxes.forEach(m -> expected.put(m.uniqueId(), m));
        diff(where + " mailboxes of " + key, List.copyOf(expected.keySet()), List.copyOf(actual.keySet()), out);
        for (Mailbox m : expected.values()) {
            MailboxState s = actual.get(m.uniqueId());
            if (s == null) continue;
            if (!CaptureTranslator.header(m.header()).equals(s.getHeader())) {
                out.add(where + " header of " + m.name() + ": " + s.getHeader() + "\n  primary: "
                        + CaptureTranslator.header(m.header()));
            }
            diff(
                    where + " records of " + m.name(),
                    m.records().stream()
                            .map(CaptureTranslator::record)
                            .map(Object::toString)
                            .toList(),
                    s.getRecords().stream().map(Object::toString).toList(),
                    out);
        }
        return out;
    }

    private static java.util.Optional<String> bodyDifference(StoreReader store, MessageRecord r) throws IOException {
        if (!store.hasBody(r.guid().hex()))
            return java.util.Optional.of("store has no body " + r.guid().hex());
        try (StoredBody body = store.openBody(r.guid().hex())) {
            byte[] bytes = body.content().readAllBytes();
            // The GUID is the SHA-1 of the primary's message file: equal digest, equal bytes.
            String sha1 = sha1(bytes);
            return sha1.equals(r.guid().hex()) && bytes.length == r.size()
                    ? java.util.Optional.empty()
                    : java.util.Optional.of(
                            "store body " + r.guid().hex() + " has SHA-1 " + sha1 + ", " + bytes.length + " bytes");
        }
    }

    private static void diff(String what, List<String> expected, List<String> actual, List<String> out) {
        List<String> missing = new ArrayList<>(expected);
        missing.removeAll(actual);
        List<String> extra = new ArrayList<>(actual);
        extra.removeAll(expected);
        if (!missing.isEmpty() || !extra.isEmpty() || expected.size() != actual.size()) {
            out.add(what + ":\n  only on the primary: " + missing + "\n  only here: " + extra + "\n  counts "
                    + expected.size() + " / " + actual.size());
        }
    }

    private static Mailbox parseMailbox(String line) {
        try {
            DListReader r = new DListReader(
                    new ByteArrayInputStream(line.getBytes(StandardCharsets.UTF_8)), DListLimits.DEFAULTS);
            r.readWord(); // "*"
            r.skipBlanks();
            return Mailbox.from(r.readKeyed().value().asKvList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha1(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
