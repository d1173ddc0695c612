package io.mailstream.csync.dlist;

import java.io.BufferedOutputStream;
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
    private Deflate() {
    }

    public static InputStream inflating(InputStream in) {
        return new InflaterInputStream(in, new Inflater(true), 16384);
    }

    /** Buffered: write freely, then flush once per command or reply. */
    public static OutputStream deflating(OutputStream out) {
        return new BufferedOutputStream(
                new DeflaterOutputStream(out, new Deflater(Deflater.DEFAULT_COMPRESSION, true), 16384, true), 65536);
    }
}
