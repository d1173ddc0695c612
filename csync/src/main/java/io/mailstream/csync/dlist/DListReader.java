package io.mailstream.csync.dlist;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Streaming reader for the csync wire: words, lines and dlist values (spec 2.2). Accepts both
 * {@code {N}} and {@code {N+}} literals, backslash escapes in quoted strings, bare LF line ends.
 * Not thread-safe: one reader per connection direction.
 */
public final class DListReader {
    private static final Pattern LITERAL_AT_LINE_END =
            Pattern.compile("(?:\\{(\\d{1,10})\\+?\\}|%\\{\\S+ \\S+ (\\d{1,10})\\})\\r?$");

    private final DListLimits limits;
    private InputStream in;
    private final byte[] buf = new byte[16384];
    private int pos;
    private int end;
    private long lineBytes;
    private long lineValues;
    private int lineLiterals;
    private int lineFileLiterals;
    private long lineFileBytes;
    private long lineHeapBodyBytes;
    private long bufferStart;
    private final List<MessageBody> spooledThisLine = new ArrayList<>();

    public DListReader(InputStream in, DListLimits limits) {
        this.in = in;
        this.limits = limits;
    }

    public DListLimits limits() {
        return limits;
    }

    /**
     * Replaces the underlying stream (COMPRESS, TLS). Bytes already buffered are handed to the
     * new stream first, since they arrived after the switch point.
     */
    public void switchInput(UnaryOperator<InputStream> wrap) {
        InputStream base = in;
        if (pos < end) {
            byte[] rest = java.util.Arrays.copyOfRange(buf, pos, end);
            base = new SequenceInputStream(new java.io.ByteArrayInputStream(rest), in);
        }
        bufferStart += pos;
        pos = end = 0;
        in = wrap.apply(base);
    }

    /** Drops buffered bytes (STARTTLS: anything pipelined after the command is discarded). */
    public void discardBuffered() {
        bufferStart += end;
        pos = end = 0;
    }

    /** Starts counting a new line against {@link DListLimits#maxLine()}. */
    public void beginLine() {
        lineBytes = 0;
        lineValues = 0;
        lineLiterals = 0;
        lineFileLiterals = 0;
        lineFileBytes = 0;
        lineHeapBodyBytes = 0;
        spooledThisLine.clear();
    }

    /**
     * Deletes the temp files of bodies spooled since {@link #beginLine()}: a server calls this once
     * a command is handled (or failed to parse), so nothing leaks on disk.
     */
    public void releaseSpooled() {
        for (MessageBody b : spooledThisLine) {
            b.close();
        }
        spooledThisLine.clear();
    }

    public int peek() throws IOException {
        if (pos == end && !fill()) {
            return -1;
        }
        return buf[pos] & 0xff;
    }

    /** Bytes consumed so far from the current input (for tests and diagnostics). */
    public long position() {
        return bufferStart + pos;
    }

    private boolean fill() throws IOException {
        int n = in.read(buf, 0, buf.length);
        if (n <= 0) {
            return false;
        }
        bufferStart += end;
        pos = 0;
        end = n;
        return true;
    }

    private int read() throws IOException {
        int c = peek();
        if (c < 0) {
            throw new EOFException("connection closed mid-line");
        }
        pos++;
        if (++lineBytes > limits.maxLine()) {
            throw DListException.limit("line longer than " + limits.maxLine() + " bytes");
        }
        return c;
    }

    private int peekOrEof() throws IOException {
        int c = peek();
        if (c < 0) {
            throw new EOFException("connection closed mid-line");
        }
        return c;
    }

