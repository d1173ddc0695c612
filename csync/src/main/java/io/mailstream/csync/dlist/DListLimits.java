package io.mailstream.csync.dlist;

import java.nio.file.Path;

/**
 * Parser limits; crossing one raises a {@link DListException} instead of exhausting memory.
 *
 * @param maxWord          longest atom (Cyrus maxword, 128 KiB)
 * @param maxQuoted        longest quoted string (Cyrus maxquoted, 128 KiB)
 * @param maxLiteral       longest {@code {N}} literal (Cyrus 3.6.5+ maxliteral is 128 KiB; we
 *                         default higher because sieve scripts and annotations may be larger)
 * @param maxFileLiteral   largest message body in a {@code %{...}} file literal
 * @param maxLine          bytes of one command or reply line, file-literal data excluded
 * @param maxDepth         deepest list nesting (protects the recursive parser's stack)
 * @param spoolThreshold   file literals larger than this go to a temp file, not the heap
 * @param spoolDir         where spooled bodies go; null = java.io.tmpdir
 */
public record DListLimits(int maxWord, int maxQuoted, int maxLiteral, long maxFileLiteral,
                          long maxLine, int maxDepth, int spoolThreshold, Path spoolDir) {

    public static final DListLimits DEFAULTS = new DListLimits(128 * 1024, 128 * 1024,
            8 * 1024 * 1024, 1L << 30, 512L * 1024 * 1024, 64, 1024 * 1024, null);

    public DListLimits withMaxLiteral(int v) {
        return new DListLimits(maxWord, maxQuoted, v, maxFileLiteral, maxLine, maxDepth, spoolThreshold, spoolDir);
    }

    public DListLimits withMaxFileLiteral(long v) {
        return new DListLimits(maxWord, maxQuoted, maxLiteral, v, maxLine, maxDepth, spoolThreshold, spoolDir);
    }

    public DListLimits withMaxLine(long v) {
        return new DListLimits(maxWord, maxQuoted, maxLiteral, maxFileLiteral, v, maxDepth, spoolThreshold, spoolDir);
    }

    public DListLimits withSpool(int threshold, Path dir) {
        return new DListLimits(maxWord, maxQuoted, maxLiteral, maxFileLiteral, maxLine, maxDepth, threshold, dir);
    }
}
