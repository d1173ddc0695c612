package io.mailstream.operations;

import io.mailstream.bridge.apply.BodySource;
import io.mailstream.bridge.apply.ReplicaWriter;
import io.mailstream.bridge.state.Difference;
import io.mailstream.bridge.state.Difference.Kind;
import io.mailstream.bridge.state.StateDiff;
import io.mailstream.bridge.state.StateSource;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.UserState;
import io.mailstream.sinks.StoreReader;
import io.mailstream.sinks.StoreRepair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a tier holds the canonical state. Pass 1 compares, per user, every mailbox header (with
 * the SYNC_CRCs that sum up its records) and the user data; pass 2 compares record by record only
 * the mailboxes that differ. A user that differs is checked again once the tier has applied what
 * the canonical state had when it was read ({@link Settle}), so a change in flight is not a
 * difference. With a {@link Repairer}, what still differs is pushed to the tier and checked again.
 */
public final class Check {
    private static final Logger LOG = LoggerFactory.getLogger(Check.class);

    /** What a check of one tier found. */
    public record TierResult(
            String tier,
            int mailboxes,
            int equal,
            int different,
            int missing,
            int extra,
            Duration took,
            List<Difference> differences,
            int repairedUsers) {
        public boolean clean() {
            return differences.isEmpty();
        }
    }

    /**
     * How a difference is judged settled. A tier fed by mailstream ({@link #applied}) lags the
     * canonical state: a difference counts only once the tier has applied what the canonical state
     * held. The primary ({@link #upstream}) leads it: a difference counts only if it stays while
     * capture and streams catch up.
     */
    public sealed interface Settle permits Settle.Applied, Settle.Upstream {
        /** Waits until the tier has applied the key's events up to a capture time; false when it did not in time. */
        @FunctionalInterface
        interface Progress {
            boolean awaitApplied(String partitionKey, long captureTime) throws Exception;
        }

        record Applied(Progress progress) implements Settle {}

        record Upstream(Duration patience) implements Settle {}

        static Settle applied(Progress progress) {
            return new Applied(progress);
        }

        static Settle upstream(Duration patience) {
            return new Upstream(patience);
        }
    }

    /** Pushes canonical state into a tier that differs. */
    public interface Repairer {
        void mailbox(MailboxState canonical) throws Exception;

        void removeExtra(String partitionKey, String name) throws Exception;

        void user(String partitionKey, Optional<UserState> canonical) throws Exception;

        /** The repairer of a Cyrus tier: {@link ReplicaWriter#replace} per mailbox, its user state asserted. */
        static Repairer cyrus(ReplicaWriter writer, BodySource bodies, boolean deleteExtra) {
            return new Repairer() {
                @Override
                public void mailbox(MailboxState canonical) throws Exception {
                    writer.replace(canonical, bodies);
                }

                @Override
                public void removeExtra(String partitionKey, String name) throws Exception {
                    if (deleteExtra) writer.removeMailbox(name);
                }

                @Override
                public void user(String partitionKey, Optional<UserState> canonical) throws Exception {
                    if (canonical.isPresent()) writer.pushUserState(canonical.get());
                }
            };
        }
    }

    /** The repairer of a store tier: the mailbox and user files written as a backfill writes them; extras are left (reported). */
    public static Repairer storeRepairer(StoreRepair store) {
        return new Repairer() {
            @Override
            public void mailbox(MailboxState canonical) throws Exception {
                store.mailbox(canonical.getPartitionKey(), canonical);
            }

            @Override
            public void removeExtra(String partitionKey, String name) {
                LOG.warn("{}: {} is in the store but not in the canonical state; a store keeps it", partitionKey, name);
            }

            @Override
            public void user(String partitionKey, Optional<UserState> canonical) throws Exception {
                if (canonical.isPresent()) store.user(partitionKey, canonical.get());
            }
        };
    }

    private final StateSource canonical;
    private final boolean deep;

    public Check(StateSource canonical, boolean deep) {
        this.canonical = canonical;
        this.deep = deep;
    }

