package io.mailstream.sinks;

import io.mailstream.schemas.AnnotationUpsert;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Envelope;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.MessageRecord;
import io.mailstream.schemas.QuotaUpsert;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.SeenUpsert;
import io.mailstream.schemas.SieveActivate;
import io.mailstream.schemas.SieveUpsert;
import io.mailstream.schemas.Subscribe;
import io.mailstream.schemas.Unsubscribe;
import io.mailstream.schemas.UserDelete;
import io.mailstream.schemas.UserState;
import io.mailstream.schemas.state.StateFold;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Change events as capture emits them (content chunks, then records, then the header of each
 * APPLY MAILBOX; per-user events in between), plus the state they must fold to and the bodies
 * they carry, for the store and sink tests.
 */
final class MailScript {
    static final int CHUNK_BYTES = 256 * 1024;

    private final Random random = new Random(42);
    private long sequence;
    private long time = 1_760_000_000_000L;
    final List<ChangeEvent> events = new ArrayList<>();
    final Map<String, byte[]> bodies = new LinkedHashMap<>();
    private final Map<String, Long> modseqs = new TreeMap<>();
    private final Map<String, Long> lastUids = new TreeMap<>();

    /** alice and bob with a life of mail; carol the same, then deleted. One of alice's events arrives twice. */
    static MailScript threeUsers() {
        MailScript s = new MailScript();
        for (String user : List.of("alice", "bob", "carol")) s.mailLife(user);
        s.events.add(s.events.get(5)); // at-least-once upstream: a duplicate
        s.add("carol", new UserDelete("carol"));
        return s;
    }

    void mailLife(String user) {
        String inbox = user + "-inbox-" + UUID.nameUUIDFromBytes(user.getBytes(StandardCharsets.UTF_8));
        String work = user + "-work";
        deliver(user, inbox, "user." + user, 2_000);
        deliver(user, inbox, "user." + user, 600_000); // three chunks
        deliver(user, inbox, "user." + user, 40_000);
        header(user, work, "user." + user + ".Work");
        deliver(user, work, "user." + user + ".Work", 9_000);
        flag(user, inbox, "user." + user, 1, "\\Seen");
        add(user, new MailboxRename(work, "user." + user + ".Work", "user." + user + ".Projects", 0L, "default", null));
        header(user, work, "user." + user + ".Projects");
        add(user, new Expunge(inbox, "user." + user, List.of(2L)));
        add(
                user,
                SeenUpsert.newBuilder()
                        .setUserId(user)
                        .setUniqueId("shared-news")
                        .setLastRead(time)
                        .setLastUid(7)
                        .setLastChange(time)
                        .setSeenUids("1:5,7")
                        .build());
        add(user, new Subscribe(user, "user." + user + ".Projects"));
        add(user, new Subscribe(user, "shared.news"));
        add(user, new Unsubscribe(user, "shared.news"));
        add(
                user,
                new SieveUpsert(
                        user,
                        "vacation.script",
                        time,
                        ByteBuffer.wrap(("require \"vacation\";\nvacation \"away, " + user + "\";\n")
                                .getBytes(StandardCharsets.UTF_8))));
        add(user, new SieveActivate(user, "vacation.script"));
        add(
                user,
                QuotaUpsert.newBuilder()
                        .setRoot("user." + user)
                        .setLimits(Map.of("STORAGE", 102_400L, "MESSAGE", 5_000L))
                        .build());
        add(
                user,
                new AnnotationUpsert(
                        "", "/shared/comment", "", ByteBuffer.wrap("server note".getBytes(StandardCharsets.UTF_8))));
    }

    /** One APPLY MAILBOX delivering a message: content (chunked), the record, then the header. */
    void deliver(String user, String uniqueId, String name, int size) {
        byte[] body = message(size);
        String guid = sha1(body);
        bodies.put(guid, body);
        content(user, body, guid).forEach(this::add0);
        long uid = lastUids.merge(uniqueId, 1L, Long::sum);
        long modseq = modseqs.merge(uniqueId, 1L, Long::sum);
        add(
                user,
                new RecordsUpsert(
                        uniqueId,
                        name,
                        List.of(MessageRecord.newBuilder()
                                .setUid(uid)
                                .setModseq(modseq)
                                .setLastUpdated(time / 1000)
                                .setFlags(List.of())
                                .setInternalDate(time / 1000)
                                .setSize(size)
                                .setGuid(guid)
                                .build())));
        header(user, uniqueId, name);
    }

