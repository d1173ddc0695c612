package io.mailstream.csync.dlist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What one line may hold: values, literals and file literals in count and bytes; every limit is fatal. */
class DListLimitsTest {
    @TempDir
    Path spool;

    private static DListReader reader(String text, DListLimits limits) {
        DListReader r = new DListReader(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)), limits);
        r.beginLine();
        return r;
    }

    private static String body(int i, int size) {
        return "%{default " + String.format("%040x", i) + " " + size + "}\r\n" + "x".repeat(size);
    }

    @Test
    void aLineOfTinyValuesIsBoundedByCountNotOnlyByBytes() throws IOException {
        String list = "(" + "1 ".repeat(1000) + ")";
        assertThat(reader(list, DListLimits.SERVER.withMaxValues(1001))
                        .readValue()
                        .asList()
                        .items())
                .hasSize(1000);
        assertThatThrownBy(() ->
                        reader(list, DListLimits.SERVER.withMaxValues(1000)).readValue())
                .isInstanceOfSatisfying(
                        DListException.class, e -> assertThat(e.isFatal()).isTrue())
                .hasMessageContaining("more than 1000 values");
        // keys of a kvlist count too
        assertThatThrownBy(() -> reader("%(" + "K 1 ".repeat(600) + ")", DListLimits.SERVER.withMaxValues(1000))
                        .readValue())
                .hasMessageContaining("values");
    }

    @Test
    void literalsAreBoundedInCountAndTogetherInBytes() throws IOException {
        String three = "({3+}\r\nabc {3+}\r\ndef {3+}\r\nghi)";
        assertThat(reader(three, DListLimits.SERVER.withMaxLiterals(3))
                        .readValue()
                        .asList()
                        .items())
                .hasSize(3);
        assertThatThrownBy(() ->
                        reader(three, DListLimits.SERVER.withMaxLiterals(2)).readValue())
                .hasMessageContaining("more than 2 literals");
        // each literal is below maxLiteral, but together they pass the line: refused before the bytes are held
        String big = "({600}\r\n" + "a".repeat(600) + " {600}\r\n" + "b".repeat(600) + ")";
        assertThatThrownBy(
                        () -> reader(big, DListLimits.SERVER.withMaxLine(1000)).readValue())
                .hasMessageContaining("would make the line longer than 1000 bytes");
    }

    @Test
    void fileLiteralsAreBoundedInCountAndTotalBytes() throws IOException {
        String two = "(" + body(1, 100) + " " + body(2, 100) + ")";
        assertThat(reader(two, DListLimits.SERVER.withFileLiterals(2, 200))
                        .readValue()
                        .asList()
                        .items())
                .hasSize(2);
        assertThatThrownBy(() -> reader(two, DListLimits.SERVER.withFileLiterals(1, 1000))
                        .readValue())
                .hasMessageContaining("more than 1 file literals");
        assertThatThrownBy(() -> reader(two, DListLimits.SERVER.withFileLiterals(10, 199))
                        .readValue())
                .hasMessageContaining("add up to more than 199 bytes");
    }

    @Test
    void smallBodiesBeyondTheHeapBudgetGoToTheSpool() throws IOException {
        DListLimits limits =
                new DListLimits(1024, 1024, 1024, 1 << 20, 1 << 20, 8, 1000, spool, 1000, 100, 100, 1 << 20, 250);
        DListReader r = reader("(" + body(1, 100) + " " + body(2, 100) + " " + body(3, 100) + ")", limits);
        var files = r.readValue().asList().items();
        assertThat(files).hasSize(3);
        try (Stream<Path> spooled = Files.list(spool)) {
            assertThat(spooled.count())
                    .as("bodies past 250 heap bytes in the line")
                    .isEqualTo(1);
        }
        r.releaseSpooled();
        try (Stream<Path> spooled = Files.list(spool)) {
            assertThat(spooled.count()).isZero();
        }
    }

    @Test
    void skippingALineIsBoundedToo() throws IOException {
        DListReader ok = reader("FROB {5}\r\nabcde\r\nNOOP\r\n", DListLimits.SERVER);
        ok.skipLine();
        ok.beginLine();
        assertThat(ok.readWord()).isEqualTo("NOOP");
        assertThatThrownBy(
                        () -> reader("FROB {999999999}\r\n", DListLimits.SERVER).skipLine())
                .hasMessageContaining("literal of 999999999 bytes exceeds");
        assertThatThrownBy(() -> reader("FROB " + "y".repeat(2000) + "\r\n", DListLimits.SERVER.withMaxLine(1000))
                        .skipLine())
                .hasMessageContaining("line longer than 1000 bytes");
    }
}
