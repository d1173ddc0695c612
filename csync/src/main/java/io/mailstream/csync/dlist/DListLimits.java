package io.mailstream.csync.dlist;

import java.nio.file.Path;

/**
 * Parser limits; crossing one raises a {@link DListException} instead of exhausting memory or
 * disk. "Line" means one command or reply line with everything it carries; its bytes are counted
 * after decompression, so a small COMPRESS stream cannot expand past them.
 *
 * @param maxWord          longest atom (Cyrus maxword, 128 KiB)
 * @param maxQuoted        longest quoted string (Cyrus maxquoted, 128 KiB)
 * @param maxLiteral       longest {@code {N}} literal (Cyrus 3.6.5+ maxliteral is 128 KiB; we
 *                         default higher because sieve scripts and annotations may be larger)
 * @param maxFileLiteral   largest message body in a {@code %{...}} file literal
 * @param maxLine          bytes of one line, file-literal data excluded (literal data included)
 * @param maxDepth         deepest list nesting (protects the recursive parser's stack)
 * @param spoolThreshold   file literals larger than this go to a temp file, not the heap
 * @param spoolDir         where spooled bodies go; null = java.io.tmpdir
 * @param maxValues        values (atoms, strings, lists, keys) in one line: each costs heap beyond its bytes
 * @param maxLiterals      {@code {N}} literals in one line
 * @param maxFileLiterals  {@code %{...}} file literals in one line (sync_client sends at most 1024)
 * @param maxFileBytes     file-literal bytes of one line together (what one APPLY MESSAGE may spool)
 * @param maxHeapBodyBytes file-literal bytes of one line kept on the heap together; bodies beyond
 *                         go to the spool even if each is below {@code spoolThreshold}
 */
public record DListLimits(
        int maxWord,
        int maxQuoted,
        int maxLiteral,
        long maxFileLiteral,
        long maxLine,
        int maxDepth,
        int spoolThreshold,
        Path spoolDir,
        long maxValues,
        int maxLiterals,
        int maxFileLiterals,
        long maxFileBytes,
        long maxHeapBodyBytes) {

    /** Generous: for trusted input (a replica's replies, capture's own journal). */
    public static final DListLimits DEFAULTS = new DListLimits(
            128 * 1024,
            128 * 1024,
            8 * 1024 * 1024,
            1L << 30,
            512L * 1024 * 1024,
            64,
            1024 * 1024,
            null,
            100_000_000L,
            1_000_000,
            1_000_000,
            Long.MAX_VALUE,
            64L * 1024 * 1024);

    /**
     * For a server that faces the network: one command holds at most about 64 MiB of bytes plus
     * 2 million values on the heap (some 200 MiB), and spools at most 8 GiB of bodies.
     */
    public static final DListLimits SERVER = new DListLimits(
            128 * 1024,
            128 * 1024,
            8 * 1024 * 1024,
            1L << 30,
            64L * 1024 * 1024,
            64,
            1024 * 1024,
            null,
            2_000_000L,
            100_000,
            2048,
            8L << 30,
            16L * 1024 * 1024);

    public DListLimits withMaxLiteral(int v) {
        return new DListLimits(
                maxWord,
                maxQuoted,
                v,
                maxFileLiteral,
                maxLine,
                maxDepth,
                spoolThreshold,
                spoolDir,
                maxValues,
                maxLiterals,
                maxFileLiterals,
                maxFileBytes,
                maxHeapBodyBytes);
    }

    public DListLimits withMaxFileLiteral(long v) {
        return new DListLimits(
                maxWord,
                maxQuoted,
                maxLiteral,
                v,
                maxLine,
                maxDepth,
                spoolThreshold,
                spoolDir,
                maxValues,
                maxLiterals,
                maxFileLiterals,
                maxFileBytes,
                maxHeapBodyBytes);
    }

    public DListLimits withMaxLine(long v) {
        return new DListLimits(
                maxWord,
                maxQuoted,
                maxLiteral,
                maxFileLiteral,
                v,
                maxDepth,
                spoolThreshold,
                spoolDir,
                maxValues,
                maxLiterals,
                maxFileLiterals,
                maxFileBytes,
                maxHeapBodyBytes);
    }

    public DListLimits withSpool(int threshold, Path dir) {
        return new DListLimits(
                maxWord,
                maxQuoted,
                maxLiteral,
                maxFileLiteral,
                maxLine,
                maxDepth,
                threshold,
                dir,
                maxValues,
                maxLiterals,
                maxFileLiterals,
                maxFileBytes,
                maxHeapBodyBytes);
    }

    public DListLimits withMaxValues(long v) {
        return new DListLimits(
                maxWord,
                maxQuoted,
                maxLiteral,
                maxFileLiteral,
                maxLine,
                maxDepth,
                spoolThreshold,
                spoolDir,
                v,
                maxLiterals,
                maxFileLiterals,
                maxFileBytes,
                maxHeapBodyBytes);
    }

    public DListLimits withMaxLiterals(int v) {
        return new DListLimits(
                maxWord,
                maxQuoted,
                maxLiteral,
                maxFileLiteral,
                maxLine,
                maxDepth,
                spoolThreshold,
                spoolDir,
                maxValues,
                v,
                maxFileLiterals,
                maxFileBytes,
                maxHeapBodyBytes);
    }

    /** Count and total bytes of the file literals (message bodies) of one line. */
    public DListLimits withFileLiterals(int count, long totalBytes) {
        return new DListLimits(
                maxWord,
                maxQuoted,
                maxLiteral,
                maxFileLiteral,
                maxLine,
                maxDepth,
                spoolThreshold,
                spoolDir,
                maxValues,
                maxLiterals,
                count,
                totalBytes,
                maxHeapBodyBytes);
    }
}
