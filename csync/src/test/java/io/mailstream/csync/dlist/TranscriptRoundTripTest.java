package io.mailstream.csync.dlist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncReply;
import io.mailstream.csync.testing.Transcripts;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every real transcript parses completely, and every dlist line re-serialises to the exact bytes
 * Cyrus sent (client stream in client mode, server stream in server mode), both straight from the
 * dlist tree and through the typed model.
 */
class TranscriptRoundTripTest {

    @TestFactory
    Stream<DynamicTest> everyTranscriptRoundTrips() {
        List<Path> streams = Transcripts.allStreams();
        return streams.stream()
                .map(p -> DynamicTest.dynamicTest(p.getParent().getFileName() + "/" + p.getFileName(), () -> {
                    byte[] bytes = Transcripts.read(p);
                    boolean client = p.toString().endsWith(".c2s");
                    List<Transcripts.Line> lines =
                            client ? Transcripts.parseClientStream(bytes) : Transcripts.parseServerStream(bytes);
                    assertThat(lines).isNotEmpty();
                    int total = 0;
                    int dlistLines = 0;
                    for (Transcripts.Line line : lines) {
                        total += line.raw().length;
                        if (!line.isDlist()) {
                            continue;
                        }
                        dlistLines++;
                        DListWriter.Mode mode = client ? DListWriter.Mode.CLIENT : DListWriter.Mode.SERVER;
                        assertThat(serialise(line.verb(), line.keyed(), mode))
                                .as(line.rawText())
                                .isEqualTo(line.raw());
                        DKeyed typed = client
                                ? CsyncCommand.decode(line.verb(), line.keyed()).toDKeyed()
                                : CsyncReply.decode(line.keyed()).toDKeyed();
                        assertThat(typed)
                                .as("typed round trip of %s", line.rawText())
                                .isEqualTo(line.keyed());
                        assertThat(serialise(line.verb(), typed, mode)).isEqualTo(line.raw());
                    }
                    assertThat(total).as("all bytes consumed").isEqualTo(bytes.length);
                    if (!p.getFileName().toString().matches("conn00[47]\\.c2s")) {
                        assertThat(dlistLines).isPositive();
                    }
                }));
    }

    static byte[] serialise(String verb, DKeyed keyed, DListWriter.Mode mode) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DListWriter w = new DListWriter(out, mode);
        w.writeRaw(verb + " ");
        w.writeKeyed(keyed);
        w.writeCrlf();
        return out.toByteArray();
    }
}
