package io.mailstream.csync.testing;

import io.mailstream.csync.dlist.DKeyed;
import io.mailstream.csync.dlist.DListLimits;
import io.mailstream.csync.dlist.DListReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The real Cyrus 3.6.1 csync transcripts in the shared reference folder, parsed into lines. The
 * folder comes from MAILSTREAM_SHARED (set by surefire) or ../../shared relative to the module;
 * if neither exists the calling test fails rather than silently skipping.
 */
public final class Transcripts {
    private Transcripts() {}

    /** One command line of a .c2s stream, or one line of a .s2c stream. */
    public record Line(String verb, DKeyed keyed, String text, byte[] raw) {
        public boolean isDlist() {
            return keyed != null;
        }

        public String rawText() {
            return new String(raw, StandardCharsets.ISO_8859_1);
        }
    }

    public static Path csyncDir() {
        return sharedDir().resolve("reference/cyrus-lab/transcripts/csync");
    }

    public static Path sharedDir() {
        String env = System.getenv("MAILSTREAM_SHARED");
        List<Path> candidates = new ArrayList<>();
        if (env != null && !env.isBlank()) {
            candidates.add(Path.of(env));
        }
        candidates.add(Path.of("../../shared"));
        candidates.add(Path.of("../shared"));
        for (Path p : candidates) {
            if (Files.isDirectory(p.resolve("reference/cyrus-lab/transcripts/csync"))) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException(
                "shared reference folder not found (tried " + candidates + "); set MAILSTREAM_SHARED");
    }

    /** Every decoded .c2s/.s2c stream of csync/ and csync-plain/ (not the compressed .wire ones). */
    public static List<Path> allStreams() {
        Path base = sharedDir().resolve("reference/cyrus-lab/transcripts");
        try (Stream<Path> files =
                Stream.concat(Files.list(base.resolve("csync")), Files.list(base.resolve("csync-plain")))) {
            List<Path> out = files.filter(p -> {
                        String n = p.getFileName().toString();
                        return (n.endsWith(".c2s") || n.endsWith(".s2c")) && !n.contains(".wire.");
                    })
                    .sorted()
                    .toList();
            if (out.size() < 16) {
                throw new IllegalStateException("expected 16 transcript streams, found " + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Client stream: APPLY/GET lines as dlist, everything else (AUTHENTICATE, EXIT...) as text. */
    public static List<Line> parseClientStream(byte[] bytes) throws IOException {
        DListReader r = new DListReader(new ByteArrayInputStream(bytes), DListLimits.DEFAULTS);
        List<Line> out = new ArrayList<>();
        while (!r.atEof()) {
            long start = r.position();
            r.beginLine();
            String verb = r.readWord();
            if (verb.equals("APPLY") || verb.equals("GET")) {
                r.skipBlanks();
                DKeyed keyed = r.readKeyed();
                r.readEndOfLine();
                out.add(new Line(verb, keyed, null, Arrays.copyOfRange(bytes, (int) start, (int) r.position())));
            } else {
                String rest = r.readLine();
                out.add(new Line(verb, null, rest, Arrays.copyOfRange(bytes, (int) start, (int) r.position())));
            }
        }
        return out;
    }

    /** Server stream: banner text up to {@code * OK}, then {@code *} dlist lines and completion lines. */
    public static List<Line> parseServerStream(byte[] bytes) throws IOException {
        DListReader r = new DListReader(new ByteArrayInputStream(bytes), DListLimits.DEFAULTS);
        List<Line> out = new ArrayList<>();
        boolean inBanner = true;
        while (!r.atEof()) {
            long start = r.position();
            r.beginLine();
            String word = r.readWord();
            if (word.equals("*") && !inBanner) {
                r.skipBlanks();
                DKeyed keyed = r.readKeyed();
                r.readEndOfLine();
                out.add(new Line(word, keyed, null, Arrays.copyOfRange(bytes, (int) start, (int) r.position())));
            } else {
                String rest = r.readLine();
                if (word.equals("*") && rest.startsWith(" OK ")) {
                    inBanner = false;
                }
                out.add(new Line(word, null, rest, Arrays.copyOfRange(bytes, (int) start, (int) r.position())));
            }
        }
        return out;
    }
}
