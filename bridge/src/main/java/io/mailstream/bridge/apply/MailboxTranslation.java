package io.mailstream.bridge.apply;

import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.dlist.DListLimits;
import io.mailstream.csync.dlist.DListReader;
import io.mailstream.csync.dlist.DValue;
import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.schemas.MailboxUpsert;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Folded mailbox state (a {@link MailboxUpsert} header and its records) as the csync
 * {@link Mailbox} of an APPLY MAILBOX, with the target replica's partition substituted: the staged
 * files are looked up under that partition, and a different PARTITION would be read as a move.
 */
public final class MailboxTranslation {
    private MailboxTranslation() {}

    /**
     * The APPLY MAILBOX for {@code header} carrying {@code records} (sorted here by UID, as the
     * replica requires). Intermediates and tombstones get only the keys Cyrus sends for them.
     */
    public static Mailbox toMailbox(
            MailboxUpsert header, List<io.mailstream.schemas.MessageRecord> records, String partition) {
        Mailbox.Builder b = Mailbox.builder(header.getUniqueId(), header.getName());
        String type = header.getMboxType();
        if (type != null && !type.isEmpty()) b.mboxType(type);
        if (type != null && (type.contains("i") || type.contains("d"))) {
            return b.highestModSeq(header.getHighestModseq())
                    .createdModSeq(header.getCreatedModseq())
                    .folderModSeq(header.getFolderModseq())
                    .build();
        }
        b.syncCrc(header.getSyncCrc(), header.getSyncCrcAnnot())
                .lastUid(header.getLastUid())
                .highestModSeq(header.getHighestModseq())
                .recentUid(header.getRecentUid())
                .recentTime(header.getRecentTime())
                .lastAppendDate(header.getLastAppendDate())
                .pop3LastLogin(header.getPop3LastLogin())
                .pop3ShowAfter(header.getPop3ShowAfter())
                .uidValidity(header.getUidValidity())
                .partition(partition)
                .acl(header.getAcl())
                .options(header.getOptions())
                .annotations(header.getAnnotations().stream()
                        .map(MailboxTranslation::toAnnotation)
                        .toList())
                .records(records.stream()
                        .sorted(Comparator.comparingLong(io.mailstream.schemas.MessageRecord::getUid))
                        .map(MailboxTranslation::toRecord)
                        .toList());
        if (header.getQuotaRoot() != null) b.quotaRoot(header.getQuotaRoot());
        if (header.getCreatedModseq() != 0) b.createdModSeq(header.getCreatedModseq());
        if (header.getFolderModseq() != 0) b.folderModSeq(header.getFolderModseq());
        Mailbox m = b.build();
        if (header.getXconvModseq() != 0) m = m.with("XCONVMODSEQ", DAtom.ofNumber(header.getXconvModseq()));
        if (header.getRaclModseq() != 0) m = m.with("RACLMODSEQ", DAtom.ofNumber(header.getRaclModseq()));
        for (Map.Entry<String, String> extra : header.getExtraKeys().entrySet()) {
            m = m.with(extra.getKey(), parse(extra.getValue()));
        }
        return m;
    }

    public static MessageRecord toRecord(io.mailstream.schemas.MessageRecord r) {
        return MessageRecord.of(
                r.getUid(),
                r.getModseq(),
                r.getLastUpdated(),
                r.getFlags(),
                r.getInternalDate(),
                r.getSize(),
                Guid.of(r.getGuid()),
                r.getAnnotations().stream()
                        .map(MailboxTranslation::toAnnotation)
                        .toList());
    }

    static Annotation toAnnotation(io.mailstream.schemas.Annotation a) {
        return Annotation.of(a.getEntry(), a.getUserId(), a.getModseq(), bytes(a.getValue()));
    }

    static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** extraKeys hold a value as its csync text (an atom, or a list/kvlist in parentheses). */
    private static DValue parse(String csyncText) {
        try {
            return new DListReader(
                            new ByteArrayInputStream(csyncText.getBytes(StandardCharsets.UTF_8)), DListLimits.DEFAULTS)
                    .readValue();
        } catch (IOException e) {
            throw new UncheckedIOException("unparseable extra header value: " + csyncText, e);
        }
    }
}
