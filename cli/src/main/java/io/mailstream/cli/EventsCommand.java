package io.mailstream.cli;

import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Expunge;
import io.mailstream.schemas.MailboxDelete;
import io.mailstream.schemas.MailboxRename;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.RecordsUpsert;
import io.mailstream.schemas.codec.AvroSerdes;
import io.mailstream.schemas.codec.ChangeEventJson;
import io.mailstream.schemas.codec.SchemaTopicRegistry;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "events",
        description =
                "Print the change events of mailstream.changes as JSON lines" + " (message bodies as GUID and size).")
final class EventsCommand extends Subcommand {
    @Option(names = "--user", paramLabel = "USERID", description = "Only this user's events.")
    String user;

    @Option(
            names = "--mailbox",
            paramLabel = "NAME|UNIQUEID",
            description = "Only this mailbox's events"
                    + " (by name: from the first event that names it, and across renames).")
    String mailbox;

    @Option(names = "--from-beginning", description = "Start at the oldest event instead of the newest.")
    boolean fromBeginning;

    @Option(names = "--follow", description = "Keep printing new events until Ctrl-C.")
    boolean follow;

    /** Uniqueids of the mailbox that --mailbox names, learnt from the events. */
    private final Set<String> mailboxIds = new HashSet<>();

    @Override
    public Integer call() {
        MailstreamConfig config = config();
        String bootstrap = KafkaAddress.of(config);
        PrintWriter out = out();
        try (SchemaTopicRegistry schemas = new SchemaTopicRegistry(KafkaClients.adminProps(bootstrap));
                KafkaConsumer<String, ChangeEvent> consumer = new KafkaConsumer<>(
                        KafkaClients.consumerProps(bootstrap, null),
                        new StringDeserializer(),
                        AvroSerdes.changeEvent(schemas).deserializer())) {
            List<TopicPartition> parts = consumer.partitionsFor(Topics.CHANGES, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(Topics.CHANGES, p.partition()))
                    .toList();
            consumer.assign(parts);
            if (fromBeginning) {
                consumer.seekToBeginning(parts);
            } else {
                consumer.seekToEnd(parts);
            }
            // read_committed end offsets: where "now" is for a run without --follow
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, Duration.ofSeconds(30));
            while (follow || parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<String, ChangeEvent> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.value() != null && matches(r.value())) {
                        out.println(ChangeEventJson.render(r.value()));
                    }
                }
                out.flush();
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new ConfigException(
                    "cannot read " + Topics.CHANGES + " from Kafka at " + bootstrap + ": " + e.getMessage());
        }
        return Main.OK;
    }

    private boolean matches(ChangeEvent e) {
        if (user != null && !user.equals(e.getEnvelope().getPartitionKey())) {
            return false;
        }
        if (mailbox == null) {
            return true;
        }
        String id = e.getEnvelope().getMailboxUniqueId();
        if (id != null && namesOf(e.getPayload()).anyMatch(mailbox::equals)) {
            mailboxIds.add(id);
        }
        return mailbox.equals(id) || mailboxIds.contains(id);
    }

    private static Stream<String> namesOf(Object payload) {
        if (payload instanceof MailboxUpsert m) return Stream.of(m.getName());
        if (payload instanceof RecordsUpsert r) return Stream.of(r.getMailboxName());
        if (payload instanceof Expunge x) return Stream.of(x.getMailboxName());
        if (payload instanceof MailboxDelete d) return Stream.of(d.getName());
        if (payload instanceof MailboxRename r) return Stream.of(r.getOldName(), r.getNewName());
        return Stream.empty();
    }
}
