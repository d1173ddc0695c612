package io.mailstream.csync.model;

import java.util.Optional;

/**
 * Cyrus internal mailbox names (spec 2.7): {@code [domain!]user.<localpart>[.<folder>...]},
 * {@code .} inside a component written {@code ^}, delayed-deleted ones under {@code DELETED.}.
 */
public final class MailboxNames {
    public static final String DELETED_PREFIX = "DELETED.";

    private MailboxNames() {}

    /** The userid owning a personal mailbox (also a DELETED.* one), e.g. {@code alice@example.com}. */
    public static Optional<String> userOf(String mboxName) {
        String domain = null;
        String n = mboxName;
        int bang = n.indexOf('!');
        if (bang >= 0) {
            domain = n.substring(0, bang);
            n = n.substring(bang + 1);
        }
        if (n.startsWith(DELETED_PREFIX)) {
            n = n.substring(DELETED_PREFIX.length());
        }
        if (!n.startsWith("user.") || n.length() == 5) {
            return Optional.empty();
        }
        String rest = n.substring(5);
        int dot = rest.indexOf('.');
        String local = (dot < 0 ? rest : rest.substring(0, dot)).replace('^', '.');
        return Optional.of(domain == null ? local : local + "@" + domain);
    }

    /** The INBOX name of a userid: {@code alice} → {@code user.alice}. */
    public static String inboxOf(String userId) {
        int at = userId.indexOf('@');
        String local = (at < 0 ? userId : userId.substring(0, at)).replace('.', '^');
        return at < 0 ? "user." + local : userId.substring(at + 1) + "!user." + local;
    }

    public static boolean isDeleted(String mboxName) {
        int bang = mboxName.indexOf('!');
        return mboxName.startsWith(DELETED_PREFIX, bang + 1);
    }
}
