package io.mailstream.csync.model;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/** A message GUID: SHA-1 of the stored message bytes, 40 lower-case hex digits (spec 2.5). */
public record Guid(String hex) implements Comparable<Guid> {
    public static final Guid NULL = new Guid("0".repeat(40));

    public Guid {
        if (hex == null || hex.length() != 40 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException("not a 40-digit GUID: " + hex);
        }
        hex = hex.toLowerCase(Locale.ROOT);
    }

    public static Guid of(String hex) {
        return new Guid(hex);
    }

    public static Guid sha1(byte[] message) {
        try {
            return new Guid(
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(message)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JRE has SHA-1", e);
        }
    }

    /** All zeros: Cyrus cannot replicate such a message (spec 2.5). */
    public boolean isNull() {
        return equals(NULL);
    }

    @Override
    public int compareTo(Guid o) {
        return hex.compareTo(o.hex);
    }

    @Override
    public String toString() {
        return hex;
    }
}
