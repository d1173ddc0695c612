package io.mailstream.producers.capture;

import io.mailstream.core.config.ConfigKeys;
import io.mailstream.core.config.MailstreamConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.Map;

/** Capture alone in a JVM, so a test can SIGKILL it: no close, no snapshot. Argument: the config file. Prints READY. */
public final class CaptureChild {
    public static void main(String[] args) throws Exception {
        MailstreamConfig config = MailstreamConfig.load(Path.of(args[0]), true, Map.of());
        Capture.start(config, config.get(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS), new SimpleMeterRegistry(), e -> {});
        System.out.println("READY");
        Thread.currentThread().join(); // until killed
    }
}
