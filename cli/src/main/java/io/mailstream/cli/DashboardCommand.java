package io.mailstream.cli;

import io.mailstream.cli.web.StatusPage;
import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.Topics;
import io.mailstream.core.metrics.MailstreamMetrics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "dashboard",
        description = "Serve the status page (and /metrics) of any mailstream cluster, given by its"
                + " Kafka bootstrap servers, until Ctrl-C; starts no role and creates no topic. Tiers come from the"
                + " configuration, or else from the cluster's mailstream.feed.* topics.")
final class DashboardCommand extends Subcommand {
    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOST:PORT,...",
            description =
                    "Kafka of the cluster to show (default: kafka.bootstrap.servers, or the embedded broker of data.dir).")
    String bootstrapServers;

    @Option(
            names = "--listen",
            paramLabel = "HOST:PORT",
            description = "Where to serve the page (default: http.listen).")
    String listen;

    @Override
    public Integer call() throws Exception {
        MailstreamConfig config = config();
        String bootstrap = bootstrapServers != null ? bootstrapServers : KafkaAddress.of(config);
        Map<String, String> overrides = new LinkedHashMap<>();
        if (listen != null) overrides.put(ConfigKeys.HTTP_LISTEN.name(), listen);
        Set<String> typed = Set.copyOf(config.tiers());
        if (config.tiers().isEmpty()) {
            List<String> found = feedTiers(bootstrap);
            overrides.put(ConfigKeys.TIERS.name(), String.join(",", found));
            // A tier's type is required in a configuration; the page shows these tiers' type as unknown.
            found.forEach(t -> overrides.put("tier." + t + ".type", "store"));
            out().println(displayName() + ": tiers from the cluster's feed topics: "
                    + (found.isEmpty() ? "none" : String.join(", ", found)));
        }
        MailstreamConfig shown = config.with(overrides);
        if (shown.get(ConfigKeys.HTTP_LISTEN).isBlank()) {
            throw new ConfigException(
                    ConfigKeys.HTTP_LISTEN.name() + " is empty: the dashboard needs an address (--listen HOST:PORT)");
        }
        try (StatusPage page = StatusPage.start(shown, bootstrap, typed, MailstreamMetrics.registry())) {
            out().println(displayName() + ": cluster at " + bootstrap);
            page.pageUrl().ifPresent(url -> out().println(displayName() + ": status page at " + url));
            page.metricsUrl().ifPresent(url -> out().println(displayName() + ": Prometheus metrics at " + url));
            out().println(displayName() + ": running; Ctrl-C stops it");
            out().flush();
            root.stopSignal().await();
        } finally {
            out().println(displayName() + ": stopped");
            out().flush();
            root.stopSignal().cleanedUp();
        }
        return Main.OK;
    }

    /** Tier names of the cluster's {@code mailstream.feed.<tier>} topics. */
    private static List<String> feedTiers(String bootstrap) throws Exception {
        String prefix = Topics.feed("");
        try (Admin admin = Admin.create(KafkaClients.adminProps(bootstrap))) {
            return admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
                    .filter(n -> n.startsWith(prefix) && n.length() > prefix.length())
                    .map(n -> n.substring(prefix.length()))
                    .sorted()
                    .toList();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new ConfigException(
                    "cannot list the topics of the Kafka cluster at " + bootstrap + ": " + e.getMessage());
        }
    }
}
