package io.mailstream.csync.dlist;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A string value: atom, quoted string or literal on the wire (the form is not kept, because
 * Cyrus chooses it from the content, spec 2.3). May hold NUL and 8-bit bytes. A {@code flag}
 * atom (one read as {@code \Word}) is emitted verbatim as Cyrus does for FLAG values.
 */
public final class DAtom extends DValue {
    private static final DAtom EMPTY = new DAtom(new byte[0], false);

    private final byte[] bytes;
    private final boolean flag;

    private DAtom(byte[] bytes, boolean flag) {
        this.bytes = bytes;
        this.flag = flag;
    }

    public static DAtom of(String text) {
        return text.isEmpty() ? EMPTY : new DAtom(text.getBytes(StandardCharsets.UTF_8), false);
    }

    public static DAtom of(byte[] bytes) {
        return new DAtom(bytes.clone(), false);
    }

    /** Unsigned decimal, as Cyrus prints NUM/DATE values. */
    public static DAtom ofNumber(long value) {
        return of(Long.toUnsignedString(value));
    }

    /** 16 lower-case hex digits, zero padded (Cyrus HEX, e.g. thrid). */
    public static DAtom ofHex(long value) {
        return of(String.format("%016x", value));
    }

    /** A flag such as {@code \Seen} or a keyword: written verbatim, never quoted. */
    public static DAtom flag(String name) {
        return new DAtom(name.getBytes(StandardCharsets.UTF_8), true);
    }

    static DAtom wrap(byte[] bytes, boolean flag) {
        return new DAtom(bytes, flag);
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    byte[] rawBytes() {
        return bytes;
    }

    public int length() {
        return bytes.length;
    }

    public boolean isFlag() {
        return flag;
    }

    public String text() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public DAtom asAtom() {
        return this;
    }

    /** Unsigned decimal that fits 32 bits. Cyrus truncates silently; we refuse instead. */
    public long num32() {
        long v = num64();
        if (v < 0 || v > 0xFFFFFFFFL) {
            throw new DListTypeException("not a 32-bit number: " + text());
        }
        return v;
    }

    /** Unsigned 64-bit decimal, returned in a long (values above Long.MAX_VALUE wrap). */
    public long num64() {
        if (bytes.length == 0 || bytes.length > 20) {
            throw new DListTypeException("not a number: '" + text() + "'");
        }
        for (byte b : bytes) {
            if (b < '0' || b > '9') {
                throw new DListTypeException("not a number: '" + text() + "'");
            }
        }
        try {
            return Long.parseUnsignedLong(text());
        } catch (NumberFormatException e) {
            throw new DListTypeException("number out of range: " + text());
        }
    }

    /** Unix seconds; a negative time_t arrives as a huge unsigned number (spec 2.3). */
    public long date() {
        return num64();
    }

    public long hex() {
        if (bytes.length == 0 || bytes.length > 16) {
            throw new DListTypeException("not a 64-bit hex value: '" + text() + "'");
        }
        try {
            return Long.parseUnsignedLong(text(), 16);
        } catch (NumberFormatException e) {
            throw new DListTypeException("not a hex value: '" + text() + "'");
        }
    }

    /** Exactly 40 hex digits (spec 2.4), returned lower-case. */
    public String guidHex() {
        if (bytes.length != 40) {
            throw new DListTypeException("not a 40-digit GUID: '" + text() + "'");
        }
        for (byte b : bytes) {
            if (Character.digit(b, 16) < 0) {
                throw new DListTypeException("not a 40-digit GUID: '" + text() + "'");
            }
        }
        return text().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    String kind() {
        return flag ? "flag" : "atom";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DAtom a && a.flag == flag && Arrays.equals(a.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes) * 31 + (flag ? 1 : 0);
    }
}
