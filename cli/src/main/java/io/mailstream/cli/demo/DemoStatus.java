package io.mailstream.cli.demo;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.streams.StatusReport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintWriter;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's live view, every few seconds until closed: what the users did on the primary, and
 * per tier the events its sink applied and how far behind it is ({@code mailstream status}).
 */
public final class DemoStatus implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DemoStatus.class);

    private final MailstreamConfig config;
    private final String bootstrapServers;
    private final MeterRegistry metrics;
    private final DemoTraffic traffic;
    private final PrintWriter out;
    private final long refreshMillis;
    private final Thread thread;
    private volatile boolean stopping;

    private DemoStatus(
            MailstreamConfig config,
            String bootstrapServers,
            MeterRegistry metrics,
            DemoTraffic traffic,
            PrintWriter out,
            int refreshSeconds) {
        this.config = config;
        this.bootstrapServers = bootstrapServers;
        this.metrics = metrics;
        this.traffic = traffic;
        this.out = out;
        this.refreshMillis = Math.max(1, refreshSeconds) * 1000L;
        this.thread = new Thread(this::run, "demo-status");
        thread.setDaemon(true);
    }

    public static DemoStatus start(
            MailstreamConfig config,
            String bootstrapServers,
            MeterRegistry metrics,
            DemoTraffic traffic,
            PrintWriter out,
            int refreshSeconds) {
        DemoStatus status = new DemoStatus(config, bootstrapServers, metrics, traffic, out, refreshSeconds);
        status.thread.start();
        return status;
    }

    private void run() {
        while (!stopping) {
            try {
                Thread.sleep(refreshMillis);
                print();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (stopping) return; // closing interrupts a read in progress; nothing to report
                LOG.warn("demo status: {}", e.toString()); // e.g. the broker is busy; the next refresh tries again
            }
        }
    }

    private void print() {
        StatusReport report = StatusReport.compute(config, bootstrapServers);
        StringBuilder s = new StringBuilder(String.format(
                "%n-- %s  primary: %d messages delivered over LMTP, %d IMAP actions%s%n",
                LocalTime.now().truncatedTo(ChronoUnit.SECONDS),
                traffic.delivered(),
                traffic.actions(),
                traffic.failures() > 0 ? " (" + traffic.failures() + " failed)" : ""));
        String page = config.get(ConfigKeys.HTTP_LISTEN);
        if (!page.isBlank() && !page.endsWith(":0"))
            s.append("   status page: http://").append(page).append("/\n");
        for (String tier : config.tiers()) {
            s.append(String.format("   tier %s: %.0f events applied%n", tier, applied(tier)));
        }
        s.append(report.render());
        out.print(s);
        out.flush();
    }

    private double applied(String tier) {
        Counter c =
                metrics.find("mailstream.sink.events.applied").tag("tier", tier).counter();
        return c == null ? 0 : c.count();
    }

    @Override
    public void close() throws InterruptedException {
        stopping = true;
        thread.interrupt();
        thread.join(10_000);
    }
}
