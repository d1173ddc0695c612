package io.mailstream.cli.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mailstream.core.config.ConfigException;
import io.mailstream.core.config.ConfigKey;
import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.mailstream.core.metrics.MailstreamMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of a long-running mailstream process: the status page ({@code /}, its files under
 * {@code /page/}, and {@code /api/status} behind it) on {@code http.listen}, and the Prometheus
 * endpoint {@code /metrics} on {@code metrics.listen} (on the same server when that key is empty
 * or names the same address). Everything the page needs is served from the jar.
 */
public final class StatusPage implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StatusPage.class);
    private static final String PAGE_RESOURCES = "/io/mailstream/cli/web/page/";
    private static final Pattern PAGE_FILE = Pattern.compile("[a-z][a-z0-9-]*\\.(html|js|css|svg)");
    private static final Map<String, String> TYPES = Map.of(
            "html",
            "text/html; charset=utf-8",
            "js",
            "text/javascript; charset=utf-8",
            "css",
            "text/css; charset=utf-8",
            "svg",
            "image/svg+xml");

    private final StatusSampler sampler;
    private final List<HttpServer> servers = new ArrayList<>();
    private final ExecutorService handlers;
    private final ObjectMapper json = new ObjectMapper();
    private String pageUrl;
    private String metricsUrl;

    private StatusPage(StatusSampler sampler) {
        this.sampler = sampler;
        this.handlers = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "status-page-http");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts the servers the configuration asks for and the sampler behind them; with both keys
     * empty, nothing. {@code typedTiers}: see {@link StatusSampler}.
     */
    public static StatusPage start(
            MailstreamConfig config, String bootstrapServers, Set<String> typedTiers, MeterRegistry metrics) {
        String page = config.get(ConfigKeys.HTTP_LISTEN).trim();
        String metricsAt = config.get(ConfigKeys.METRICS_LISTEN).trim();
        boolean shared = metricsAt.isEmpty() || metricsAt.equals(page);
        InetSocketAddress pageAddress = page.isEmpty() ? null : address(ConfigKeys.HTTP_LISTEN, page);
        InetSocketAddress metricsAddress = shared ? null : address(ConfigKeys.METRICS_LISTEN, metricsAt);
        StatusPage started = new StatusPage(new StatusSampler(config, bootstrapServers, typedTiers, metrics));
        try {
            if (pageAddress != null) {
                HttpServer server = started.listen(ConfigKeys.HTTP_LISTEN, pageAddress);
                server.createContext("/", started::page);
                server.createContext("/api/status", started::status);
                if (shared) server.createContext("/metrics", StatusPage::metrics);
                started.pageUrl = url(server);
                if (shared) started.metricsUrl = url(server) + "metrics";
            }
            if (metricsAddress != null) {
                HttpServer server = started.listen(ConfigKeys.METRICS_LISTEN, metricsAddress);
                server.createContext("/metrics", StatusPage::metrics);
                started.metricsUrl = url(server) + "metrics";
            }
            if (!started.servers.isEmpty()) started.sampler.start();
            return started;
        } catch (RuntimeException e) {
            started.close();
            throw e;
        }
    }

    /** Where the status page is, e.g. {@code http://127.0.0.1:9025/}; empty when {@code http.listen} is empty. */
    public Optional<String> pageUrl() {
        return Optional.ofNullable(pageUrl);
    }

    /** Where Prometheus scrapes, e.g. {@code http://127.0.0.1:9025/metrics}; empty when neither key names an address. */
    public Optional<String> metricsUrl() {
        return Optional.ofNullable(metricsUrl);
    }

    private HttpServer listen(ConfigKey<String> key, InetSocketAddress address) {
        try {
            HttpServer server = HttpServer.create(address, 16);
            server.setExecutor(handlers);
            server.start();
            servers.add(server);
            return server;
        } catch (BindException e) {
            throw new ConfigException(key.name() + ": cannot listen on " + address.getHostString() + ":"
                    + address.getPort()
                    + " (" + e.getMessage() + "): another process has it; choose a free port (0 picks one) or leave "
                    + key.name() + " empty");
        } catch (IOException e) {
            throw new ConfigException(key.name() + ": cannot listen on " + address.getHostString() + ":"
                    + address.getPort() + ": " + e.getMessage());
        }
    }

    private static String url(HttpServer server) {
        InetSocketAddress a = server.getAddress();
        String host = a.getHostString().contains(":") ? "[" + a.getHostString() + "]" : a.getHostString();
        return "http://" + host + ":" + a.getPort() + "/";
    }

    static InetSocketAddress address(ConfigKey<String> key, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw new ConfigException(key.name() + ": expected host:port (e.g. 127.0.0.1:9025), got '" + value + "'");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(key.name() + ": '" + value + "' has no valid port");
        }
        if (port < 0 || port > 65535)
            throw new ConfigException(key.name() + ": port " + port + " is out of range in '" + value + "'");
        return new InetSocketAddress(host, port);
    }

    private void page(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String file = path.equals("/")
                    ? "index.html"
                    : path.startsWith("/page/") ? path.substring("/page/".length()) : null;
            if (!"GET".equals(exchange.getRequestMethod())
                    || file == null
                    || !PAGE_FILE.matcher(file).matches()) {
                send(exchange, 404, "text/plain; charset=utf-8", "not found: " + path + "\n");
                return;
            }
            try (InputStream in = StatusPage.class.getResourceAsStream(PAGE_RESOURCES + file)) {
                if (in == null) {
                    send(exchange, 404, "text/plain; charset=utf-8", "not found: " + path + "\n");
                    return;
                }
                send(exchange, 200, TYPES.get(file.substring(file.lastIndexOf('.') + 1)), in.readAllBytes());
            }
        }
    }

    private void status(HttpExchange exchange) throws IOException {
        try (exchange) {
            send(exchange, 200, "application/json; charset=utf-8", json.writeValueAsBytes(statusJson()));
        } catch (RuntimeException e) {
            LOG.warn("status page: /api/status failed", e);
            throw e;
        }
    }

    /** What {@code /api/status} answers: the latest reading and the last hour of lag. */
    ObjectNode statusJson() throws IOException {
        StatusSampler.Snapshot s = sampler.latest();
        ObjectNode root = json.createObjectNode();
        root.put("time", s.time());
        root.put("site", s.site());
        root.put("refreshSeconds", sampler.interval().toSeconds());
        root.set("primary", json.valueToTree(s.primary()));
        root.set("tiers", json.valueToTree(s.tiers()));
        root.set("history", json.valueToTree(sampler.history()));
        ObjectNode dead = root.putObject("deadLetters");
        dead.set("byReason", json.valueToTree(s.deadLettersByReason()));
        dead.put(
                "total",
                s.deadLettersByReason().values().stream()
                        .mapToLong(Long::longValue)
                        .sum());
        dead.set("recent", json.valueToTree(s.recentDeadLetters()));
        ArrayNode changes = root.putArray("recentChanges");
        for (String change : s.recentChanges()) changes.add(json.readTree(change));
        if (s.error() != null) root.put("error", s.error());
        else root.putNull("error");
        return root;
    }

    private static void metrics(HttpExchange exchange) throws IOException {
        try (exchange) {
            send(exchange, 200, MailstreamMetrics.CONTENT_TYPE, MailstreamMetrics.scrape());
        }
    }

    private static void send(HttpExchange exchange, int code, String type, String body) throws IOException {
        send(exchange, code, type, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange exchange, int code, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        for (HttpServer server : servers) server.stop(0);
        handlers.shutdownNow();
        try {
            sampler.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
