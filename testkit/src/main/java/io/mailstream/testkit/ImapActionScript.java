package io.mailstream.testkit;

import java.util.List;
import java.util.Map;

/**
 * The labelled client actions that exercise every kind of Cyrus change replication must carry (the same set the
 * cyrus-lab reference drove). Run all with {@link #runAll()} or one {@link Step} at a time to assert per step.
 * Steps build on each other, so run them in declaration order. Users: {@code alice} and {@code bob} (both need
 * passwords on the endpoint); {@code carol} is created and deleted by the admin and never logs in.
 */
public final class ImapActionScript {
    public static final String ALICE = "alice";
    public static final String BOB = "bob";
    public static final String CAROL = "carol";
    public static final String SIEVE_SCRIPT_NAME = "mailstream";
    public static final String SIEVE_SCRIPT = """
            require ["fileinto"];
            if header :contains "subject" "project" {
              fileinto "INBOX.Projects";
            }
            """.replace("\n", "\r\n");

    public enum Step {
        CREATE_USERS("admin: CREATE user.alice, user.bob"),
        APPEND("alice: APPEND 1 KB, 40 KB (\\Flagged), 1 KB and a 1 MB attachment message to INBOX; bob: APPEND 1"),
        STORE_FLAGS("alice: UID STORE 1 +FLAGS (\\Seen $Label1); 2 -FLAGS (\\Flagged) +FLAGS (\\Answered)"),
        EXPUNGE("alice: UID 3 \\Deleted + EXPUNGE; UID 4 \\Deleted + UID EXPUNGE 4"),
        CREATE_FOLDERS("alice: CREATE INBOX.Work, INBOX.Archive; APPEND to Work; UID COPY 1 to Work"),
        SUBSCRIBE("alice: SUBSCRIBE Work, Archive; UNSUBSCRIBE Archive"),
        RENAME("alice: RENAME INBOX.Work INBOX.Projects"),
        DELETE_FOLDER("alice: DELETE INBOX.Archive"),
        SETACL("alice: SETACL INBOX bob lrs"),
        SETMETADATA("alice: SETMETADATA INBOX /private/comment, /shared/comment"),
        SEEN_OTHER_USER("bob: SELECT user.alice; UID STORE 2 +FLAGS (\\Seen) (non-owner seen state)"),
        SETQUOTA("admin: SETQUOTA user.alice (STORAGE 100000)"),
        SIEVE("alice via ManageSieve: PUTSCRIPT + SETACTIVE (files subject 'project' into INBOX.Projects)"),
        LMTP_DELIVERY("LMTP: one message to alice and bob, one 'project' message to alice (sieve files it)"),
        MOVE("alice: UID MOVE 1 INBOX.Projects"),
        DELETE_USER("admin: CREATE user.carol, SETACL admin, APPEND, DELETE user.carol");

        private final String description;

        Step(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    private final CyrusEndpoint target;
    private final MessageFactory messages;
    private int messageIndex;

    public ImapActionScript(CyrusEndpoint target, long seed) {
        this.target = target;
        this.messages = new MessageFactory(seed);
    }

    public void runAll() {
        for (Step s : Step.values()) run(s);
    }

    public void run(Step step) {
        switch (step) {
            case CREATE_USERS ->
                admin(c -> {
                    c.create("user." + ALICE);
                    c.create("user." + BOB);
                });
            case APPEND -> {
                as(ALICE, c -> {
                    append(c, "INBOX", List.of(), 1024, "hello 1");
                    append(c, "INBOX", List.of("\\Flagged"), 40 * 1024, "hello 2");
                    append(c, "INBOX", List.of(), 1024, "hello 3");
                    append(c, "INBOX", List.of("$Big"), 1024 * 1024, "big attachment");
                });
                as(BOB, c -> append(c, "INBOX", List.of(), 2048, "bob's own"));
            }
            case STORE_FLAGS ->
                inInbox(ALICE, c -> {
                    c.uidStore("1", true, "\\Seen", "$Label1");
                    c.uidStore("2", false, "\\Flagged");
                    c.uidStore("2", true, "\\Answered");
                });
            case EXPUNGE ->
                inInbox(ALICE, c -> {
                    c.uidStore("3", true, "\\Deleted");
                    c.expunge();
                    c.uidStore("4", true, "\\Deleted");
                    c.uidExpunge("4");
                });
            case CREATE_FOLDERS ->
                as(ALICE, c -> {
                    c.create("INBOX.Work");
                    c.create("INBOX.Archive");
                    append(c, "INBOX.Work", List.of(), 3000, "work item");
                    c.select("INBOX");
                    c.uidCopy("1", "INBOX.Work");
                });
            case SUBSCRIBE ->
                as(ALICE, c -> {
                    c.subscribe("INBOX.Work");
                    c.subscribe("INBOX.Archive");
                    c.unsubscribe("INBOX.Archive");
                });
            case RENAME -> as(ALICE, c -> c.rename("INBOX.Work", "INBOX.Projects"));
            case DELETE_FOLDER -> as(ALICE, c -> c.delete("INBOX.Archive"));
            case SETACL -> as(ALICE, c -> c.setAcl("INBOX", BOB, "lrs"));
            case SETMETADATA ->
                as(ALICE, c -> {
                    c.setMetadata("INBOX", "/private/comment", "alice private note");
                    c.setMetadata("INBOX", "/shared/comment", "shared note (with \"quotes\")");
                });
            case SEEN_OTHER_USER ->
                as(BOB, c -> {
                    c.select("user." + ALICE);
                    c.uidStore("2", true, "\\Seen");
                });
            case SETQUOTA -> admin(c -> c.setQuota("user." + ALICE, Map.of("STORAGE", 100000L)));
            case SIEVE -> {
                try (ManageSieveClient s = target.sieve(ALICE)) {
                    s.putScript(SIEVE_SCRIPT_NAME, SIEVE_SCRIPT);
                    s.setActive(SIEVE_SCRIPT_NAME);
                }
            }
            case LMTP_DELIVERY -> {
                try (LmtpClient l = target.lmtp()) {
                    l.deliver("carol@example.org", List.of(ALICE, BOB), next(4096, "lmtp to alice and bob"));
                    l.deliver("carol@example.org", List.of(ALICE), next(2048, "project update"));
                }
            }
            case MOVE -> inInbox(ALICE, c -> c.uidMove("1", "INBOX.Projects"));
            case DELETE_USER ->
                admin(c -> {
                    c.create("user." + CAROL);
                    // admins only have implicit l and a on users' mailboxes: grant i (append) and x (delete)
                    c.setAcl("user." + CAROL, target.admin(), "lrswipkxtecda");
                    append(c, "user." + CAROL, List.of(), 1500, "for carol");
                    c.delete("user." + CAROL);
                });
        }
    }

    private void append(ImapClient c, String mailbox, List<String> flags, int size, String subject) {
        int index = messageIndex;
        c.append(mailbox, flags, messages.date(index), next(size, subject));
    }

    private byte[] next(int size, String subject) {
        int index = messageIndex++;
        return messages.message(index, size, "sender" + index + "@example.org", "alice@mailstream.test", subject);
    }

    private interface Action {
        void run(ImapClient c);
    }

    private void as(String user, Action action) {
        try (ImapClient c = target.imap(user)) {
            action.run(c);
            c.logout();
        }
    }

    private void admin(Action action) {
        as(target.admin(), action);
    }

    private void inInbox(String user, Action action) {
        as(user, c -> {
            c.select("INBOX");
            action.run(c);
        });
    }
}
