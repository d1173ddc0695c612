package io.mailstream.cli.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The demo's folder: Cyrus instances, broker log and store of one run. A run starts from scratch
 * (new Cyrus servers mean new mailbox unique ids, which an old broker log would contradict), so an
 * earlier demo folder is wiped; any other non-empty folder is refused rather than deleted.
 */
public final class DemoFolder {
    private static final String MARKER = ".mailstream-demo";
    /** Cyrus's unix sockets live under DIR/primary/...; sun_path holds 108 bytes. */
    private static final int MAX_LENGTH = 60;

    private DemoFolder() {}

    /** Wipes an earlier demo run in {@code home} and makes it ready; returns why it cannot be used, or null. */
    public static String prepare(Path home, Path scripts) throws IOException {
        if (home.startsWith("/root")) {
            return home + ": Cyrus runs as the cyrus user, which cannot reach /root; choose a --dir elsewhere";
        }
        if (home.toString().length() > MAX_LENGTH) {
            return home + ": too long for Cyrus's unix sockets (at most " + MAX_LENGTH
                    + " characters); choose a shorter --dir";
        }
        if (Files.isDirectory(home)) {
            boolean empty;
            try (Stream<Path> entries = Files.list(home)) {
                empty = entries.findAny().isEmpty();
            }
            if (!empty && !Files.exists(home.resolve(MARKER))) {
                return home + " exists and is not a demo folder; choose another --dir";
            }
            for (String instance : new String[] {"primary", "dc2"})
                DemoCyrus.stopLeftovers(scripts, home.resolve(instance));
            deleteTree(home);
        }
        Files.createDirectories(home);
        Files.writeString(home.resolve(MARKER), "made by 'mailstream demo'; wiped by its next run\n");
        return null;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
