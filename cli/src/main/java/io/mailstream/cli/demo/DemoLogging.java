package io.mailstream.cli.demo;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;

/**
 * Keeps the demo's console readable: Kafka's, Kafka Streams' and every other library's INFO and
 * WARN lines (and mailstream's own INFO lines) go to a log file; the console keeps what the demo
 * prints, the live table, and mailstream's warnings and errors.
 */
public final class DemoLogging implements AutoCloseable {
    static final String LOG_FILE_PROPERTY = "mailstream.demo.log";
    private static final String DEMO_CONFIG = "/io/mailstream/cli/demo/log4j2-demo.xml";
    /** mailstream's usual configuration (core's log4j2.xml). */
    private static final String DEFAULT_CONFIG = "/log4j2.xml";

    private final LoggerContext context;

    private DemoLogging(LoggerContext context) {
        this.context = context;
    }

    /** Sends the process's logging to {@code file} until closed. */
    public static DemoLogging toFile(Path file) {
        System.setProperty(LOG_FILE_PROPERTY, file.toAbsolutePath().toString());
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.setConfigLocation(uri(DEMO_CONFIG));
        return new DemoLogging(context);
    }

    /** Back to mailstream's usual logging. */
    @Override
    public void close() {
        URL usual = DemoLogging.class.getResource(DEFAULT_CONFIG);
        if (usual != null) context.setConfigLocation(uri(DEFAULT_CONFIG));
        System.clearProperty(LOG_FILE_PROPERTY);
    }

    private static URI uri(String resource) {
        try {
            return DemoLogging.class.getResource(resource).toURI();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("bad resource URI " + resource, e);
        }
    }
}
