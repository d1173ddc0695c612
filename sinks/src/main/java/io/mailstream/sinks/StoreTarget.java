package io.mailstream.sinks;

import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.StateRecord;
import io.mailstream.schemas.UserDelete;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.state.StateFold;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The out-of-band store as a tier target. One apply of a user's events, in this order so that a
 * crash anywhere leaves a folder that the replay of the same events brings to the same end state:
 * <ol>
 *   <li>bodies (content-addressed, written once: harmless to repeat);</li>
 *   <li>the mailbox and user state files the events changed (folded with {@link StateFold},
 *       each written atomically; re-folding an event onto its own result changes nothing);</li>
 *   <li>the history lines, appended and fsynced;</li>
 *   <li>the {@link AppliedMarks}, atomically: the commit point. Until they are written the events
 *       count as not applied, and the history lines past the recorded length are cut off.</li>
 * </ol>
 * Events the marks already hold are skipped entirely, so a redelivered batch adds no history.
 */
final class StoreTarget implements StateTarget {
    private static final Logger LOG = LoggerFactory.getLogger(StoreTarget.class);
    private static final String MAILBOX_PREFIX = StateFold.mailboxKey("");
    private static final String USER_PREFIX = StateFold.userKey("");

    private final StoreLayout layout;
    private final BodyStore bodies;
    private final FileChannel lock;

    StoreTarget(Path root) throws IOException {
        this.layout = new StoreLayout(root);
        this.bodies = new BodyStore(layout);
        DurableFiles.createDirectories(root);
        this.lock = lockAgainstSecondWriter(root);
        if (!Files.exists(layout.formatFile())) {
            DurableFiles.createDirectories(layout.tmp());
            DurableFiles.write(
                    layout.tmp(),
                    layout.formatFile(),
                    out -> out.write((StoreLayout.FORMAT + "\n").getBytes(StandardCharsets.UTF_8)));
        }
        String format =
                Files.readString(layout.formatFile(), StandardCharsets.UTF_8).trim();
        if (!format.equals(StoreLayout.FORMAT)) {
            throw new IOException(root + " holds '" + format + "', this version writes '" + StoreLayout.FORMAT + "'");
        }
        // Whatever is in tmp is a write a crash interrupted: never part of the store.
        DurableFiles.deleteTree(layout.tmp());
        DurableFiles.createDirectories(layout.tmp());
        LOG.info("out-of-band store at {}", root);
    }

