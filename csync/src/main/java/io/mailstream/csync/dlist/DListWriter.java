package io.mailstream.csync.dlist;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Writes dlist values exactly as Cyrus 3.6 emits them (spec 2.3): single spaces, atoms bare when
 * possible, else quoted, else a literal; never a backslash escape. A client writes {@code {N+}}
 * literals, a server {@code {N}} (the safe rule of spec 1.4). Does not flush; callers flush once
 * per command or reply so that a compressed stream gets one SYNC_FLUSH per message.
 */
public final class DListWriter {
    /** Which side of the connection we are: decides the literal form. */
    public enum Mode {
        CLIENT,
        SERVER
    }

    private static final int MAX_INLINE = 1024;

    private final OutputStream out;
    private final Mode mode;

    public DListWriter(OutputStream out, Mode mode) {
        this.out = out;
        this.mode = mode;
    }

    public Mode mode() {
        return mode;
    }

    public static byte[] toBytes(DValue value, Mode mode) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            new DListWriter(bytes, mode).writeValue(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static String toDebugString(DValue value) {
        if (value instanceof DFile f) {
            return "%{" + f.partition() + " " + f.guid() + " " + f.size() + "}";
        }
        return new String(toBytes(value, Mode.SERVER), StandardCharsets.ISO_8859_1);
    }

    /** ASCII text as is, e.g. a verb, {@code "* "} or a completion line. */
    public void writeRaw(String ascii) throws IOException {
        out.write(ascii.getBytes(StandardCharsets.ISO_8859_1));
    }

    public void writeCrlf() throws IOException {
        out.write('\r');
        out.write('\n');
    }

    public void writeKeyed(DKeyed keyed) throws IOException {
        writeAstring(keyed.key().getBytes(StandardCharsets.UTF_8));
        out.write(' ');
        writeValue(keyed.value());
    }

    public void writeValue(DValue value) throws IOException {
        if (value instanceof DNil) {
            writeRaw("NIL");
        } else if (value instanceof DAtom a) {
            if (a.isFlag()) {
                out.write(a.rawBytes());
            } else {
                writeAstring(a.rawBytes());
            }
        } else if (value instanceof DList l) {
            out.write('(');
            boolean first = true;
            for (DValue item : l.items()) {
                if (!first) {
                    out.write(' ');
                }
                first = false;
                writeValue(item);
            }
            out.write(')');
        } else if (value instanceof DKvList kv) {
            writeRaw("%(");
            boolean first = true;
            for (DKvList.Entry e : kv.entries()) {
                if (!first) {
                    out.write(' ');
                }
                first = false;
                writeAstring(e.key().getBytes(StandardCharsets.UTF_8));
                out.write(' ');
                writeValue(e.value());
            }
            out.write(')');
        } else if (value instanceof DFile f) {
            writeFile(f);
        } else {
            throw new IllegalArgumentException("unknown dlist value " + value.getClass());
        }
    }

    private void writeFile(DFile f) throws IOException {
        writeRaw("%{");
        writeAstring(f.partition().getBytes(StandardCharsets.UTF_8));
        out.write(' ');
        writeAstring(f.guid().getBytes(StandardCharsets.UTF_8));
        writeRaw(" " + f.size() + "}");
        writeCrlf();
        long written = 0;
        try (InputStream in = f.body().open()) {
            byte[] chunk = new byte[65536];
            int n;
            while ((n = in.read(chunk)) > 0) {
                out.write(chunk, 0, n);
                written += n;
            }
        }
        if (written != f.size()) {
            // The peer would desynchronise; better to fail this command loudly.
            throw new IOException("message body changed size while sending " + f.guid());
        }
    }

    /** Cyrus's astring rule (prot_printastring): bare, quoted, or literal. */
    public void writeAstring(byte[] s) throws IOException {
        if (s.length == 0) {
            writeRaw("\"\"");
        } else if (isBareAtom(s)) {
            out.write(s);
        } else if (isQuotable(s)) {
            out.write('"');
            out.write(s);
            out.write('"');
        } else {
            writeRaw(mode == Mode.CLIENT ? "{" + s.length + "+}" : "{" + s.length + "}");
            writeCrlf();
            out.write(s);
        }
    }

    static boolean isBareAtom(byte[] s) {
        if (s.length >= MAX_INLINE) {
            return false;
        }
        if (s.length == 3 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'i' && (s[2] | 0x20) == 'l') {
            return false;
        }
        for (byte b : s) {
            if (b <= 0x20 || b >= 0x7f) {
                return false;
            }
            switch (b) {
                case '{', '(', ')', '"', '%', '*', '\\':
                    return false;
                default:
            }
        }
        return true;
    }

    static boolean isQuotable(byte[] s) {
        if (s.length >= MAX_INLINE) {
            return false;
        }
        for (byte b : s) {
            if (b <= 0 || b == '\r' || b == '\n' || b == '"' || b == '%' || b == '\\') {
                return false;
            }
        }
        return true;
    }
}
