package io.mailstream.bridge.capture;

import io.mailstream.csync.dlist.DKvList;
import io.mailstream.csync.dlist.DListWriter;
import io.mailstream.csync.dlist.DValue;
import io.mailstream.csync.model.Annotation;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncCommand.*;
import io.mailstream.csync.model.Guid;
import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageFile;
import io.mailstream.csync.model.QuotaRoot;
import io.mailstream.csync.model.SeenEntry;
import io.mailstream.schemas.AnnotationDelete;
import io.mailstream.schemas.AnnotationUpsert;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.QuotaDelete;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.SeenUpsert;
import io.mailstream.schemas.SieveActivate;
import io.mailstream.schemas.SieveDeactivate;
import io.mailstream.schemas.SieveDelete;
import io.mailstream.schemas.SieveUpsert;
import io.mailstream.schemas.Subscribe;
import io.mailstream.schemas.Unsubscribe;
import io.mailstream.schemas.UserDelete;
import io.mailstream.schemas.content.MessageChunker;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Capture's direction of the bridge: one csync APPLY becomes the change events that assert the
 * same state (schemas' change-event.avdl), in the order consumers rely on.
 *
 * <p>APPLY MAILBOX gives, on the mailbox's partition key: first the bodies its records need
 * ({@code MessageContent}, chunked), then its records ({@code RecordsUpsert}, split so that no
 * event outgrows a Kafka record), and LAST the header ({@code MailboxUpsert}): sinks treat the
 * header as the commit point of the mailbox change. A body is sent when a live record references
 * it, it was staged in this session, and the partition does not hold it yet; so a body shared by
 * two users' mailboxes goes to both users' partitions, and a body a user already holds (COPY,
 * MOVE) is not repeated.
 *
 * <p>GET, RESERVE, MESSAGE, CAPABILITIES and FORCE change no state and give no events.
 */
public final class CaptureTranslator {
    /** Header keys with a MailboxUpsert field; every other key travels in extraKeys. */
    private static final Set<String> KNOWN_HEADER_KEYS = Set.of(
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
            "ANNOTATIONS");
    /** Request-only keys: preconditions and the record delta, not mailbox state. */
    private static final Set<String> REQUEST_KEYS = Set.of("RECORD", "SINCE_MODSEQ", "SINCE_CRC", "SINCE_CRC_ANNOT");
    /** Avro overhead per record beyond its variable fields, rounded up. */
    private static final int RECORD_FIXED_BYTES = 96;

    private final int maxRecordsPerEvent;
    private final int maxRecordEventBytes;
    private final MessageChunker chunker;

    /**
     * @param maxRecordsPerEvent  at most this many index records per RecordsUpsert
     * @param maxEventBytes       Kafka's record limit; a RecordsUpsert stays well below it
     * @param contentChunkBytes   message bodies above this size are split into several MessageContent events
     */
    public CaptureTranslator(int maxRecordsPerEvent, int maxEventBytes, int contentChunkBytes) {
        if (maxRecordsPerEvent < 1 || maxEventBytes < 4096 || contentChunkBytes < 1) {
            throw new IllegalArgumentException(
                    "records per event " + maxRecordsPerEvent + ", event bytes " + maxEventBytes + ", chunk bytes "
                            + contentChunkBytes + ": all must be positive, event bytes >= 4096");
        }
        this.maxRecordsPerEvent = maxRecordsPerEvent;
        this.maxRecordEventBytes = maxEventBytes / 2; // estimates below are rough: keep a safety margin
        this.chunker = new MessageChunker(contentChunkBytes);
    }

    /**
     * Hands {@code out} the events of {@code command}, in order. The command must already have
     * been validated against the shadow that {@code context} shows (names it refers to exist).
     */
    public void translate(CsyncCommand command, CaptureContext context, Consumer<Change> out) throws IOException {
        if (command instanceof ApplyMailbox m) {
            mailbox(m.mailbox(), context, out);
        } else if (command instanceof ApplyRename r) {
            rename(r, context, out);
        } else if (command instanceof ApplyUnmailbox u) {
            Mailbox old = require(context, u.name());
            out.accept(new Change(
                    PartitionKeys.ofMailbox(u.name()),
                    old.uniqueId(),
                    MailboxDelete.newBuilder()
                            .setUniqueId(old.uniqueId())
                            .setName(u.name())
                            .setUidValidity(number(old.toDList(), "UIDVALIDITY"))
                            .build()));
        } else if (command instanceof ApplyExpunge e) {
            out.accept(new Change(
                    PartitionKeys.ofMailbox(e.mboxName()),
                    e.uniqueId(),
                    Expunge.newBuilder()
                            .setUniqueId(e.uniqueId())
                            .setMailboxName(e.mboxName())
                            .setUids(e.uids())
                            .build()));
        } else if (command instanceof ApplySeen s) {
            SeenEntry seen = s.seen();
            String user = seen.userId().orElseThrow();
            out.accept(new Change(
                    user,
                    seen.uniqueId(),
                    SeenUpsert.newBuilder()
                            .setUserId(user)
                            .setUniqueId(seen.uniqueId())
                            .setLastRead(seen.lastRead())
                            .setLastUid(seen.lastUid())
                            .setLastChange(seen.lastChange())
                            .setSeenUids(seen.seenUids())
                            .build()));
        } else if (command instanceof ApplySub s) {
            out.accept(new Change(s.userId(), null, new Subscribe(s.userId(), s.mboxName())));
        } else if (command instanceof ApplyUnsub s) {
            out.accept(new Change(s.userId(), null, new Unsubscribe(s.userId(), s.mboxName())));
        } else if (command instanceof ApplyQuota q) {
            out.accept(new Change(PartitionKeys.ofMailbox(q.quota().root()), null, quota(q.quota())));
        } else if (command instanceof ApplyUnquota q) {
            out.accept(new Change(PartitionKeys.ofMailbox(q.root()), null, new QuotaDelete(q.root())));
        } else if (command instanceof ApplyAnnotation a) {
            Annotation an = a.annotation();
            String mbox = an.mboxName().orElseThrow();
            out.accept(new Change(
                    annotationKey(mbox),
                    uniqueIdOf(context, mbox),
                    AnnotationUpsert.newBuilder()
                            .setMailboxName(mbox)
                            .setEntry(an.entry())
                            .setUserId(an.userId())
                            .setValue(ByteBuffer.wrap(an.value()))
                            .build()));
        } else if (command instanceof ApplyUnannotation a) {
            out.accept(new Change(
                    annotationKey(a.mboxName()),
                    uniqueIdOf(context, a.mboxName()),
                    new AnnotationDelete(a.mboxName(), a.entry(), a.userId())));
        } else if (command instanceof ApplySieve s) {
            String user = s.script().userId().orElseThrow();
            out.accept(new Change(
                    user,
                    null,
                    SieveUpsert.newBuilder()
                            .setUserId(user)
                            .setFilename(s.script().fileName())
                            .setLastUpdate(s.script().lastUpdate())
                            .setContent(ByteBuffer.wrap(s.script().content()))
                            .build()));
        } else if (command instanceof ApplyUnsieve s) {
            out.accept(new Change(s.userId(), null, new SieveDelete(s.userId(), s.fileName())));
        } else if (command instanceof ApplyActivateSieve s) {
            out.accept(new Change(s.userId(), null, new SieveActivate(s.userId(), s.fileName())));
        } else if (command instanceof ApplyUnactivateSieve s) {
            out.accept(new Change(s.userId(), null, new SieveDeactivate(s.userId())));
        } else if (command instanceof ApplyUnuser u) {
            out.accept(new Change(u.userId(), null, new UserDelete(u.userId())));
        }
    }

    /**
     * A rename within one partition key is one event. A rename to another key (a folder handed to
     * another user, a user renamed, a folder made shared) crosses partitions, and nothing orders
     * those: the new key's consumers may hold nothing of the mailbox. So the old key hears that
     * the mailbox has left it, and the new key gets the rename followed by the whole mailbox from
     * the shadow (every record, then the header), which stands on its own whatever Cyrus resends.
     */
    private void rename(ApplyRename r, CaptureContext context, Consumer<Change> out) throws IOException {
        Mailbox old = require(context, r.oldName());
        String oldKey = PartitionKeys.ofMailbox(r.oldName());
        String newKey = PartitionKeys.ofMailbox(r.newName());
        boolean crossesKeys = !oldKey.equals(newKey);
        MailboxRename rename = MailboxRename.newBuilder()
                .setUniqueId(old.uniqueId())
                .setOldName(r.oldName())
                .setNewName(r.newName())
                .setUidValidity(r.uidValidity() == null ? 0 : r.uidValidity())
                .setPartition(r.partition())
                .setNewPartitionKey(crossesKeys ? newKey : null)
                .build();
        if (!crossesKeys) {
            out.accept(new Change(newKey, old.uniqueId(), rename));
            return;
        }
        out.accept(new Change(oldKey, old.uniqueId(), rename));
        out.accept(new Change(newKey, old.uniqueId(), rename));
        Mailbox moved = old.renamed(r.newName(), r.partition(), r.uidValidity());
        mailbox(moved.isHeaderOnly() ? moved : moved.withRecords(context.records(old.uniqueId())), context, out);
    }

    private void mailbox(Mailbox m, CaptureContext context, Consumer<Change> out) throws IOException {
        String key = PartitionKeys.ofMailbox(m.name());
        String uniqueId = m.uniqueId();
        List<io.mailstream.csync.model.MessageRecord> records = m.records();
        Set<Guid> held = new HashSet<>(context.heldGuids(key));
        for (io.mailstream.csync.model.MessageRecord r : records) {
            if (r.isExpunged() || !held.add(r.guid())) {
                continue;
            }
            Optional<MessageFile> body = context.staged(r.guid());
            if (body.isPresent()) {
                content(key, uniqueId, body.get(), out);
            }
        }
        List<io.mailstream.schemas.MessageRecord> batch = new ArrayList<>();
        int batchBytes = 0;
        for (io.mailstream.csync.model.MessageRecord r : records) {
            io.mailstream.schemas.MessageRecord event = record(r);
            int size = estimatedSize(event);
            if (!batch.isEmpty() && (batch.size() == maxRecordsPerEvent || batchBytes + size > maxRecordEventBytes)) {
                out.accept(recordsChange(key, m, batch));
                batch = new ArrayList<>();
                batchBytes = 0;
            }
            batch.add(event);
            batchBytes += size;
        }
        if (!batch.isEmpty()) {
            out.accept(recordsChange(key, m, batch));
        }
        out.accept(new Change(key, uniqueId, header(m)));
    }

    private void content(String key, String uniqueId, MessageFile file, Consumer<Change> out) throws IOException {
        try (InputStream in = file.body().open()) {
            chunker.split(
                    file.guid().hex(),
                    file.partition(),
                    in,
                    file.body().size(),
                    chunk -> out.accept(new Change(key, uniqueId, chunk)));
        }
    }

    private static Change recordsChange(String key, Mailbox m, List<io.mailstream.schemas.MessageRecord> batch) {
        return new Change(
                key,
                m.uniqueId(),
                RecordsUpsert.newBuilder()
                        .setUniqueId(m.uniqueId())
                        .setMailboxName(m.name())
                        .setRecords(batch)
                        .build());
    }

    /**
     * The mailbox header as an event: known keys in fields, every other key (a newer Cyrus's)
     * in extraKeys as its csync text (see {@link #extraKeyText}), so nothing the primary sent is lost.
     */
    public static MailboxUpsert header(Mailbox m) {
        DKvList kv = m.toDList();
        Map<String, String> extra = new LinkedHashMap<>();
        for (DKvList.Entry e : kv.entries()) {
            if (!KNOWN_HEADER_KEYS.contains(e.key()) && !REQUEST_KEYS.contains(e.key())) {
                extra.put(e.key(), extraKeyText(e.value()));
            }
        }
        return MailboxUpsert.newBuilder()
                .setUniqueId(m.uniqueId())
                .setName(m.name())
                .setMboxType(m.mboxType().isEmpty() ? null : m.mboxType())
                .setUidValidity(number(kv, "UIDVALIDITY"))
                .setLastUid(number(kv, "LAST_UID"))
                .setHighestModseq(m.highestModSeq())
                .setRecentUid(number(kv, "RECENTUID"))
                .setRecentTime(date(kv, "RECENTTIME"))
                .setLastAppendDate(date(kv, "LAST_APPENDDATE"))
                .setPop3LastLogin(date(kv, "POP3_LAST_LOGIN"))
                .setPop3ShowAfter(date(kv, "POP3_SHOW_AFTER"))
                .setPartition(text(kv, "PARTITION"))
                .setAcl(text(kv, "ACL"))
                .setOptions(text(kv, "OPTIONS"))
                .setQuotaRoot(m.quotaRoot().orElse(null))
                .setCreatedModseq(m.createdModSeq())
                .setFolderModseq(m.folderModSeq())
                .setRaclModseq(m.raclModSeq())
                .setXconvModseq(m.xconvModSeq())
                .setAnnotations(annotations(m.annotations()))
                .setSyncCrc(m.syncCrc())
                .setSyncCrcAnnot(m.syncCrcAnnot())
                .setExtraKeys(extra)
                .build();
    }

    /**
     * An unknown header value as its dlist wire form read as UTF-8 (an atom, a quoted string, or a
     * parenthesised list), which the apply direction parses back with DListReader.
     */
    public static String extraKeyText(DValue value) {
        return new String(DListWriter.toBytes(value, DListWriter.Mode.SERVER), StandardCharsets.UTF_8);
    }

    public static io.mailstream.schemas.MessageRecord record(io.mailstream.csync.model.MessageRecord r) {
        return io.mailstream.schemas.MessageRecord.newBuilder()
                .setUid(r.uid())
                .setModseq(r.modSeq())
                .setLastUpdated(r.lastUpdated())
                .setFlags(r.flags())
                .setInternalDate(r.internalDate())
                .setSize(r.size())
                .setGuid(r.guid().hex())
                .setAnnotations(annotations(r.annotations()))
                .build();
    }

    private static List<io.mailstream.schemas.Annotation> annotations(List<Annotation> list) {
        return list.stream()
                .map(a -> io.mailstream.schemas.Annotation.newBuilder()
                        .setEntry(a.entry())
                        .setUserId(a.userId())
                        .setModseq(a.modSeq())
                        .setValue(ByteBuffer.wrap(a.value()))
                        .build())
                .toList();
    }

    /** Cyrus resource name to limit; an absent resource is unlimited, and so is LIMIT 4294967295. */
    public static QuotaUpsert quota(QuotaRoot q) {
        Map<String, Long> limits = new LinkedHashMap<>();
        for (String resource :
                List.of(QuotaRoot.STORAGE, QuotaRoot.MESSAGE, QuotaRoot.ANNOTATION_STORAGE, QuotaRoot.NUM_FOLDERS)) {
            q.limit(resource).ifPresent(v -> limits.put(resource, v));
        }
        // Old masters send the storage limit only as LIMIT.
        q.limit("LIMIT").ifPresent(v -> {
            if (v != QuotaRoot.UNLIMITED_LEGACY) {
                limits.putIfAbsent(QuotaRoot.STORAGE, v);
            }
        });
        return QuotaUpsert.newBuilder()
                .setRoot(q.root())
                .setLimits(limits)
                .setModseq(q.modSeq())
                .build();
    }

    private static int estimatedSize(io.mailstream.schemas.MessageRecord r) {
        int size = RECORD_FIXED_BYTES;
        for (String f : r.getFlags()) {
            size += f.length() + 2;
        }
        for (io.mailstream.schemas.Annotation a : r.getAnnotations()) {
            size += a.getEntry().length()
                    + a.getUserId().length()
                    + a.getValue().remaining()
                    + 16;
        }
        return size;
    }

    private static String annotationKey(String mboxName) {
        return mboxName.isEmpty() ? PartitionKeys.SERVER : PartitionKeys.ofMailbox(mboxName);
    }

    private static String uniqueIdOf(CaptureContext context, String mboxName) {
        return mboxName.isEmpty()
                ? null
                : context.mailbox(mboxName).map(Mailbox::uniqueId).orElse(null);
    }

    private static Mailbox require(CaptureContext context, String name) {
        return context.mailbox(name)
                .orElseThrow(() -> new IllegalStateException("no mailbox " + name
                        + " in the shadow: the command should have been refused before translation"));
    }

    /** Header-only mailboxes (intermediates, tombstones) lack most keys: absent counts as 0 / "". */
    private static long number(DKvList kv, String key) {
        return kv.get(key).map(DValue::asNum64).orElse(0L);
    }

    private static long date(DKvList kv, String key) {
        return kv.get(key).map(DValue::asDate).orElse(0L);
    }

    private static String text(DKvList kv, String key) {
        return kv.get(key).map(DValue::asString).orElse("");
    }
}
