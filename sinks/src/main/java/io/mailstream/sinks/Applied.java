package io.mailstream.sinks;

import java.util.Map;

/**
 * What a target reports after an apply.
 *
 * @param mailboxSyncCrcs uniqueid -> SYNC_CRC of each mailbox the apply touched, as the target
 *     computed it afterwards; empty where the target does not compute CRCs
 */
public record Applied(Map<String, Long> mailboxSyncCrcs) {
    public Applied {
        mailboxSyncCrcs = Map.copyOf(mailboxSyncCrcs);
    }

    public static Applied withoutCrcs() {
        return new Applied(Map.of());
    }
}