    /** The partition keys to check: {@code only} if given, else every key of the canonical state the tier receives. */
    public List<String> users(Collection<String> only, Predicate<String> tierReceives) throws Exception {
        if (only != null && !only.isEmpty()) return List.copyOf(only);
        return canonical.users().stream().filter(tierReceives).toList();
    }

    /**
     * Pass 1 for one user: headers and user data, nothing else read (the entry point a benchmark
     * times). Returns the differences and how many mailboxes were compared.
     */
    public Pass1 pass1(String user, StateSource tier) throws Exception {
        return compare(user, tier, canonical.mailboxes(user, false), canonical.user(user));
    }

    /** What pass 1 found for one user, and the tier's mailboxes it read (headers; with records for a tier that has no CRCs of its own). */
    public record Pass1(int mailboxes, List<Difference> differences, List<MailboxState> tierMailboxes) {}

    private Pass1 compare(String user, StateSource tier, List<MailboxState> ours, Optional<UserState> ourUser)
            throws Exception {
        List<MailboxState> theirs = tier.mailboxes(user, !tier.computesOwnCrcs());
        if (!tier.computesOwnCrcs())
            theirs = theirs.stream().map(StateDiff::withComputedCrcs).toList();
        List<Difference> out = new ArrayList<>(StateDiff.headers(user, ours, theirs));
        if (tier instanceof StoreReader store) {
            store.unreadable(user).forEach((id, why) -> out.add(new Difference(user, null, id, Kind.UNREADABLE, why)));
        }
        Map<String, MailboxState> tierById = new LinkedHashMap<>();
        theirs.forEach(m -> tierById.put(m.getHeader().getUniqueId(), m));
        for (MailboxState m : ours) {
            MailboxState t = tierById.get(m.getHeader().getUniqueId());
            if (t == null) continue;
            for (String bad : tier.badBodies(t, deep)) {
                out.add(new Difference(
                        user, t.getHeader().getName(), t.getHeader().getUniqueId(), Kind.BODY, bad));
            }
        }
        out.addAll(StateDiff.user(user, ourUser, tier.user(user)));
        return new Pass1(ours.size(), out, theirs);
    }

    /** Checks (and with a repairer, repairs) {@code users} on {@code tier}. */
    public TierResult run(String tierName, StateSource tier, List<String> users, Settle settle, Repairer repairer)
            throws Exception {
        long t0 = System.nanoTime();
        int mailboxes = 0;
        int equal = 0;
        int repaired = 0;
        List<Difference> remaining = new ArrayList<>();
        for (String user : users) {
            Pass1 first = pass1(user, tier);
            mailboxes += first.mailboxes();
            List<Difference> found = first.differences();
            if (!found.isEmpty()) found = recheck(user, tier, settle, first);
            if (!found.isEmpty() && repairer != null) {
                try {
                    repair(user, found, repairer);
                    repaired++;
                    found = recheck(user, tier, settle, pass1(user, tier));
                } catch (Exception e) {
                    // One user's failed repair must not keep the others from being checked and repaired.
                    LOG.error("{}: repair failed", user, e);
                    found = new ArrayList<>(found);
                    found.add(new Difference(user, null, null, Kind.REPAIR_FAILED, e.toString()));
                }
            }
            equal += Math.max(
                    0,
                    first.mailboxes()
                            - (int) found.stream()
                                    .filter(d -> d.isMailbox() && d.kind() != Kind.EXTRA_MAILBOX)
                                    .map(Difference::uniqueId)
                                    .distinct()
                                    .count());
            remaining.addAll(found);
        }
        int missing = (int)
                remaining.stream().filter(d -> d.kind() == Kind.MISSING_MAILBOX).count();
        int extra = (int)
                remaining.stream().filter(d -> d.kind() == Kind.EXTRA_MAILBOX).count();
        int different = (int) remaining.stream()
                .filter(d -> d.isMailbox() && d.kind() != Kind.MISSING_MAILBOX && d.kind() != Kind.EXTRA_MAILBOX)
                .map(Difference::uniqueId)
                .distinct()
                .count();
        return new TierResult(
                tierName,
                mailboxes,
                equal,
                different,
                missing,
                extra,
                Duration.ofNanos(System.nanoTime() - t0),
                remaining,
                repaired);
    }

