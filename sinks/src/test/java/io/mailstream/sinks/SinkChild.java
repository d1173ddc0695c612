package io.mailstream.sinks;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import java.nio.file.Path;
import java.util.Map;

/** One tier's sink alone in a JVM, so a test can SIGKILL it. Arguments: the config file, the tier. Prints READY. SIGKILL stops it dead, SIGTERM cleanly. */
public final class SinkChild {
    public static void main(String[] args) throws Exception {
        MailstreamConfig config = MailstreamConfig.load(Path.of(args[0]), true, Map.of());
        SinkHandle sink = Sinks.start(config, config.get(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS), args[1]);
        Runtime.getRuntime().addShutdownHook(new Thread(sink::close)); // SIGTERM: a clean stop, leaving the group
        System.out.println("READY");
        Thread.currentThread().join(); // until killed
    }
}
