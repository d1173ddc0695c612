package io.mailstream.csync.dlist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailstream.csync.testing.Transcripts;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DListCodecTest {

    /** A value followed by a line end (an atom is only complete once its terminator arrives). */
    private static DValue parse(String s) throws IOException {
        return parse((s + "\r\n").getBytes(StandardCharsets.ISO_8859_1), DListLimits.DEFAULTS);
    }

    private static DValue parse(byte[] b, DListLimits limits) throws IOException {
        return new DListReader(new ByteArrayInputStream(b), limits).readValue();
    }

    private static String emit(DValue v, DListWriter.Mode mode) {
        return new String(DListWriter.toBytes(v, mode), StandardCharsets.ISO_8859_1);
    }

    @Test
    void emitsAtomsQuotedStringsAndLiteralsLikeCyrus() {
        assertThat(emit(DAtom.of("user.alice.#sieve"), DListWriter.Mode.CLIENT)).isEqualTo("user.alice.#sieve");
        assertThat(emit(DAtom.of(""), DListWriter.Mode.CLIENT)).isEqualTo("\"\"");
        assertThat(emit(DAtom.of("NIL"), DListWriter.Mode.CLIENT)).isEqualTo("\"NIL\"");
        assertThat(emit(DAtom.of("alice\tlrs\t"), DListWriter.Mode.CLIENT)).isEqualTo("\"alice\tlrs\t\"");
        assertThat(emit(DAtom.of("50%"), DListWriter.Mode.CLIENT)).isEqualTo("{3+}\r\n50%");
        assertThat(emit(DAtom.of("a\"b"), DListWriter.Mode.SERVER)).isEqualTo("{3}\r\na\"b");
        assertThat(emit(DAtom.of("caf\u00e9"), DListWriter.Mode.SERVER)).isEqualTo("{5}\r\ncaf\u00c3\u00a9");
        assertThat(emit(DAtom.of(new byte[] {'a', 0, 'b'}), DListWriter.Mode.CLIENT))
                .isEqualTo("{3+}\r\na\0b");
        assertThat(emit(DAtom.of("x".repeat(1024)), DListWriter.Mode.CLIENT)).startsWith("{1024+}\r\n");
        assertThat(emit(DAtom.flag("\\Seen"), DListWriter.Mode.CLIENT)).isEqualTo("\\Seen");
        assertThat(emit(DNil.NIL, DListWriter.Mode.CLIENT)).isEqualTo("NIL");
        assertThat(emit(DList.of(), DListWriter.Mode.CLIENT)).isEqualTo("()");
        assertThat(emit(DKvList.empty(), DListWriter.Mode.CLIENT)).isEqualTo("%()");
    }

    @Test
    void parsesEscapesLiteralsNilAndWhitespaceAcrossLines() throws IOException {
        assertThat(parse("\"a\\\"b\\\\c\"")).isEqualTo(DAtom.of("a\"b\\c"));
        assertThat(parse("{3}\r\na\0b")).isEqualTo(DAtom.of(new byte[] {'a', 0, 'b'}));
        assertThat(parse("{2+}\na)")).isEqualTo(DAtom.of("a)"));
        assertThat(parse("NIL")).isSameAs(DNil.NIL);
        assertThat(parse("\"NIL\"")).isEqualTo(DAtom.of("NIL"));
        assertThat(parse("(a\r\n  b\t( ) )")).isEqualTo(DList.of(DAtom.of("a"), DAtom.of("b"), DList.of()));
        DKvList kv = parse("%(B 1 A \"x y\" Z (1 2))").asKvList();
        assertThat(kv.entries()).extracting(DKvList.Entry::key).containsExactly("B", "A", "Z");
    }

    @Test
    void typedAccessorsFailCleanly() throws IOException {
        assertThat(parse("4294967295").asNum32()).isEqualTo(4294967295L);
        assertThat(parse("18446744073709551615").asNum64()).isEqualTo(-1L);
        assertThat(parse("000000000000002a").asHex()).isEqualTo(42);
        assertThatThrownBy(() -> parse("4294967296").asNum32()).isInstanceOf(DListTypeException.class);
        assertThatThrownBy(() -> parse("12a").asNum64()).isInstanceOf(DListTypeException.class);
        assertThatThrownBy(() -> parse("abc").asGuidHex()).isInstanceOf(DListTypeException.class);
        assertThatThrownBy(() -> parse("(a)").asKvList()).isInstanceOf(DListTypeException.class);
        assertThatThrownBy(() -> parse("%(A 1)").asKvList().require("B")).isInstanceOf(DListTypeException.class);
    }

    @Test
    void largeFileLiteralsAreSpooledAndSmallOnesStayInMemory(@TempDir Path dir) throws IOException {
        byte[] body = "x".repeat(5000).getBytes(StandardCharsets.US_ASCII);
        String guid = io.mailstream.csync.model.Guid.sha1(body).hex();
        byte[] wire = ("(%{default " + guid + " 5000}\r\n" + "x".repeat(5000) + " %{p " + guid + " 3}\r\nabc)")
                .getBytes(StandardCharsets.US_ASCII);
        DListReader reader = new DListReader(new ByteArrayInputStream(wire), DListLimits.DEFAULTS.withSpool(1000, dir));
        List<DValue> files = reader.readValue().asList().items();
        MessageBody big = files.get(0).asFile().body();
        assertThat(big.isSpooled()).isTrue();
        assertThat(big.sha1Hex()).isEqualTo(guid);
        assertThat(files.get(1).asFile().body().isSpooled()).isFalse();
        assertThat(Files.list(dir)).hasSize(1);
        reader.releaseSpooled();
        assertThat(Files.list(dir)).isEmpty();
    }

    @Test
    void limitsAreProtocolErrorsNotMemoryExhaustion() {
        DListLimits small =
                DListLimits.DEFAULTS.withMaxLiteral(10).withMaxFileLiteral(10).withMaxLine(100);
        assertLimit("{11}\r\n", small);
        assertLimit("%{p g 11}\r\n", small);
        assertLimit("(" + "a ".repeat(60) + ")", small);
        assertLimit("(".repeat(100), DListLimits.DEFAULTS);
        assertLimit("{4294967295}\r\n", DListLimits.DEFAULTS);
    }

    private static void assertLimit(String input, DListLimits limits) {
        assertThatThrownBy(() -> parse(input.getBytes(StandardCharsets.US_ASCII), limits))
                .isInstanceOfSatisfying(
                        DListException.class, e -> assertThat(e.isFatal()).isTrue());
    }

    @Test
    void randomAndMutatedInputOnlyEverRaisesProtocolErrors() throws IOException {
        Random random = new Random(42);
        List<byte[]> seeds = new ArrayList<>();
        for (Path p : Transcripts.allStreams()) {
            if (p.toString().endsWith(".c2s")) {
                Transcripts.parseClientStream(Transcripts.read(p)).forEach(l -> seeds.add(l.raw()));
            }
        }
        DListLimits limits = DListLimits.DEFAULTS
                .withMaxLiteral(4096)
                .withMaxFileLiteral(4096)
                .withMaxLine(1 << 16);
        int parsed = 0;
        for (int i = 0; i < 5000; i++) {
            byte[] input;
            if (i % 2 == 0) {
                input = new byte[random.nextInt(300)];
                random.nextBytes(input);
            } else {
                input = seeds.get(random.nextInt(seeds.size())).clone();
                for (int m = 0; m < 1 + random.nextInt(3); m++) {
                    String specials = "(){}%\" \r\n\\+9";
                    input[random.nextInt(input.length)] = (byte) specials.charAt(random.nextInt(specials.length()));
                }
            }
            DListReader r = new DListReader(new ByteArrayInputStream(input), limits);
            try {
                r.readWord();
                r.skipBlanks();
                r.readKeyed();
                r.readEndOfLine();
                parsed++;
            } catch (DListException | EOFException e) {
                r.skipLine(); // must also terminate on garbage
            }
        }
        assertThat(parsed).isPositive();
    }
}
