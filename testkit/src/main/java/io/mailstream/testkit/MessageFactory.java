package io.mailstream.testkit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Random;

/**
 * Deterministic, realistic RFC 5322 messages (CRLF line endings). The same seed, index and size always
 * give the same bytes, so replicated content can be compared by hash across runs. Messages up to
 * {@value #PLAIN_LIMIT} bytes are text/plain; bigger ones are multipart/mixed with a base64 attachment.
 */
public final class MessageFactory {
    static final int PLAIN_LIMIT = 32 * 1024;
    private static final String[] WORDS = {
        "replication",
        "mailbox",
        "quarterly",
        "report",
        "the",
        "a",
        "of",
        "meeting",
        "agenda",
        "please",
        "review",
        "attached",
        "draft",
        "budget",
        "server",
        "migration",
        "tomorrow",
        "and",
        "schedule",
        "notes",
        "customer",
        "invoice",
        "project",
        "update",
        "thanks",
        "regards",
        "kafka",
        "cyrus"
    };
    private static final ZonedDateTime BASE_DATE = ZonedDateTime.of(2026, 1, 5, 9, 0, 0, 0, ZoneOffset.UTC);

    private final long seed;

    public MessageFactory(long seed) {
        this.seed = seed;
    }

    /** A fixed date per index (one hour apart), usable as Date: header and as IMAP INTERNALDATE. */
    public ZonedDateTime date(int index) {
        return BASE_DATE.plusHours(index);
    }

    /** A message of about {@code size} bytes (1 KB .. 5 MB are typical) with the given subject. */
    public byte[] message(int index, int size, String from, String to, String subject) {
        Random random = new Random(seed * 1_000_003L + index);
        StringBuilder headers = new StringBuilder()
                .append("Return-Path: <")
                .append(from)
                .append(">\r\n")
                .append("From: ")
                .append(displayName(from))
                .append(" <")
                .append(from)
                .append(">\r\n")
                .append("To: <")
                .append(to)
                .append(">\r\n")
                .append("Subject: ")
                .append(subject)
                .append("\r\n")
                .append("Date: ")
                .append(DateTimeFormatter.RFC_1123_DATE_TIME.format(date(index)))
                .append("\r\n")
                .append("Message-ID: <")
                .append(Long.toHexString(seed))
                .append('.')
                .append(index)
                .append("@mailstream.test>\r\n")
                .append("MIME-Version: 1.0\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream(size + 1024);
        if (size <= PLAIN_LIMIT) {
            headers.append("Content-Type: text/plain; charset=us-ascii\r\n\r\n");
            out.writeBytes(headers.toString().getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(text(random, Math.max(size - out.size(), 40)));
            return out.toByteArray();
        }
        String boundary = "=_mailstream_" + Long.toHexString(seed) + "_" + index;
        headers.append("Content-Type: multipart/mixed; boundary=\"")
                .append(boundary)
                .append("\"\r\n\r\n")
                .append("This is a multi-part message in MIME format.\r\n")
                .append("--")
                .append(boundary)
                .append("\r\n")
                .append("Content-Type: text/plain; charset=us-ascii\r\n\r\n");
        out.writeBytes(headers.toString().getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(text(random, 2000));
        out.writeBytes(("--" + boundary + "\r\n"
                        + "Content-Type: application/octet-stream; name=\"attachment-" + index + ".bin\"\r\n"
                        + "Content-Disposition: attachment; filename=\"attachment-" + index + ".bin\"\r\n"
                        + "Content-Transfer-Encoding: base64\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        int trailer = boundary.length() + 8;
        // base64 with CRLF every 76 chars: 4 output bytes per 3 input bytes, plus 2 per 76
        int encodedBudget = Math.max(size - out.size() - trailer, 78);
        byte[] attachment = new byte[(int) ((long) encodedBudget * 76 / 78 * 3 / 4)];
        random.nextBytes(attachment);
        out.writeBytes(Base64.getMimeEncoder(76, "\r\n".getBytes(StandardCharsets.US_ASCII))
                .encode(attachment));
        out.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static String displayName(String address) {
        String local = address.substring(0, address.indexOf('@'));
        return Character.toUpperCase(local.charAt(0)) + local.substring(1);
    }

    /** Lines of words, at most 72 characters, ending in CRLF, {@code size} bytes give or take a line. */
    private static byte[] text(Random random, int size) {
        StringBuilder body = new StringBuilder(size + 80);
        StringBuilder line = new StringBuilder(80);
        while (body.length() + line.length() < size) {
            String word = WORDS[random.nextInt(WORDS.length)];
            if (line.length() + word.length() + 1 > 72) {
                body.append(line).append("\r\n");
                line.setLength(0);
            }
            line.append(line.length() == 0 ? "" : " ").append(word);
        }
        body.append(line).append(".\r\n");
        return body.toString().getBytes(StandardCharsets.US_ASCII);
    }
}
