package io.mailstream.cli;

import io.mailstream.cli.web.StatusPage;
import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.kafka.EmbeddedKafka;
import io.mailstream.core.kafka.TopicAdmin;
import io.mailstream.core.metrics.MailstreamMetrics;
import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way mailstream runs long-lived: Kafka (the embedded broker under data.dir/kafka when
 * no bootstrap servers are configured), the topics, then the given roles, until the stop signal;
 * then everything in reverse order. Shared by {@code run}, {@code kafka} and the role subcommands.
 */
final class RoleRunner {
    private static final Logger LOG = LoggerFactory.getLogger(RoleRunner.class);

    private final String command;
    private final PrintWriter out;
    private final PrintWriter err;
    private final StopSignal stop;

    RoleRunner(String command, PrintWriter out, PrintWriter err, StopSignal stop) {
        this.command = command;
        this.out = out;
        this.err = err;
        this.stop = stop;
    }

    /** Where the embedded broker of a configuration keeps its log. */
    static java.nio.file.Path embeddedDir(MailstreamConfig config) {
        return config.dataDir().resolve("kafka");
    }

    /** Runs until stopped; returns the exit code (1 if a role failed). */
    int run(MailstreamConfig config, List<Role> roles) throws Exception {
        AtomicReference<String> failure = new AtomicReference<>();
        Deque<AutoCloseable> started = new ArrayDeque<>();
        try {
            String bootstrap;
            if (config.embeddedKafka()) {
                EmbeddedKafka kafka = EmbeddedKafka.start(embeddedDir(config), embeddedPort(config));
                started.push(kafka);
                bootstrap = kafka.bootstrapServers();
                out.println(command + ": embedded Kafka broker at " + bootstrap + " (data in " + kafka.dataDir() + ")");
            } else {
                bootstrap = config.get(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS);
                out.println(command + ": Kafka at " + bootstrap);
            }
            TopicAdmin.ensureTopics(config, bootstrap);
            StatusPage page =
                    StatusPage.start(config, bootstrap, Set.copyOf(config.tiers()), MailstreamMetrics.registry());
            started.push(page);
            page.pageUrl().ifPresent(url -> out.println(command + ": status page at " + url));
            page.metricsUrl().ifPresent(url -> out.println(command + ": Prometheus metrics at " + url));
            RoleContext context = new RoleContext(config, bootstrap, MailstreamMetrics.registry(), (role, cause) -> {
                LOG.error("{} failed", role.name(), cause);
                if (failure.compareAndSet(null, role.name() + " failed: " + cause.getMessage())) stop.stop();
            });
            for (Role role : roles) {
                role.start(context);
                started.push(role);
                out.println(command + ": started " + role.name());
            }
            out.println(command + ": running; Ctrl-C stops it");
            out.flush();
            stop.await();
            out.println(command + ": stopping");
        } finally {
            closeAll(started);
            if (failure.get() != null) err.println(command + ": " + failure.get());
            out.println(command + ": stopped");
            out.flush();
            // Last: after this the JVM may halt (Ctrl-C), so everything must be printed by now.
            stop.cleanedUp();
        }
        return failure.get() != null ? Main.FAILURE : Main.OK;
    }

    private void closeAll(Deque<AutoCloseable> started) {
        while (!started.isEmpty()) {
            AutoCloseable c = started.pop();
            try {
                c.close();
            } catch (Exception e) {
                // Keep stopping the rest: a role that fails to close must not leave the broker running.
                LOG.warn("{}: stopping {} failed", command, c, e);
            }
        }
    }

    /** The port of kafka.embedded.listen; the embedded broker only listens on the loopback address. */
    static int embeddedPort(MailstreamConfig config) {
        String listen = config.get(ConfigKeys.KAFKA_EMBEDDED_LISTEN);
        int colon = listen.lastIndexOf(':');
        String host = colon < 0 ? "" : listen.substring(0, colon);
        if (!host.equals("127.0.0.1") && !host.equals("localhost")) {
            throw new ConfigException(
                    ConfigKeys.KAFKA_EMBEDDED_LISTEN.name() + ": expected 127.0.0.1:PORT (the embedded broker"
                            + " listens on loopback only), got '" + listen + "'");
        }
        try {
            return Integer.parseInt(listen.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(ConfigKeys.KAFKA_EMBEDDED_LISTEN.name() + ": '" + listen + "' has no valid port");
        }
    }
}
