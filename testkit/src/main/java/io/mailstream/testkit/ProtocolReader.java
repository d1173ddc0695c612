package io.mailstream.testkit;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads CRLF lines of IMAP-family protocols (IMAP, ManageSieve, csync-over-IMAP), inlining literals. */
final class ProtocolReader {
    /** {@code {N}} / {@code {N+}} (IMAP, ManageSieve) or csync's file literal {@code %{partition guid N}}. */
    private static final Pattern LITERAL = Pattern.compile("(?:\\{(\\d+)\\+?\\}|%\\{\\S+ \\S+ (\\d+)\\})$");

    private final InputStream in;

    ProtocolReader(InputStream in) {
        // byte-at-a-time line reading: unbuffered it would be one syscall per byte
        this.in = new java.io.BufferedInputStream(in, 64 * 1024);
    }

    /** One physical line without its CRLF. */
    byte[] readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        int prev = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed; partial line: "
                        + line.toString(java.nio.charset.StandardCharsets.ISO_8859_1));
            }
            if (b == '\n' && prev == '\r') {
                byte[] bytes = line.toByteArray();
                return java.util.Arrays.copyOf(bytes, bytes.length - 1);
            }
            line.write(b);
            prev = b;
        }
    }

    /**
     * One logical response line: while a physical line ends with a literal marker, the marker, CRLF,
     * the literal bytes and the rest of the line are appended, exactly as they were on the wire.
     */
    byte[] readResponseLine() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        while (true) {
            byte[] line = readLine();
            out.write(line);
            Matcher m = LITERAL.matcher(new String(line, java.nio.charset.StandardCharsets.ISO_8859_1));
            if (!m.find()) {
                return out.toByteArray();
            }
            int size = Integer.parseInt(m.group(1) != null ? m.group(1) : m.group(2));
            out.write('\r');
            out.write('\n');
            out.write(in.readNBytes(size));
            if (out.size() < size) {
                throw new EOFException("connection closed inside a literal");
            }
        }
    }
}
