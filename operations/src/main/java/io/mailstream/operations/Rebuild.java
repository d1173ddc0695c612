package io.mailstream.operations;

import io.mailstream.bridge.apply.BodySource;
import io.mailstream.bridge.apply.ReplicaWriter;
import io.mailstream.bridge.state.StateSource;
import io.mailstream.schemas.MailboxState;
import io.mailstream.schemas.UserState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * Pushes whole users from a {@link StateSource} (the store, {@code mailstream.state}) into a Cyrus
 * through {@link ReplicaWriter}: every mailbox, parents first, then quotas, subscriptions, sieve and
 * seen entries. Bodies come from {@code bodies}.
 */
public final class Rebuild {
    /** What a rebuild pushed. */
    public record Result(int users, long mailboxes, long messages) {}

    /** The users chosen and what they hold, read before anything is pushed, so that a progress bar knows the total. */
    public record Plan(
            Map<String, List<MailboxState>> mailboxes, Map<String, Optional<UserState>> users, long messages) {}

    private Rebuild() {}

    /**
     * Reads {@code users} (all the source holds when empty) from {@code source}; a user the source
     * holds nothing for is an error naming it, before anything is pushed.
     */
    public static Plan plan(StateSource source, List<String> users) throws Exception {
        List<String> chosen = users == null || users.isEmpty() ? source.users() : users;
        Map<String, List<MailboxState>> mailboxes = new LinkedHashMap<>();
        Map<String, Optional<UserState>> states = new LinkedHashMap<>();
        long messages = 0;
        for (String user : chosen) {
            List<MailboxState> boxes = source.mailboxes(user, true);
            Optional<UserState> state = source.user(user);
            if (boxes.isEmpty() && state.isEmpty()) {
                throw new IllegalArgumentException(source.describe() + " holds nothing for user " + user);
            }
            mailboxes.put(user, boxes);
            states.put(user, state);
            messages += boxes.stream().mapToLong(m -> m.getRecords().size()).sum();
        }
        return new Plan(mailboxes, states, messages);
    }

    /** Pushes the plan; {@code progress} hears the records sent, mailbox by mailbox. */
    public static Result push(Plan plan, ReplicaWriter writer, BodySource bodies, LongConsumer progress)
            throws Exception {
        long mailboxes = 0;
        for (Map.Entry<String, List<MailboxState>> user : plan.mailboxes().entrySet()) {
            writer.pushUser(
                    user.getValue(),
                    plan.users().get(user.getKey()),
                    bodies,
                    pushed -> progress.accept(pushed.recordsSent()));
            mailboxes += user.getValue().size();
        }
        return new Result(plan.mailboxes().size(), mailboxes, plan.messages());
    }
}