    /** The most rounds a recheck reads both sides again before it reports what it sees. */
    private static final int ROUNDS = 20;

    /**
     * The user's differences that remain once nothing is in flight, with pass 2 (records) for each
     * mailbox still differing.
     */
    private List<Difference> recheck(String user, StateSource tier, Settle settle, Pass1 first) throws Exception {
        if (settle instanceof Settle.Applied applied)
            return withRecords(user, tier, recheckBehind(user, tier, applied.progress(), first));
        return recheckUpstream(user, tier, ((Settle.Upstream) settle).patience());
    }

    /**
     * A tier fed by mailstream: read the canonical state, wait until the tier has applied up to
     * its newest capture time, read the tier, and read the canonical state again. Only if the
     * canonical state did not move meanwhile does the comparison count: the tier then holds
     * exactly what it was fed up to that state. Otherwise (mail still arriving) another round.
     */
    private List<Difference> recheckBehind(String user, StateSource tier, Settle.Progress progress, Pass1 first)
            throws Exception {
        Set<String> ids = new LinkedHashSet<>();
        canonical.mailboxes(user, false).forEach(m -> ids.add(m.getHeader().getUniqueId()));
        first.tierMailboxes().forEach(m -> ids.add(m.getHeader().getUniqueId()));
        List<Difference> found = first.differences();
        for (int round = 0; round < ROUNDS; round++) {
            Snapshot before = snapshot(user, ids, !tier.computesOwnCrcs());
            if (!progress.awaitApplied(user, before.newestCapture())) {
                LOG.warn(
                        "{}: the tier has not applied up to {} in time; comparing anyway",
                        user,
                        before.newestCapture());
            }
            Pass1 now = compare(user, tier, before.mailboxes(), before.user());
            found = withoutStatesInFlight(user, tier, now, before);
            if (found.isEmpty()) return found;
            now.tierMailboxes().forEach(m -> ids.add(m.getHeader().getUniqueId()));
            if (snapshot(user, ids, !tier.computesOwnCrcs()).equals(before)) return found;
        }
        LOG.warn("{}: still changing after {} rounds; reporting what the last one saw", user, ROUNDS);
        return found;
    }

    /**
     * Drops the header differences of mailboxes that the tier holds as the canonical state held
     * them at some moment since {@code before} was read: the tier applied changes that came after
     * that read (mail still arriving), which is no difference.
     */
    private List<Difference> withoutStatesInFlight(String user, StateSource tier, Pass1 now, Snapshot before)
            throws Exception {
        Map<String, MailboxState> tierById = new LinkedHashMap<>();
        now.tierMailboxes().forEach(m -> tierById.put(m.getHeader().getUniqueId(), m));
        Map<String, Long> since = new LinkedHashMap<>();
        before.mailboxes()
                .forEach(m ->
                        since.put(m.getHeader().getUniqueId(), m.getHeader().getHighestModseq()));
        List<Difference> out = new ArrayList<>();
        for (Difference d : now.differences()) {
            MailboxState held = tierById.get(d.uniqueId());
            if (d.kind() == Kind.MAILBOX
                    && held != null
                    && heldSince(user, tier, held, since.getOrDefault(d.uniqueId(), 0L))) continue;
            out.add(d);
        }
        return out;
    }

    private boolean heldSince(String user, StateSource tier, MailboxState held, long sinceModseq) throws Exception {
        for (MailboxState version : canonical.versions(user, held.getHeader().getUniqueId())) {
            if (version.getHeader().getHighestModseq() < sinceModseq) continue;
            MailboxState judged = tier.computesOwnCrcs() ? version : StateDiff.withComputedCrcs(version);
            if (StateDiff.headers(user, List.of(judged), List.of(held)).isEmpty()) return true;
        }
        return false;
    }

