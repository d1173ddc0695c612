package io.mailstream.csync.realcyrus;

import io.mailstream.csync.dlist.DKeyed;
import io.mailstream.csync.dlist.DListLimits;
import io.mailstream.csync.dlist.DListReader;
import io.mailstream.csync.dlist.DListWriter;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.testkit.ImapClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reading a real Cyrus server's replication state over IMAP ({@code SYNCGET} as admin) into typed replies. */
final class SyncState {
    private SyncState() {}

    /** {@code SYNCGET <args>} on a real Cyrus, each {@code * ...} line parsed with our own codec. */
    static List<CsyncReply> syncGet(ImapClient admin, String args) {
        List<CsyncReply> out = new ArrayList<>();
        for (byte[] line : admin.syncGet(args)) {
            out.add(parse(line));
        }
        return out;
    }

    static CsyncReply parse(byte[] line) {
        byte[] withEol = new byte[line.length + 2];
        System.arraycopy(line, 0, withEol, 0, line.length);
        withEol[line.length] = '\r';
        withEol[line.length + 1] = '\n';
        try {
            DListReader r = new DListReader(new ByteArrayInputStream(withEol), DListLimits.DEFAULTS);
            r.beginLine();
            if (!r.readWord().equals("*")) {
                throw new IllegalArgumentException("not a data line: " + new String(line, StandardCharsets.ISO_8859_1));
            }
            r.skipBlanks();
            DKeyed keyed = r.readKeyed();
            r.readEndOfLine();
            return CsyncReply.decode(keyed);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (CsyncException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** A reply as Cyrus would put it on the wire: comparable text, independent of how it was parsed. */
    static String wire(CsyncReply r) {
        DKeyed k = r.toDKeyed();
        return k.key() + " "
                + new String(DListWriter.toBytes(k.value(), DListWriter.Mode.SERVER), StandardCharsets.ISO_8859_1);
    }

    /**
     * The replies as comparable text, with one Cyrus value left out: a quota root's MODSEQ. The primary bumps it
     * on usage changes but sync_client only sends APPLY QUOTA when a limit changes (and compares limits only), so
     * a real Cyrus replica keeps the MODSEQ of the last APPLY QUOTA, exactly as we do.
     */
    static List<String> comparable(List<CsyncReply> replies) {
        return replies.stream()
                .map(r -> r instanceof CsyncReply.QuotaReply q
                        ? wire(new CsyncReply.QuotaReply(
                                QuotaRoot.from(q.quota().toDList().without("MODSEQ"))))
                        : wire(r))
                .toList();
    }
}
