package io.mailstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.cli.web.StatusPage;
import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.MailstreamConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What http.listen and metrics.listen mean, without a cluster behind them (nothing listens at the bootstrap address). */
class StatusPageServerTest {
    private static final String NO_KAFKA = "127.0.0.1:1";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static MailstreamConfig config(String http, String metrics) {
        return MailstreamConfig.of(Map.of(
                "http.listen",
                http,
                "metrics.listen",
                metrics,
                "status.refresh.seconds",
                "600",
                "tiers",
                "oob",
                "tier.oob.type",
                "store"));
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void onePageServerServesThePageItsFilesItsJsonAndMetricsFromTheJar() throws Exception {
        try (StatusPage page =
                StatusPage.start(config("127.0.0.1:0", ""), NO_KAFKA, Set.of("oob"), new SimpleMeterRegistry())) {
            String base = page.pageUrl().orElseThrow();
            assertThat(page.metricsUrl()).contains(base + "metrics");
            HttpResponse<String> index = get(base);
            assertThat(index.statusCode()).isEqualTo(200);
            assertThat(index.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(index.body())
                    .contains("<script src=\"/page/status.js\">")
                    .doesNotContain("https://");
            assertThat(get(base + "page/status.js").body()).contains("/api/status");
            assertThat(get(base + "page/status.css").statusCode()).isEqualTo(200);
            assertThat(get(base + "page/..%2Fweb%2FStatusPage.class").statusCode())
                    .isEqualTo(404);
            assertThat(get(base + "page/missing.js").statusCode()).isEqualTo(404);
            HttpResponse<String> status = get(base + "api/status");
            assertThat(status.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
            // No reading has succeeded: the page says so instead of showing stale or empty numbers as fact.
            assertThat(status.body()).contains("\"error\":\"").contains("\"refreshSeconds\":600");
            assertThat(get(page.metricsUrl().orElseThrow()).body()).contains("mailstream_jvm_memory_used_bytes");
        }
    }

    @Test
    void metricsListenOnAnotherAddressGetsAServerOfItsOwn() throws Exception {
        try (StatusPage page = StatusPage.start(
                config("127.0.0.1:0", "127.0.0.1:0"), NO_KAFKA, Set.of("oob"), new SimpleMeterRegistry())) {
            // "127.0.0.1:0" twice is the same address: one server.
            assertThat(page.metricsUrl()).contains(page.pageUrl().orElseThrow() + "metrics");
        }
        int free = PipelineLab.freePort();
        try (StatusPage page = StatusPage.start(
                config("127.0.0.1:0", "127.0.0.1:" + free), NO_KAFKA, Set.of("oob"), new SimpleMeterRegistry())) {
            assertThat(page.metricsUrl()).contains("http://127.0.0.1:" + free + "/metrics");
            assertThat(get(page.metricsUrl().orElseThrow()).statusCode()).isEqualTo(200);
            assertThat(get(page.pageUrl().orElseThrow() + "metrics").statusCode())
                    .as("/metrics only where metrics.listen says")
                    .isEqualTo(404);
        }
        try (StatusPage page = StatusPage.start(config("", ""), NO_KAFKA, Set.of("oob"), new SimpleMeterRegistry())) {
            assertThat(page.pageUrl()).isEmpty();
            assertThat(page.metricsUrl()).isEmpty();
        }
    }

    @Test
    void aBusyOrMalformedAddressIsAConfigurationErrorNamingTheKey() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String busy = "127.0.0.1:" + taken.getLocalPort();
            assertThatThrownBy(() ->
                            StatusPage.start(config(busy, ""), NO_KAFKA, Set.of("oob"), new SimpleMeterRegistry()))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("http.listen: cannot listen on " + busy);
            assertThatThrownBy(() -> StatusPage.start(
                            config("127.0.0.1:0", busy), NO_KAFKA, Set.of("oob"), new SimpleMeterRegistry()))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("metrics.listen: cannot listen on " + busy);
        }
        assertThatThrownBy(
                        () -> StatusPage.start(config("9025", ""), NO_KAFKA, Set.of("oob"), new SimpleMeterRegistry()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("http.listen: expected host:port (e.g. 127.0.0.1:9025), got '9025'");
    }
}
