package io.mailstream.bridge.capture;

import io.mailstream.csync.model.MailboxNames;

/**
 * The Kafka key of a change (design.md "Identity and ordering"): the owning userid for personal
 * mailboxes ({@code user.*} and {@code DELETED.user.*}, domain included as {@code local@domain}),
 * the top-level name for shared ones ({@code domain!top} in a virtual domain), and
 * {@value #SERVER} for server-wide annotations, which belong to no mailbox. {@code #} cannot start
 * a Cyrus top-level mailbox name nor a userid, so that key never collides with a real one.
 */
public final class PartitionKeys {
    public static final String SERVER = "#server";

    private PartitionKeys() {}

    public static String ofMailbox(String mboxName) {
        return MailboxNames.userOf(mboxName).orElseGet(() -> topLevel(mboxName));
    }

    private static String topLevel(String mboxName) {
        int bang = mboxName.indexOf('!');
        int dot = mboxName.indexOf('.', bang + 1);
        return dot < 0 ? mboxName : mboxName.substring(0, dot);
    }
}