    /**
     * The primary leads the canonical state, and under load never stands still long enough to be
     * compared at one instant. So its differences, records included, are read again with a growing
     * pause, and only a difference seen identically in every read until {@code patience} runs out
     * counts: a change in flight shows differently (or not at all) once capture has it, while a
     * change capture never saw stays as it is.
     */
    private List<Difference> recheckUpstream(String user, StateSource tier, Duration patience) throws Exception {
        long deadline = System.nanoTime() + patience.toNanos();
        long pause = 200;
        List<Difference> persistent = null;
        while (true) {
            Set<String> ids = new LinkedHashSet<>();
            canonical.mailboxes(user, false).forEach(m -> ids.add(m.getHeader().getUniqueId()));
            tier.mailboxes(user, false).forEach(m -> ids.add(m.getHeader().getUniqueId()));
            Snapshot now = snapshot(user, ids, !tier.computesOwnCrcs());
            List<Difference> found = withRecords(
                    user, tier, compare(user, tier, now.mailboxes(), now.user()).differences());
            if (persistent == null) persistent = found;
            else persistent = persistent.stream().filter(found::contains).toList();
            if (persistent.isEmpty() || System.nanoTime() > deadline) return persistent;
            Thread.sleep(pause);
            pause = Math.min(pause * 2, 5000);
        }
    }

    /** The canonical state of these mailboxes and the user as it is now, read one by one (a listing is as old as its read). */
    private record Snapshot(
            List<MailboxState> mailboxes, Optional<UserState> user, long newestCapture, List<String> lastEvents) {}

    private Snapshot snapshot(String user, Collection<String> uniqueIds, boolean computeCrcs) throws Exception {
        List<MailboxState> mailboxes = new ArrayList<>();
        List<String> events = new ArrayList<>();
        Optional<UserState> state = canonical.user(user);
        long newest = state.map(UserState::getLastCaptureTime).orElse(0L);
        events.add(state.map(UserState::getLastEventId).orElse("-"));
        for (String id : uniqueIds) {
            Optional<MailboxState> m = canonical.mailbox(user, id, null);
            events.add(m.map(MailboxState::getLastEventId).orElse("-"));
            if (m.isEmpty()) {
                newest = Math.max(newest, canonical.lastChange(user, id).orElse(0));
                continue;
            }
            newest = Math.max(newest, m.get().getLastCaptureTime());
            // Mid-change the canonical records can be ahead of its header: a tier judged by its records (the
            // store) is compared with the canonical records too, never with a header from before them.
            MailboxState judged = computeCrcs ? StateDiff.withComputedCrcs(m.get()) : m.get();
            mailboxes.add(MailboxState.newBuilder(judged)
                    .setRecords(new ArrayList<>())
                    .build());
        }
        return new Snapshot(mailboxes, state, newest, events);
    }

    /** Pass 2: record by record for every mailbox whose header differs. */
    private List<Difference> withRecords(String user, StateSource tier, List<Difference> found) throws Exception {
        List<Difference> out = new ArrayList<>(found);
        for (Difference d : found) {
            if (d.kind() != Kind.MAILBOX) continue;
            Optional<MailboxState> ours = canonical.mailbox(user, d.uniqueId(), d.mailbox());
            Optional<MailboxState> theirs = tier.mailbox(user, d.uniqueId(), d.mailbox());
            if (ours.isPresent() && theirs.isPresent()) out.addAll(StateDiff.records(user, ours.get(), theirs.get()));
        }
        return out;
    }

    private void repair(String user, List<Difference> found, Repairer repairer) throws Exception {
        Set<String> mailboxes = new LinkedHashSet<>();
        boolean userData = false;
        for (Difference d : found) {
            switch (d.kind()) {
                case MISSING_MAILBOX, MAILBOX, RECORD, BODY, UNREADABLE -> mailboxes.add(d.uniqueId());
                case EXTRA_MAILBOX -> repairer.removeExtra(user, d.mailbox());
                case USER -> userData = true;
                case REPAIR_FAILED -> {}
            }
        }
        for (String uniqueId : mailboxes) {
            Optional<MailboxState> ours = canonical.mailbox(user, uniqueId, null);
            if (ours.isPresent()) repairer.mailbox(ours.get());
            else LOG.warn("{}: mailbox {} is no longer in the canonical state; not repaired", user, uniqueId);
        }
        // Seen entries name mailboxes, so user data follows the mailboxes it may refer to.
        if (userData || !mailboxes.isEmpty()) repairer.user(user, canonical.user(user));
    }
}