    void flag(String user, String uniqueId, String name, long uid, String flag) {
        MailboxState state = foldMailboxes(user).get(uniqueId);
        MessageRecord record = state.getRecords().stream()
                .filter(r -> r.getUid() == uid)
                .findFirst()
                .orElseThrow();
        long modseq = modseqs.merge(uniqueId, 1L, Long::sum);
        add(
                user,
                new RecordsUpsert(
                        uniqueId,
                        name,
                        List.of(MessageRecord.newBuilder(record)
                                .setFlags(List.of(flag))
                                .setModseq(modseq)
                                .build())));
        header(user, uniqueId, name);
    }

    void header(String user, String uniqueId, String name) {
        add(
                user,
                MailboxUpsert.newBuilder()
                        .setUniqueId(uniqueId)
                        .setName(name)
                        .setUidValidity(1_700_000_001L)
                        .setLastUid(lastUids.getOrDefault(uniqueId, 0L))
                        .setHighestModseq(modseqs.getOrDefault(uniqueId, 1L))
                        .setPartition("default")
                        .setAcl(user + "\tlrswipkxtecdan\t")
                        .build());
    }

    List<ChangeEvent> content(String user, byte[] body, String guid) {
        int count = Math.max(1, (body.length + CHUNK_BYTES - 1) / CHUNK_BYTES);
        List<ChangeEvent> chunks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] data = Arrays.copyOfRange(body, i * CHUNK_BYTES, Math.min(body.length, (i + 1) * CHUNK_BYTES));
            chunks.add(event(
                    user, new MessageContent(guid, (long) body.length, "default", i, count, ByteBuffer.wrap(data))));
        }
        return chunks;
    }

    ChangeEvent add(String user, Object payload) {
        return add0(event(user, payload));
    }

    private ChangeEvent add0(ChangeEvent e) {
        events.add(e);
        return e;
    }

    ChangeEvent event(String user, Object payload) {
        time += 1000;
        Envelope envelope = Envelope.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setSourceServerId("primary-1")
                .setSite("dc1")
                .setTier("primary")
                .setEpoch(1)
                .setPartitionKey(user)
                .setCaptureTime(time)
                .setSequence(++sequence)
                .build();
        ChangeEvent event = ChangeEvent.newBuilder()
                .setEnvelope(envelope)
                .setPayload(payload)
                .build();
        String key = StateFold.stateKey(event);
        if (key != null && key.startsWith("mailbox:")) envelope.setMailboxUniqueId(key.substring("mailbox:".length()));
        return event;
    }

    List<ChangeEvent> eventsOf(String user) {
        return events.stream()
                .filter(e -> e.getEnvelope().getPartitionKey().equals(user))
                .toList();
    }

    /** What the user's mailboxes must fold to: StateFold over the distinct events, in order. */
    Map<String, MailboxState> foldMailboxes(String user) {
        Map<String, MailboxState> out = new TreeMap<>();
        for (ChangeEvent e : distinct(eventsOf(user))) {
            String key = StateFold.stateKey(e);
            if (key != null && key.startsWith("mailbox:")) {
                String id = key.substring("mailbox:".length());
                out.put(id, StateFold.applyToMailbox(out.get(id), e));
            }
        }
        return out;
    }

    UserState foldUser(String user) {
        UserState state = null;
        for (ChangeEvent e : distinct(eventsOf(user))) {
            String key = StateFold.stateKey(e);
            if (key != null && key.startsWith("user:")) state = StateFold.applyToUser(state, e);
        }
        return state;
    }

    static List<ChangeEvent> distinct(List<ChangeEvent> events) {
        Set<String> seen = new HashSet<>();
        return events.stream()
                .filter(e -> seen.add(e.getEnvelope().getEventId()))
                .toList();
    }

    /** A plausible RFC 5322 message of exactly {@code size} bytes. */
    byte[] message(int size) {
        byte[] head = ("From: someone@example.org\r\nTo: user@example.org\r\nSubject: test " + random.nextInt()
                        + "\r\nMessage-ID: <" + UUID.randomUUID() + "@example.org>\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] body = new byte[size];
        System.arraycopy(head, 0, body, 0, head.length);
        for (int i = head.length; i < size; i++) body[i] = (byte) (i % 78 == 77 ? '\n' : 'a' + random.nextInt(26));
        return body;
    }

    static String sha1(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
