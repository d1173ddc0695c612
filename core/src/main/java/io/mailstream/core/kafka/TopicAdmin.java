package io.mailstream.core.kafka;

import io.mailstream.core.config.MailstreamConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Creates the topics of {@link Topics#required} that do not exist yet; existing ones are left as
 * they are. Under ACLs a role's Kafka user sees only the topics it may describe and usually may
 * not create any: what it is refused is left to the operator (or to a user with the rights), and
 * the role's own clients fail with an authorization error naming a topic it really needs.
 */
public final class TopicAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(TopicAdmin.class);

    private TopicAdmin() {}

    public static void ensureTopics(MailstreamConfig config, String bootstrapServers) {
        try (Admin admin = Admin.create(KafkaClients.adminProps(bootstrapServers))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = Topics.required(config).stream()
                    .filter(spec -> !existing.contains(spec.name()))
                    .map(spec -> new NewTopic(spec.name(), spec.partitions(), spec.replicationFactor()).configs(spec.configs()))
                    .toList();
            if (missing.isEmpty()) return;
            List<String> refused = new java.util.ArrayList<>();
            for (var entry : admin.createTopics(missing).values().entrySet()) {
                try {
                    entry.getValue().get(30, TimeUnit.SECONDS);
                    LOG.info("created topic {}", entry.getKey());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TopicAuthorizationException || e.getCause() instanceof ClusterAuthorizationException) {
                        refused.add(entry.getKey());
                    } else if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            if (!refused.isEmpty()) {
                LOG.info("topics {} are not visible to this Kafka user, which may not create them either: they must"
                        + " exist already where this role needs them", refused);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new KafkaUnavailableException("cannot create mailstream topics on " + bootstrapServers + ": "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaUnavailableException("interrupted while creating topics", e);
        }
    }
}