    static boolean isSpace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == '\f';
    }

    private static boolean endsWord(int c) {
        return isSpace(c) || c == '(' || c == ')' || c == '"';
    }

    /** True at end of stream (nothing more will come). */
    public boolean atEof() throws IOException {
        return peek() < 0;
    }

    /** A command verb or reply word: up to whitespace, parenthesis or quote. May be empty. */
    public String readWord() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (!endsWord(peekOrEof())) {
            if (sb.length() >= limits.maxWord()) {
                throw DListException.limit("word longer than " + limits.maxWord());
            }
            sb.append((char) read());
        }
        return sb.toString();
    }

    /** Skips spaces and tabs (not line ends); returns whether any were skipped. */
    public boolean skipBlanks() throws IOException {
        boolean any = false;
        int c;
        while ((c = peekOrEof()) == ' ' || c == '\t') {
            read();
            any = true;
        }
        return any;
    }

    public boolean atEndOfLine() throws IOException {
        int c = peekOrEof();
        return c == '\r' || c == '\n';
    }

    /** Consumes an optional CR and the LF that end a line. */
    public void readEndOfLine() throws IOException {
        if (peekOrEof() == '\r') {
            read();
        }
        if (peekOrEof() != '\n') {
            throw DListException.syntax("expected end of line, got " + describe(peekOrEof()));
        }
        read();
    }

    /** Rest of the line as ISO-8859-1 text, line end consumed and stripped. */
    public String readLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = read()) != '\n') {
            if (sb.length() >= limits.maxQuoted()) {
                throw DListException.limit("text line longer than " + limits.maxQuoted());
            }
            sb.append((char) c);
        }
        int n = sb.length();
        if (n > 0 && sb.charAt(n - 1) == '\r') {
            sb.setLength(n - 1);
        }
        return sb.toString();
    }

    /** {@code key SP value}: the argument of APPLY/GET and of {@code *} reply lines. */
    public DKeyed readKeyed() throws IOException {
        String key = readAstring().text();
        if (!skipBlanks()) {
            throw DListException.syntax("expected a space after " + key);
        }
        return new DKeyed(key, readValue(0));
    }

    public DValue readValue() throws IOException {
        return readValue(0);
    }

    private DValue readValue(int depth) throws IOException {
        if (depth > limits.maxDepth()) {
            throw DListException.limit("lists nested deeper than " + limits.maxDepth());
        }
        countValue();
        int c = peekOrEof();
        switch (c) {
            case '(':
                read();
                return DList.of(readItems(depth));
            case '%':
                read();
                int next = peekOrEof();
                if (next == '(') {
                    read();
                    return readKvItems(depth);
                }
                if (next == '{') {
                    read();
                    return readFileLiteral();
                }
                throw DListException.syntax("expected ( or { after %, got " + describe(next));
            case '{':
                return readLiteral();
            case '"':
                return readQuoted();
            default:
                return readAtom();
        }
    }

    private List<DValue> readItems(int depth) throws IOException {
        List<DValue> items = new ArrayList<>();
        while (true) {
            skipWhitespace();
            if (peekOrEof() == ')') {
                read();
                return items;
            }
            items.add(readValue(depth + 1));
            requireSeparator();
        }
    }

    private DKvList readKvItems(int depth) throws IOException {
        List<DKvList.Entry> entries = new ArrayList<>();
        while (true) {
            skipWhitespace();
            if (peekOrEof() == ')') {
                read();
                return DKvList.of(entries);
            }
            countValue();
            String key = readAstring().text();
            if (!isSpace(peekOrEof())) {
                throw DListException.syntax("expected whitespace after key " + key);
            }
            skipWhitespace();
            entries.add(new DKvList.Entry(key, readValue(depth + 1)));
            requireSeparator();
        }
    }

    /** Every value costs heap beyond its bytes (an object, a list slot): a line of tiny atoms must not add up. */
    private void countValue() throws DListException {
        if (++lineValues > limits.maxValues()) {
            throw DListException.limit("more than " + limits.maxValues() + " values in one line");
        }
    }

    private void requireSeparator() throws IOException {
        int c = peekOrEof();
        if (!isSpace(c) && c != ')') {
            throw DListException.syntax("expected whitespace or ) but got " + describe(c));
        }
    }

    private void skipWhitespace() throws IOException {
        while (isSpace(peekOrEof())) {
            read();
        }
    }

    private DAtom readAstring() throws IOException {
        int c = peekOrEof();
        DValue v = c == '"' ? readQuoted() : c == '{' ? readLiteral() : readAtom();
        if (v.isNil()) {
            return DAtom.of("NIL");
        }
        return v.asAtom();
    }

    private DValue readAtom() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (!endsWord(peekOrEof())) {
            if (out.size() >= limits.maxWord()) {
                throw DListException.limit("atom longer than " + limits.maxWord());
            }
            out.write(read());
        }
        byte[] bytes = out.toByteArray();
        if (bytes.length == 0) {
            throw DListException.syntax("expected a value, got " + describe(peekOrEof()));
        }
        if (bytes.length == 3 && bytes[0] == 'N' && bytes[1] == 'I' && bytes[2] == 'L') {
            return DNil.NIL;
        }
        return DAtom.wrap(bytes, bytes[0] == '\\');
    }

    private DAtom readQuoted() throws IOException {
        read(); // opening quote
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            int c = peekOrEof();
            if (c == '\r' || c == '\n') {
                throw DListException.syntax("line end inside a quoted string");
            }
            read();
            if (c == '"') {
                return DAtom.wrap(out.toByteArray(), false);
            }
            if (c == '\\') {
                int e = peekOrEof();
                if (e == '\r' || e == '\n') {
                    throw DListException.syntax("line end inside a quoted string");
                }
                c = read();
            }
            if (out.size() >= limits.maxQuoted()) {
                throw DListException.limit("quoted string longer than " + limits.maxQuoted());
            }
            out.write(c);
        }
    }

    private long readNumber(int maxDigits) throws IOException {
        long n = 0;
        int digits = 0;
        int c;
        while ((c = peekOrEof()) >= '0' && c <= '9') {
            if (++digits > maxDigits) {
                throw DListException.syntax("number too long");
            }
            n = n * 10 + (read() - '0');
        }
        if (digits == 0) {
            throw DListException.syntax("expected a number, got " + describe(c));
        }
        return n;
    }

    private DAtom readLiteral() throws IOException {
        read(); // {
        long size = readNumber(10);
        if (peekOrEof() == '+') {
            read();
        }
        expect('}');
        readEndOfLine();
        if (size > limits.maxLiteral()) {
            throw DListException.limit("literal of " + size + " bytes exceeds " + limits.maxLiteral());
        }
        if (++lineLiterals > limits.maxLiterals()) {
            throw DListException.limit("more than " + limits.maxLiterals() + " literals in one line");
        }
        if (lineBytes + size > limits.maxLine()) {
            throw DListException.limit(
                    "literal of " + size + " bytes would make the line longer than " + limits.maxLine() + " bytes");
        }
        byte[] data = new byte[(int) size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) read();
        }
        return DAtom.wrap(data, false);
    }

    private void expect(int want) throws IOException {
        int c = peekOrEof();
        if (c != want) {
            throw DListException.syntax("expected " + describe(want) + ", got " + describe(c));
        }
        read();
    }

    private DFile readFileLiteral() throws IOException {
        String partition = readAstring().text();
        expect(' ');
        String guid = readAstring().text();
        expect(' ');
        long size = readNumber(10);
        if (size > 0xFFFFFFFFL) {
            throw DListException.syntax("file literal size out of range");
        }
        expect('}');
        readEndOfLine();
        if (size > limits.maxFileLiteral()) {
            throw DListException.limit("file literal of " + size + " bytes exceeds " + limits.maxFileLiteral());
        }
        if (++lineFileLiterals > limits.maxFileLiterals()) {
            throw DListException.limit("more than " + limits.maxFileLiterals() + " file literals in one line");
        }
        lineFileBytes += size;
        if (lineFileBytes > limits.maxFileBytes()) {
            throw DListException.limit(
                    "file literals of one line add up to more than " + limits.maxFileBytes() + " bytes");
        }
        MessageDigest sha1 = MessageBody.sha1Digest();
        // Small bodies stay on the heap, but only up to a total per line: many of them go to the spool too.
        if (size <= limits.spoolThreshold() && lineHeapBodyBytes + size <= limits.maxHeapBodyBytes()) {
            lineHeapBodyBytes += size;
            byte[] data = new byte[(int) size];
            readFully(data, 0, data.length);
            sha1.update(data);
            return new DFile(
                    partition, guid, MessageBody.inMemory(data, HexFormat.of().formatHex(sha1.digest())));
        }
        Path dir = limits.spoolDir() != null ? limits.spoolDir() : Path.of(System.getProperty("java.io.tmpdir"));
        Path file = Files.createTempFile(dir, "csync-", ".msg");
        boolean ok = false;
        try (OutputStream out = Files.newOutputStream(file)) {
            byte[] chunk = new byte[65536];
            long left = size;
            while (left > 0) {
                int n = (int) Math.min(chunk.length, left);
                readFully(chunk, 0, n);
                sha1.update(chunk, 0, n);
                out.write(chunk, 0, n);
                left -= n;
            }
            ok = true;
        } finally {
            if (!ok) {
                Files.deleteIfExists(file);
            }
        }
        MessageBody body = MessageBody.spooled(file, size, HexFormat.of().formatHex(sha1.digest()));
        spooledThisLine.add(body);
        return new DFile(partition, guid, body);
    }

    /** Bulk read that does not count against the line limit (file-literal data). */
    private void readFully(byte[] dst, int off, int len) throws IOException {
        while (len > 0) {
            if (pos == end && !fill()) {
                throw new EOFException("connection closed inside a file literal");
            }
            int n = Math.min(len, end - pos);
            System.arraycopy(buf, pos, dst, off, n);
            pos += n;
            off += n;
            len -= n;
        }
    }

    /**
     * After a parse error: discards the rest of the line, including the data of any literal or
     * file literal announced on it, so the next command starts in sync (Cyrus PR #3397).
     */
    public void skipLine() throws IOException {
        StringBuilder tail = new StringBuilder();
        while (true) {
            int c = peek();
            if (c < 0) {
                return;
            }
            pos++;
            if (++lineBytes > limits.maxLine()) {
                throw DListException.limit("line longer than " + limits.maxLine() + " bytes");
            }
            if (c != '\n') {
                if (tail.length() >= 256) {
                    tail.delete(0, 128);
                }
                tail.append((char) c);
                continue;
            }
            Matcher m = LITERAL_AT_LINE_END.matcher(tail);
            if (!m.find()) {
                return;
            }
            long skip = Long.parseLong(m.group(1) != null ? m.group(1) : m.group(2));
            // Skipping costs no memory, but an unbounded skip would let one line keep the session busy for ever.
            long most = m.group(1) != null ? limits.maxLiteral() : limits.maxFileLiteral();
            if (skip > most) {
                throw DListException.limit("literal of " + skip + " bytes exceeds " + most);
            }
            if (m.group(1) != null) {
                lineBytes += skip;
            } else {
                lineFileBytes += skip;
            }
            if (lineBytes > limits.maxLine() || lineFileBytes > limits.maxFileBytes()) {
                throw DListException.limit("line longer than " + limits.maxLine() + " bytes");
            }
            while (skip > 0) {
                if (pos == end && !fill()) {
                    return;
                }
                int n = (int) Math.min(skip, end - pos);
                pos += n;
                skip -= n;
            }
            tail.setLength(0);
        }
    }

    private static String describe(int c) {
        if (c < 0) {
            return "end of stream";
        }
        return c >= 0x21 && c < 0x7f ? "'" + (char) c + "'" : String.format("byte 0x%02x", c);
    }
}
