package io.mailstream.cli.demo;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the demo's users do on the primary, on one thread until closed: a steady stream of mail
 * over LMTP and, in between, what people do with it over IMAP (read and flag, file into Archive,
 * delete and expunge, make and remove project folders). A failed action is logged and counted,
 * not fatal: the demo is about what reaches the tiers.
 */
public final class DemoTraffic implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DemoTraffic.class);
    private static final long PAUSE_MILLIS = 250;

    private final DemoCyrus primary;
    private final Map<String, String> passwords;
    private final List<String> users;
    private final DemoMail mail = new DemoMail(System.nanoTime(), "mailstream.demo");
    private final Random random = new Random();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong actions = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final Thread thread;
    private volatile boolean stopping;
    private final Map<String, Integer> projects = new HashMap<>();

    private DemoTraffic(DemoCyrus primary, String admin, Map<String, String> passwords) {
        this.primary = primary;
        this.passwords = passwords;
        this.users = passwords.keySet().stream().filter(u -> !u.equals(admin)).toList();
        this.thread = new Thread(this::run, "demo-traffic");
    }

    /** Creates every user's INBOX and Archive folder as the admin, then starts the traffic. */
    public static DemoTraffic start(DemoCyrus primary, String admin, Map<String, String> passwords) throws IOException {
        DemoTraffic traffic = new DemoTraffic(primary, admin, passwords);
        try (Imap imap = new Imap(DemoCyrus.HOST, primary.imapPort(), admin, passwords.get(admin))) {
            for (String user : traffic.users) {
                imap.command("CREATE " + Imap.quote("user." + user));
                imap.command("CREATE " + Imap.quote("user." + user + ".Archive"));
            }
        }
        traffic.thread.start();
        return traffic;
    }

    public long delivered() {
        return delivered.get();
    }

    public long actions() {
        return actions.get();
    }

    public long failures() {
        return failures.get();
    }

    private void run() {
        Lmtp lmtp = null;
        for (long tick = 0; !stopping; tick++) {
            try {
                if (lmtp == null) lmtp = new Lmtp(DemoCyrus.HOST, primary.lmtpPort());
                String to = users.get(random.nextInt(users.size()));
                lmtp.deliver("mailer@example.com", to, mail.next(to));
                delivered.incrementAndGet();
                if (tick % 3 == 2) {
                    imapAction(users.get(random.nextInt(users.size())));
                    actions.incrementAndGet();
                }
            } catch (IOException | RuntimeException e) {
                failures.incrementAndGet();
                LOG.warn("demo traffic: {}", e.toString());
                if (lmtp != null) lmtp.close();
                lmtp = null;
            }
            pause();
        }
        if (lmtp != null) lmtp.close();
    }

    private void imapAction(String user) throws IOException {
        try (Imap imap = new Imap(DemoCyrus.HOST, primary.imapPort(), user, passwords.get(user))) {
            imap.command("SELECT INBOX");
            List<Long> uids = imap.uids();
            if (uids.size() < 3) return;
            long some = uids.get(random.nextInt(uids.size()));
            switch (random.nextInt(5)) {
                case 0 -> imap.command("UID STORE " + some + " +FLAGS (\\Seen)");
                case 1 -> imap.command("UID STORE " + some + " +FLAGS (\\Seen \\Flagged $Important)");
                case 2 -> imap.command("UID MOVE " + uids.get(0) + " INBOX.Archive");
                case 3 -> {
                    imap.command("UID STORE " + some + " +FLAGS (\\Deleted)");
                    imap.command("EXPUNGE");
                }
                default -> projectFolder(imap, user, some);
            }
        }
    }

    /** Files a message into the user's next project folder and removes the one before it. */
    private void projectFolder(Imap imap, String user, long uid) throws IOException {
        int project = projects.merge(user, 1, Integer::sum);
        imap.command("CREATE " + Imap.quote("INBOX.Project-" + project));
        imap.command("UID COPY " + uid + " " + Imap.quote("INBOX.Project-" + project));
        if (project > 1) imap.command("DELETE " + Imap.quote("INBOX.Project-" + (project - 1)));
    }

    private static void pause() {
        try {
            Thread.sleep(PAUSE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stopping = true;
        thread.interrupt();
        thread.join(30_000);
    }
}
