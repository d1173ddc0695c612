package io.mailstream.core.control;

import io.mailstream.schemas.ControlEvent;
import io.mailstream.schemas.PrimaryAssignment;
import io.mailstream.schemas.TierRole;
import io.mailstream.schemas.TierRoleChange;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What {@code mailstream.control} holds at one point: the current primary assignment, the
 * assignment of every epoch (streams judges an event by the one it was captured under), and
 * the role of each tier.
 */
public record ControlState(Map<String, ControlEvent> latest) {
    /** The current primary assignment, if any promotion ever happened. */
    public Optional<PrimaryAssignment> primary() {
        return assignmentAt(ControlTopic.ALL_KEYS);
    }

    /** The epoch of the current assignment; 0 before the first promotion. */
    public long epoch() {
        return primary().map(PrimaryAssignment::getEpoch).orElse(0L);
    }

    /** The assignment that made {@code epoch} current, if it was ever written. */
    public Optional<PrimaryAssignment> assignment(long epoch) {
        Optional<PrimaryAssignment> recorded = assignmentAt(ControlTopic.epochKey(epoch));
        if (recorded.isPresent()) {
            return recorded;
        }
        // Records written before the per-epoch history existed: only the current one is known.
        return primary().filter(a -> a.getEpoch() == epoch);
    }

    /** Role per tier, sorted by tier name. */
    public Map<String, TierRoleChange> roles() {
        Map<String, TierRoleChange> roles = new TreeMap<>();
        latest.forEach((key, event) -> {
            if (key.startsWith(ControlTopic.TIER_PREFIX) && event.getPayload() instanceof TierRoleChange r) {
                roles.put(r.getTier(), r);
            }
        });
        return roles;
    }

    public Optional<TierRole> role(String tier) {
        return Optional.ofNullable(roles().get(tier)).map(TierRoleChange::getRole);
    }

    private Optional<PrimaryAssignment> assignmentAt(String key) {
        ControlEvent e = latest.get(key);
        return e != null && e.getPayload() instanceof PrimaryAssignment a ? Optional.of(a) : Optional.empty();
    }
}
