package io.mailstream.sinks;

import io.mailstream.bridge.state.StateSource;
import io.mailstream.csync.dlist.MessageBody;
import io.mailstream.csync.model.Guid;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.state.StateFold;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Read access to an out-of-band store, for the restore path ({@code mailstream rebuild
 * --from-store}) and audits. Safe while a store sink writes: every file it reads is replaced
 * atomically, and history is read only up to what was committed.
 */
public final class StoreReader implements StateSource {
    private final StoreLayout layout;

    private StoreReader(StoreLayout layout) {
        this.layout = layout;
    }

    /** Opens the store in {@code dir}; fails if it is not one. */
    public static StoreReader open(Path dir) throws IOException {
        StoreLayout layout = new StoreLayout(dir.toAbsolutePath());
        if (!Files.exists(layout.formatFile())) {
            throw new NoSuchFileException(layout.formatFile().toString(), null, "not a mailstream store");
        }
        return new StoreReader(layout);
    }

    /** Partition keys (userids, or top-level names of shared mailboxes) that have live mailboxes or user state, sorted. */
    public List<String> users() throws IOException {
        if (!Files.isDirectory(layout.users())) return List.of();
        List<String> users = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(layout.users())) {
            for (Path dir : dirs.sorted().toList()) {
                String user = StoreLayout.decode(dir.getFileName().toString());
                if (userState(user).isPresent() || !mailboxes(user).isEmpty()) users.add(user);
            }
        }
        return users;
    }

    /** The user's live mailboxes (header known, not deleted) with every header field and record, by name. */
    public List<MailboxState> mailboxes(String user) throws IOException {
        Path dir = layout.user(user);
        List<MailboxState> live = new ArrayList<>();
        for (String uniqueId : layout.mailboxIds(dir)) {
            StoreLayout.readState(layout.mailbox(dir, uniqueId))
                    .map(r -> (MailboxState) r.getState())
                    .filter(m -> !m.getDeleted() && m.getHeader() != null)
                    .ifPresent(live::add);
        }
        live.sort(Comparator.comparing(m -> m.getHeader().getName()));
        return live;
    }

    @Override
    public String describe() {
        return "store " + layout.root;
    }

    /**
     * As {@link #mailboxes(String)}; a mailbox file that cannot be read is left out and named by
     * {@link #unreadable}. The headers' SYNC_CRCs are the ones the events carried, not the records'.
     */
    @Override
    public List<MailboxState> mailboxes(String user, boolean withRecords) throws IOException {
        Path dir = layout.user(user);
        List<MailboxState> live = new ArrayList<>();
        Map<String, String> bad = new LinkedHashMap<>();
        for (String uniqueId : layout.mailboxIds(dir)) {
            try {
                StoreLayout.readState(layout.mailbox(dir, uniqueId))
                        .map(r -> (MailboxState) r.getState())
                        .filter(m -> !m.getDeleted() && m.getHeader() != null)
                        .ifPresent(live::add);
            } catch (IOException | RuntimeException e) {
                bad.put(uniqueId, e.toString());
            }
        }
        unreadable.put(user, bad);
        live.sort(Comparator.comparing(m -> m.getHeader().getName()));
        return live;
    }

    private final Map<String, Map<String, String>> unreadable = new ConcurrentHashMap<>();

    /** The mailbox files of {@code user} the last {@link #mailboxes(String, boolean)} could not read: uniqueid -> why. */
    public Map<String, String> unreadable(String user) {
        return unreadable.getOrDefault(user, Map.of());
    }

    @Override
    public Optional<MailboxState> mailbox(String user, String uniqueId, String name) throws IOException {
        return StoreLayout.readState(layout.mailbox(layout.user(user), uniqueId))
                .map(r -> (MailboxState) r.getState())
                .filter(m -> !m.getDeleted() && m.getHeader() != null);
    }

    @Override
    public Optional<UserState> user(String user) throws IOException {
        return userState(user);
    }

    /** Live records whose body the store lacks, or with {@code verify} holds with bytes whose SHA-1 is not the GUID. */
    @Override
    public List<String> badBodies(MailboxState mailbox, boolean verify) throws IOException {
        List<String> bad = new ArrayList<>();
        for (MessageRecord r : mailbox.getRecords()) {
            if (StateFold.isExpunged(r)) continue;
            if (!hasBody(r.getGuid())) {
                bad.add("UID " + r.getUid() + " body " + r.getGuid() + " absent");
            } else if (verify) {
                String sha1 = sha1(r.getGuid());
                if (!sha1.equals(r.getGuid()))
                    bad.add("UID " + r.getUid() + " body " + r.getGuid() + " has SHA-1 " + sha1);
            }
        }
        return bad;
    }

    @Override
    public Optional<MessageBody> body(Guid guid) throws IOException {
        if (!hasBody(guid.hex())) return Optional.empty();
        try (StoredBody stored = openBody(guid.hex())) {
            // csync wants a length up front, so a body is read whole (Cyrus bodies are bounded).
            return Optional.of(MessageBody.of(stored.content().readAllBytes()));
        }
    }

    private String sha1(String guid) throws IOException {
        try (StoredBody stored = openBody(guid)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-1");
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = stored.content().read(buffer)) > 0; ) digest.update(buffer, 0, n);
            return HexFormat.of().formatHex(digest.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every JVM", e);
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    /** Seen, subscriptions, sieve scripts (with content), active script, quotas and standalone annotations; empty if none or deleted. */
    public Optional<UserState> userState(String user) throws IOException {
        return StoreLayout.readState(layout.userState(layout.user(user)))
                .map(r -> (UserState) r.getState())
                .filter(u -> !u.getDeleted());
    }

    public boolean hasBody(String guid) {
        return Files.exists(layout.body(guid));
    }

    /** Opens a body by GUID; {@link NoSuchFileException} if the store does not hold it. */
    public StoredBody openBody(String guid) throws IOException {
        Path file = layout.body(guid);
        long size;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            // gzip's trailer ends with the length mod 2^32 (RFC 1952): exact, as Cyrus bodies are < 4 GiB.
            raf.seek(raf.length() - 4);
            size = Integer.toUnsignedLong(Integer.reverseBytes(raf.readInt()));
        } catch (java.io.FileNotFoundException e) {
            throw new NoSuchFileException(file.toString(), null, "no body " + guid + " in the store");
        }
        return new StoredBody(
                guid, size, new GZIPInputStream(new BufferedInputStream(Files.newInputStream(file)), 64 * 1024));
    }

    /** The user's applied events, oldest first, as history lines (JSON; bodies as GUID and size). */
    public List<String> history(String user) throws IOException {
        Path dir = layout.user(user);
        return UserHistory.read(
                layout.history(dir), AppliedMarks.load(layout.applied(dir)).historyLength());
    }
}
