package io.mailstream.csync.dlist;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * COMPRESS DEFLATE streams as Cyrus uses them (spec 1.7): raw deflate without zlib header
 * (window -15, Java "nowrap"), every flush a SYNC_FLUSH so the peer can decode each message.
 */
public final class Deflate {
    private Deflate() {}

    public static InputStream inflating(InputStream in) {
        return new InflaterInputStream(in, new Inflater(true), 16384);
    }

    /** Buffered: write freely, then flush once per command or reply. */
    public static OutputStream deflating(OutputStream out) {
        return new BufferedOutputStream(
                new FlushOnlyWhenWritten(
                        new DeflaterOutputStream(out, new Deflater(Deflater.DEFAULT_COMPRESSION, true), 16384, true)),
                65536);
    }

    /**
     * A SYNC_FLUSH with nothing written still emits an empty deflate block. Right after
     * {@code OK DEFLATE active} those bytes can reach Cyrus in the same read as that line, and
     * Cyrus's prot layer only inflates what it reads after switching, so it takes them as plain
     * text and every later reply is read one command late. Flush only when there is data.
     */
    private static final class FlushOnlyWhenWritten extends FilterOutputStream {
        private boolean written;

        FlushOnlyWhenWritten(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            written = true;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len > 0) {
                out.write(b, off, len);
                written = true;
            }
        }

        @Override
        public void flush() throws IOException {
            if (written) {
                out.flush();
                written = false;
            }
        }
    }
}