    /** Two sinks writing one store would interleave user folders and empty each other's tmp. */
    private static FileChannel lockAgainstSecondWriter(Path root) throws IOException {
        FileChannel channel =
                FileChannel.open(root.resolve("LOCK"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            if (channel.tryLock() != null) return channel;
        } catch (OverlappingFileLockException held) {
            // held by this JVM: fall through
        }
        channel.close();
        throw new IOException(
                "the store at " + root + " is in use by another sink (" + root.resolve("LOCK") + " is locked)");
    }

    @Override
    public void close() throws IOException {
        lock.close(); // releases the lock
    }

    /** Chunks are kept on disk as they come and records may precede their header in a MailboxState. */
    @Override
    public boolean needsWholeMailboxChanges() {
        return false;
    }

    @Override
    public Applied apply(String partitionKey, List<ChangeEvent> events) throws IOException {
        Path userDir = layout.user(partitionKey);
        DurableFiles.createDirectories(userDir);
        AppliedMarks marks = AppliedMarks.load(layout.applied(userDir));
        UserFolder folder = new UserFolder(userDir);
        List<String> history = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (ChangeEvent event : events) {
            if (!marks.isNew(event.getEnvelope())) continue;
            Object payload = event.getPayload();
            if (payload instanceof MessageContent content) {
                bodies.accept(userDir, content);
            } else if (payload instanceof UserDelete) {
                folder.deleteUser(event);
            } else {
                folder.fold(event);
            }
            marks.record(event.getEnvelope());
            history.add(UserHistory.line(event, now));
        }
        if (history.isEmpty()) return Applied.withoutCrcs();
        folder.save();
        long length = UserHistory.append(layout.history(userDir), marks.historyLength(), history);
        marks.save(layout.tmp(), layout.applied(userDir), length);
        return Applied.withoutCrcs();
    }

    /**
     * A backfill: bodies first, then the canonical state files as they are (no history lines and
     * no applied marks: the feed's events after the backfill still apply, and fold to the same end).
     */
    @Override
    public void assertState(
            String partitionKey, Map<String, MailboxState> mailboxes, Optional<UserState> user, Bodies source)
            throws IOException {
        Path userDir = layout.user(partitionKey);
        DurableFiles.createDirectories(userDir);
        if (source != null) {
            for (MailboxState m : mailboxes.values()) {
                if (m.getDeleted()) continue;
                for (MessageRecord r : m.getRecords()) {
                    if (StateFold.isExpunged(r) || Files.exists(layout.body(r.getGuid()))) continue;
                    List<MessageContent> chunks = source.chunks(r.getGuid());
                    if (chunks.isEmpty()) {
                        throw new IOException("body " + r.getGuid() + " of UID " + r.getUid() + " in "
                                + (m.getHeader() == null ? "?" : m.getHeader().getName()) + " is not in "
                                + Topics.STREAMS_CONTENT);
                    }
                    for (MessageContent chunk : chunks) bodies.accept(userDir, chunk);
                }
            }
        }
        for (Map.Entry<String, MailboxState> m : mailboxes.entrySet()) {
            writeState(layout.mailbox(userDir, m.getKey()), new StateRecord(m.getValue()));
        }
        if (user.isPresent()) writeState(layout.userState(userDir), new StateRecord(user.get()));
    }

    private void writeState(Path file, StateRecord record) throws IOException {
        byte[] bytes = StoreLayout.STATE.encode(record);
        DurableFiles.write(layout.tmp(), file, out -> out.write(bytes));
    }

    /** A user's state files as one apply reads and changes them. */
    private final class UserFolder {
        private final Path dir;
        private final Map<String, MailboxState> mailboxes = new HashMap<>();
        private final Set<String> changedMailboxes = new LinkedHashSet<>();
        private UserState user;
        private boolean userLoaded;
        private boolean userChanged;

        UserFolder(Path dir) {
            this.dir = dir;
        }

        /** Folds a mailbox or user event (standalone annotations included); events with no state key: history only. */
        void fold(ChangeEvent event) throws IOException {
            String key = StateFold.stateKey(event);
            if (key == null) return;
            if (key.startsWith(MAILBOX_PREFIX)) {
                String uniqueId = key.substring(MAILBOX_PREFIX.length());
                mailboxes.put(uniqueId, StateFold.applyToMailbox(mailbox(uniqueId), event));
                changedMailboxes.add(uniqueId);
            } else if (key.startsWith(USER_PREFIX)) {
                user = StateFold.applyToUser(user(), event);
                userChanged = true;
            }
        }

        /** Cyrus's UNUSER removes the user's mailboxes too: each is folded a MailboxDelete under the same envelope. */
        void deleteUser(ChangeEvent event) throws IOException {
            for (String uniqueId : storedMailboxIds()) {
                MailboxState state = mailbox(uniqueId);
                if (state == null || state.getDeleted()) continue;
                MailboxDelete delete = MailboxDelete.newBuilder()
                        .setUniqueId(uniqueId)
                        .setName(
                                state.getHeader() == null
                                        ? ""
                                        : state.getHeader().getName())
                        .setUidValidity(
                                state.getHeader() == null
                                        ? 0
                                        : state.getHeader().getUidValidity())
                        .build();
                fold(ChangeEvent.newBuilder()
                        .setEnvelope(event.getEnvelope())
                        .setPayload(delete)
                        .build());
            }
            fold(event);
        }

        void save() throws IOException {
            for (String uniqueId : changedMailboxes) {
                write(layout.mailbox(dir, uniqueId), new StateRecord(mailboxes.get(uniqueId)));
            }
            if (userChanged) write(layout.userState(dir), new StateRecord(user));
        }

        private MailboxState mailbox(String uniqueId) throws IOException {
            if (!mailboxes.containsKey(uniqueId)) {
                mailboxes.put(
                        uniqueId,
                        StoreLayout.readState(layout.mailbox(dir, uniqueId))
                                .map(r -> (MailboxState) r.getState())
                                .orElse(null));
            }
            return mailboxes.get(uniqueId);
        }

        private UserState user() throws IOException {
            if (!userLoaded) {
                user = StoreLayout.readState(layout.userState(dir))
                        .map(r -> (UserState) r.getState())
                        .orElse(null);
                userLoaded = true;
            }
            return user;
        }

        private Set<String> storedMailboxIds() throws IOException {
            Set<String> ids = new LinkedHashSet<>(mailboxes.keySet());
            ids.addAll(layout.mailboxIds(dir));
            return ids;
        }

        private void write(Path file, StateRecord record) throws IOException {
            writeState(file, record);
        }
    }
}
