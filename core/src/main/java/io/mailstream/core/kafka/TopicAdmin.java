package io.mailstream.core.kafka;

import io.mailstream.core.config.MailstreamConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the topics of {@link Topics#required} that do not exist yet, and checks those that do:
 * a topic created by someone else (or auto-created by a broker with its defaults) may expire the
 * history, compact what must be kept whole, or have fewer replicas than the cluster promises.
 * Such a topic is refused with {@link TopicSettingsException}; it is never altered behind the
 * operator's back. Under ACLs a role's Kafka user sees only the topics it may describe and usually
 * may not create any: what it is refused is left to the operator (or to a user with the rights),
 * and the role's own clients fail with an authorization error naming a topic it really needs.
 */
public final class TopicAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(TopicAdmin.class);

    private TopicAdmin() {}

    public static void ensureTopics(MailstreamConfig config, String bootstrapServers) {
        List<Topics.TopicSpec> required = Topics.required(config);
        try (Admin admin = Admin.create(KafkaClients.adminProps(bootstrapServers))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<Topics.TopicSpec> present = required.stream()
                    .filter(spec -> existing.contains(spec.name()))
                    .toList();
            List<String> problems = check(admin, present);
            if (!problems.isEmpty()) throw new TopicSettingsException(bootstrapServers, problems);
            List<NewTopic> missing = required.stream()
                    .filter(spec -> !existing.contains(spec.name()))
                    .map(spec -> new NewTopic(spec.name(), spec.partitions(), spec.replicationFactor())
                            .configs(spec.configs()))
                    .toList();
            if (missing.isEmpty()) return;
            List<String> refused = new java.util.ArrayList<>();
            for (var entry : admin.createTopics(missing).values().entrySet()) {
                try {
                    entry.getValue().get(30, TimeUnit.SECONDS);
                    LOG.info("created topic {}", entry.getKey());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TopicAuthorizationException
                            || e.getCause() instanceof ClusterAuthorizationException) {
                        refused.add(entry.getKey());
                    } else if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            if (!refused.isEmpty()) {
                LOG.info(
                        "topics {} are not visible to this Kafka user, which may not create them either: they must"
                                + " exist already where this role needs them",
                        refused);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new KafkaUnavailableException(
                    "cannot create mailstream topics on " + bootstrapServers + ": "
                            + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaUnavailableException("interrupted while creating topics", e);
        }
    }

    private static List<String> check(Admin admin, List<Topics.TopicSpec> present)
            throws ExecutionException, InterruptedException, TimeoutException {
        if (present.isEmpty()) return List.of();
        List<String> names = present.stream().map(Topics.TopicSpec::name).toList();
        Map<String, TopicDescription> descriptions =
                admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
        List<ConfigResource> resources = names.stream()
                .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n))
                .toList();
        Map<ConfigResource, org.apache.kafka.common.KafkaFuture<Config>> configs =
                admin.describeConfigs(resources).values();
        List<String> problems = new ArrayList<>();
        List<String> unchecked = new ArrayList<>();
        for (Topics.TopicSpec spec : present) {
            TopicDescription d = descriptions.get(spec.name());
            int replicas = d.partitions().stream()
                    .mapToInt(p -> p.replicas().size())
                    .min()
                    .orElse(0);
            Config config;
            try {
                config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, spec.name()))
                        .get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                // A least-privilege role may describe a topic but not its configuration: the operator who created it
                // checks it.
                if (e.getCause() instanceof TopicAuthorizationException
                        || e.getCause() instanceof ClusterAuthorizationException) {
                    unchecked.add(spec.name());
                    continue;
                }
                throw e;
            }
            Map<String, String> effective = new HashMap<>();
            for (ConfigEntry e : config.entries()) {
                if (e.value() != null) effective.put(e.name(), e.value());
            }
            problems.addAll(problems(spec, replicas, effective));
        }
        if (!unchecked.isEmpty()) {
            LOG.info(
                    "settings of topics {} not checked: this Kafka user may not describe their configuration",
                    unchecked);
        }
        return problems;
    }

    /**
     * What is wrong with an existing topic for {@code spec}, given its smallest replica count and
     * its effective configuration (broker defaults included). Empty when mailstream can run on it.
     * Durability settings may be stricter than mailstream's (more replicas, a higher min ISR,
     * longer retention); the cleanup policy and unclean leader election must be exactly as asked.
     */
    static List<String> problems(Topics.TopicSpec spec, int replicationFactor, Map<String, String> effective) {
        List<String> out = new ArrayList<>();
        if (replicationFactor < spec.replicationFactor()) {
            out.add(problem(
                    spec,
                    "replication factor",
                    String.valueOf(replicationFactor),
                    "at least " + spec.replicationFactor()));
        }
        for (Map.Entry<String, String> want : spec.configs().entrySet()) {
            String key = want.getKey();
            String expected = want.getValue();
            String found = effective.get(key);
            if (found == null) {
                out.add(problem(spec, key, "not reported by the broker", expected));
                continue;
            }
            switch (key) {
                case "cleanup.policy" -> {
                    if (!policies(found).equals(policies(expected))) out.add(problem(spec, key, found, expected));
                }
                case "retention.ms", "retention.bytes" -> {
                    long f = Long.parseLong(found.trim());
                    long e = Long.parseLong(expected);
                    boolean keepsLongEnough = f < 0 || (e >= 0 && f >= e);
                    if (!keepsLongEnough)
                        out.add(problem(spec, key, found, e < 0 ? "-1 (kept forever)" : "at least " + e + " or -1"));
                }
                case "min.insync.replicas", "max.message.bytes" -> {
                    if (Long.parseLong(found.trim()) < Long.parseLong(expected))
                        out.add(problem(spec, key, found, "at least " + expected));
                }
                default -> {
                    if (!found.trim().equalsIgnoreCase(expected)) out.add(problem(spec, key, found, expected));
                }
            }
        }
        return out;
    }

    private static Set<String> policies(String value) {
        return Arrays.stream(value.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static String problem(Topics.TopicSpec spec, String setting, String found, String expected) {
        return "topic " + spec.name() + ": " + setting + " is " + found + ", expected " + expected;
    }
}
