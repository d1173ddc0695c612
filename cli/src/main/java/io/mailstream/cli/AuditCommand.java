package io.mailstream.cli;

import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.operations.audit.Audit;
import io.mailstream.operations.audit.AuditEntry;
import io.mailstream.operations.audit.AuditTimes;
import io.mailstream.operations.audit.ChangeLogReader;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import java.io.PrintWriter;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "audit",
        description = "What happened to a user's mail, and when, from " + Topics.CHANGES
                + ": a timeline of changes (delivered, flags, moved, expunged, folders, ACL, seen, sieve, quota), or with"
                + " --at the mailboxes or one mailbox's messages as they were at a time.")
final class AuditCommand extends Subcommand {
    @Option(names = "--user", required = true, paramLabel = "USERID", description = "Whose mail (the partition key).")
    String user;

    @Option(
            names = "--mailbox",
            paramLabel = "NAME|UNIQUEID",
            description =
                    "Only this mailbox (a Cyrus internal name such as user.alice.Work, any name it has had, or its uniqueid).")
    String mailbox;

    @Option(
            names = "--uid",
            paramLabel = "N",
            description = "Only this message of --mailbox, followed across moves by its GUID.")
    Long uid;

    @Option(
            names = "--guid",
            paramLabel = "HEX",
            description = "Only messages with this body GUID (at least 8 hex digits).")
    String guid;

    @Option(
            names = "--message-id",
            paramLabel = "ID",
            description = "Only messages with this Message-ID header (reads the" + " bodies' headers, so slower).")
    String messageId;

    @Option(
            names = "--since",
            paramLabel = "TIME",
            description = "Changes captured at or after TIME (" + AuditTimes.FORMS + ").")
    String since;

    @Option(names = "--until", paramLabel = "TIME", description = "Changes captured at or before TIME.")
    String until;

    @Option(
            names = "--at",
            paramLabel = "TIME",
            description = "Instead of a timeline: the mailboxes (or --mailbox's messages"
                    + " and flags) as they were at TIME.")
    String at;

    @Option(names = "--json", description = "One JSON object per line, for tools.")
    boolean json;

    @Override
    public Integer call() {
        // Bad options are reported before anything connects.
        Audit.Query query = null;
        long atMs = 0;
        try {
            if (at != null) {
                if (uid != null || guid != null || messageId != null || since != null || until != null) {
                    throw new IllegalArgumentException("--at takes only --user and --mailbox");
                }
                atMs = AuditTimes.parse("--at", at);
            } else {
                query = new Audit.Query(
                        user,
                        mailbox,
                        uid,
                        guid,
                        messageId,
                        since == null ? 0 : AuditTimes.parse("--since", since),
                        until == null ? Long.MAX_VALUE : AuditTimes.parse("--until", until));
            }
        } catch (IllegalArgumentException e) {
            err().println("audit: " + e.getMessage());
            return Main.USAGE;
        }
        MailstreamConfig config = config();
        String bootstrap = KafkaAddress.of(config);
        PrintWriter out = out();
        try (SchemaTopicRegistry schemas = new SchemaTopicRegistry(KafkaClients.adminProps(bootstrap));
                ChangeLogReader log = new ChangeLogReader(KafkaClients.consumerProps(bootstrap, null), schemas)) {
            long started = System.nanoTime();
            if (query == null) {
                print(out, Audit.at(log, user, mailbox, atMs));
            } else {
                Audit.Timeline timeline = Audit.timeline(log, query);
                for (AuditEntry e : timeline.entries()) out.println(json ? e.toJson() : e.toText());
                err().printf(
                                "audit: %d changes from %d events of user %s in %s (%d ms)%s%n",
                                timeline.entries().size(),
                                timeline.eventsRead(),
                                user,
                                log.partitionOf(user),
                                (System.nanoTime() - started) / 1_000_000,
                                timeline.wholeHistory()
                                        ? ""
                                        : "; read from --since on: what existed before shows as present");
            }
            out.flush();
            return Main.OK;
        } catch (IllegalArgumentException e) {
            // --at a mailbox the user did not have then
            err().println("audit: " + e.getMessage());
            return Main.FAILURE;
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new ConfigException(
                    "cannot read " + Topics.CHANGES + " from Kafka at " + bootstrap + ": " + e.getMessage());
        }
    }

    private void print(PrintWriter out, Audit.Snapshot s) {
        if (s.mailbox() == null) {
            for (Audit.MailboxAt m : s.mailboxes()) {
                out.println(
                        json
                                ? "{\"mailbox\":" + q(m.name()) + ",\"uniqueId\":" + q(m.uniqueId())
                                        + ",\"uidValidity\":" + m.uidValidity() + ",\"lastUid\":" + m.lastUid()
                                        + ",\"messages\":" + m.messages() + ",\"acl\":" + q(m.acl()) + "}"
                                : String.format(
                                        "%s  %s  %d messages  uidvalidity %d  lastuid %d",
                                        m.name(), m.uniqueId(), m.messages(), m.uidValidity(), m.lastUid()));
            }
            err().printf(
                            "audit: %d mailboxes of user %s at %s%n",
                            s.mailboxes().size(), user, Instant.ofEpochMilli(s.atMs()));
            return;
        }
        for (Audit.MessageAt m : s.messages()) {
            out.println(
                    json
                            ? "{\"mailbox\":" + q(s.mailbox().name()) + ",\"uid\":" + m.uid() + ",\"guid\":"
                                    + q(m.guid()) + ",\"size\":" + m.size()
                                    + ",\"internalDate\":"
                                    + q(Instant.ofEpochSecond(m.internalDate()).toString()) + ",\"flags\":["
                                    + String.join(
                                            ",",
                                            m.flags().stream()
                                                    .map(AuditCommand::q)
                                                    .toList()) + "]}"
                            : String.format(
                                    "%d  %s  %d bytes  %s  (%s)",
                                    m.uid(),
                                    m.guid(),
                                    m.size(),
                                    Instant.ofEpochSecond(m.internalDate()),
                                    String.join(" ", m.flags())));
        }
        err().printf(
                        "audit: %s (%s) at %s: %d messages%n",
                        s.mailbox().name(),
                        s.mailbox().uniqueId(),
                        Instant.ofEpochMilli(s.atMs()),
                        s.messages().size());
    }

    private static String q(String s) {
        StringBuilder b = new StringBuilder();
        if (s == null) return "null";
        b.append('"');
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }
}
