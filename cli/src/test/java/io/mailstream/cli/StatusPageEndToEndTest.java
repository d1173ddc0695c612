package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailstream.core.kafka.KafkaClients;
import io.mailstream.core.kafka.TopicReader;
import io.mailstream.core.kafka.Topics;
import io.mailstream.testkit.ChildJvm;
import io.mailstream.testkit.CyrusInstance;
import io.mailstream.testkit.ImapClient;
import io.mailstream.testkit.LmtpClient;
import io.mailstream.testkit.MessageFactory;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * {@code mailstream run} between two real Cyrus servers (capture, streams, a Cyrus replica tier
 * dc2 and a store tier oob on the embedded broker), watched the way an operator would: Prometheus
 * scraping {@code /metrics} over HTTP, a real Chromium showing the status page, and
 * {@code mailstream dashboard} showing the same cluster from its bootstrap servers alone.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StatusPageEndToEndTest {
    private static final Pattern PAGE = Pattern.compile("status page at (http://\\S+)");
    private static final Pattern METRICS = Pattern.compile("Prometheus metrics at (http://\\S+)");
    private static final List<String> USERS = List.of("alice", "bob");
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    static Path dir;

    static CyrusInstance replica;
    static CyrusInstance primary;
    static Cli cli;
    static CompletableFuture<Integer> exit;
    static String pageUrl;
    static String metricsUrl;
    static PrometheusText before;
    static final MessageFactory mail = new MessageFactory(77);
    static int delivered;

    @BeforeAll
    static void start() throws Exception {
        CyrusInstance.requireCyrus();
        int capturePort = PipelineLab.freePort();
        replica = withUsers(CyrusInstance.replica()).start();
        primary = withUsers(CyrusInstance.primary())
                .mailstreamTarget("127.0.0.1", capturePort)
                .syncRepeatInterval(0)
                .start();
        Map<String, String> s = new LinkedHashMap<>();
        s.put("data.dir", dir.resolve("data").toString());
        s.put("http.listen", PipelineLab.ANY_PORT);
        s.put("status.refresh.seconds", "1");
        s.put("capture.listen", "127.0.0.1:" + capturePort);
        s.put("capture.auth.user", "admin");
        s.put("capture.auth.password", PipelineLab.ADMIN_PASSWORD);
        s.put("tiers", "dc2,oob");
        s.put("tier.dc2.type", "cyrus");
        s.put("tier.dc2.cyrus.address", "127.0.0.1:" + replica.csyncPort());
        s.put("tier.dc2.cyrus.password", PipelineLab.ADMIN_PASSWORD);
        s.put("tier.oob.type", "store");
        s.put("tier.oob.store.dir", dir.resolve("oob").toString());
        Path config = ChildJvm.writeProperties(dir.resolve("mailstream.properties"), s);
        cli = new Cli(Map.of());
        exit = cli.startUntilRunning("run", "--config", config.toString());
        pageUrl = find(PAGE);
        metricsUrl = find(METRICS);
        // Before Cyrus sends anything: the counters of this JVM's registry as they stand.
        before = PrometheusText.scrape(metricsUrl);
        try (ImapClient admin = primary.endpoint().imapAdmin()) {
            USERS.forEach(u -> admin.create("user." + u));
        }
        primary.startSyncClient(CyrusInstance.MAILSTREAM_CHANNEL, "-O");
    }

    private static CyrusInstance.Builder withUsers(CyrusInstance.Builder b) {
        b.admin("admin", PipelineLab.ADMIN_PASSWORD);
        USERS.forEach(u -> b.user(u, u + "pw"));
        return b;
    }

    private static String find(Pattern p) {
        Matcher m = p.matcher(cli.out());
        assertThat(m.find()).as("'%s' in: %s", p, cli.out()).isTrue();
        return m.group(1);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (cli != null) {
                cli.stop.stop();
                assertThat(exit.get(120, TimeUnit.SECONDS)).as(cli.err()).isZero();
            }
        } finally {
            if (primary != null) primary.close();
            if (replica != null) replica.close();
        }
    }

    @Test
    @Order(1)
    void prometheusScrapesCountsThatMatchWhatThePipelineDelivered() throws Exception {
        deliver(12);
        primary.awaitSyncLogDrained(CyrusInstance.MAILSTREAM_CHANNEL, Duration.ofMinutes(5));
        PrometheusText[] now = new PrometheusText[1];
        await().atMost(Duration.ofMinutes(5))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> {
                    now[0] = PrometheusText.scrape(metricsUrl);
                    return List.of("dc2", "oob").stream()
                            .allMatch(t -> now[0].value("mailstream_tier_lag_events", "tier", t) == 0
                                    && now[0].value("mailstream_tier_lag_seconds", "tier", t) == 0);
                });
        PrometheusText after = now[0];

        long changes = committedRecords(Topics.CHANGES);
        assertThat(changes).as("events in mailstream.changes").isPositive();
        assertThat(delta(after, "mailstream_capture_events_total"))
                .as("capture's events counter vs mailstream.changes")
                .isEqualTo(changes);
        for (String tier : List.of("dc2", "oob")) {
            assertThat(delta(after, "mailstream_sink_events_applied_total", "tier", tier))
                    .as("events tier %s applied vs its feed", tier)
                    .isEqualTo(committedRecords(Topics.feed(tier)));
        }
        assertThat(delta(after, "mailstream_capture_applies_total", "command", "MESSAGE"))
                .as("APPLY MESSAGE from Cyrus (one or more per LMTP delivery batch)")
                .isPositive();
        double commits = delta(after, "mailstream_capture_commit_seconds_count");
        assertThat(commits).as("committed transactions").isPositive();
        assertThat(delta(after, "mailstream_capture_commit_seconds_bucket", "le", "+Inf"))
                .isEqualTo(commits);
        assertThat(after.value("mailstream_capture_primary"))
                .as("capture fronts the primary")
                .isEqualTo(1);
        assertThat(after.value("mailstream_capture_fenced")).isZero();
        assertThat(after.value("mailstream_capture_epoch")).isEqualTo(1);
        assertThat(after.value("mailstream_control_primary_epoch")).isEqualTo(1);
        assertThat(after.value("mailstream_tier_role", "tier", "dc2", "role", "replica"))
                .isEqualTo(1);
        assertThat(after.value("mailstream_tier_role", "tier", "dc2", "role", "source"))
                .isZero();
        assertThat(after.value("mailstream_sink_sessions", "tier", "dc2"))
                .as("csync sessions to the replica")
                .isPositive();
        assertThat(after.sum("mailstream_dlq_letters")).as("dead letters").isZero();
        assertThat(after.sum("mailstream_jvm_memory_used_bytes", "area", "heap"))
                .as("heap in use")
                .isPositive();
        assertThat(after.samples)
                .as("every metric is named mailstream_*")
                .allSatisfy(sample -> assertThat(sample.name()).startsWith("mailstream_"));
    }

    @Test
    @Order(2)
    void theStatusPageShowsBothTiersAndItsLagChartMovesInChromium() throws Exception {
        assertThat(CHROMIUM)
                .as("Chromium is required (apt-get install chromium chromium-driver)")
                .isExecutable();
        assertThat(CHROMEDRIVER)
                .as("chromedriver is required (apt-get install chromium-driver)")
                .isExecutable();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1400,1600");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .build();
        WebDriver browser = new ChromeDriver(service, options);
        try {
            browser.get(pageUrl);
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
            wait.until(b -> !b.findElements(By.cssSelector("#tiers tr[data-tier='dc2']"))
                            .isEmpty()
                    && !b.findElements(By.cssSelector("#tiers tr[data-tier='oob']"))
                            .isEmpty());
            assertThat(browser.findElement(By.cssSelector("#tiers tr[data-tier='dc2'] td.role"))
                            .getText())
                    .isEqualTo("replica");
            assertThat(browser.findElements(By.id("topology-tier-dc2"))).hasSize(1);
            assertThat(browser.findElements(By.id("topology-tier-oob"))).hasSize(1);

            WebElement chart = browser.findElement(By.id("lag-chart"));
            long firstPoint = Long.parseLong(chart.getAttribute("data-last-time"));
            int points = Integer.parseInt(chart.getAttribute("data-points"));
            deliver(6);
            // The chart is redrawn from each new reading: more points, a later last point, a line per tier.
            wait.until(b -> Integer.parseInt(b.findElement(By.id("lag-chart")).getAttribute("data-points"))
                            >= points + 3
                    && Long.parseLong(b.findElement(By.id("lag-chart")).getAttribute("data-last-time")) > firstPoint);
            assertThat(browser.findElements(By.cssSelector("#lag-chart polyline[data-tier='dc2']")))
                    .hasSize(1);
            assertThat(browser.findElements(By.cssSelector("#lag-chart polyline[data-tier='oob']")))
                    .hasSize(1);
            // The new deliveries show among the recent changes, and both tiers catch up with them.
            wait.withTimeout(Duration.ofMinutes(3))
                    .until(b ->
                            b.findElements(By.cssSelector("#changes tbody tr")).size() > 0
                                    && b.findElement(By.cssSelector("#tiers tr[data-tier='dc2'] td.events-behind"))
                                            .getText()
                                            .equals("0")
                                    && b.findElement(By.cssSelector("#tiers tr[data-tier='oob'] td.events-behind"))
                                            .getText()
                                            .equals("0"));
            assertThat(browser.findElement(By.id("dead-letters-total")).getText())
                    .isEqualTo("0");
            File shot = ((ChromeDriver) browser).getScreenshotAs(OutputType.FILE);
            Path target = Files.createDirectories(Path.of("target")).resolve("status-page.png");
            Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
            assertThat(Files.size(target)).isPositive();
        } finally {
            browser.quit();
        }
    }

    @Test
    @Order(3)
    void theDashboardShowsTheSameClusterFromItsBootstrapServersAlone() throws Exception {
        String bootstrap = find(Pattern.compile("embedded Kafka broker at (\\S+)"));
        Cli dashboard = new Cli(Map.of());
        CompletableFuture<Integer> stopped = dashboard.startUntilRunning(
                "dashboard", "--bootstrap-servers", bootstrap, "--listen", PipelineLab.ANY_PORT);
        try {
            assertThat(dashboard.out()).contains("tiers from the cluster's feed topics: dc2, oob");
            Matcher m = PAGE.matcher(dashboard.out());
            assertThat(m.find()).as(dashboard.out()).isTrue();
            HttpClient http = HttpClient.newHttpClient();
            await().atMost(Duration.ofMinutes(1))
                    .pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        JsonNode status = new ObjectMapper()
                                .readTree(http.send(
                                                HttpRequest.newBuilder(URI.create(m.group(1) + "api/status"))
                                                        .build(),
                                                HttpResponse.BodyHandlers.ofString())
                                        .body());
                        assertThat(status.get("error").isNull())
                                .as("error: %s", status.get("error"))
                                .isTrue();
                        assertThat(status.get("tiers").findValuesAsText("tier")).containsExactly("dc2", "oob");
                        assertThat(status.get("primary").get("epoch").asLong()).isEqualTo(1);
                        assertThat(status.get("recentChanges").size()).isPositive();
                    });
        } finally {
            dashboard.stop.stop();
            assertThat(stopped.get(60, TimeUnit.SECONDS)).as(dashboard.err()).isZero();
        }
    }

    private static void deliver(int count) {
        try (LmtpClient lmtp = primary.endpoint().lmtp()) {
            for (int i = delivered; i < delivered + count; i++) {
                String to = USERS.get(i % USERS.size());
                lmtp.deliver(
                        "sender" + i + "@example.org",
                        List.of(to),
                        mail.message(
                                i,
                                2_000 + i * 97,
                                "sender" + i + "@example.org",
                                to + "@mailstream.test",
                                "message " + i));
            }
        }
        delivered += count;
    }

    private static double delta(PrometheusText after, String name, String... labels) {
        return after.sum(name, labels) - before.sum(name, labels);
    }

    /** Records a read_committed consumer sees in {@code topic}, as the sinks and streams read it. */
    private static long committedRecords(String topic) {
        String bootstrap = find(Pattern.compile("embedded Kafka broker at (\\S+)"));
        long[] n = {0};
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerProps(bootstrap, null),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicReader.readToEnd(consumer, topic, Duration.ofSeconds(60), r -> n[0]++);
        }
        return n[0];
    }
}
