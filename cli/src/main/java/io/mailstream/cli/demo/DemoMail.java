package io.mailstream.cli.demo;

import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Random;

/**
 * Plausible office mail for the demo: named senders, conversations with replies (In-Reply-To,
 * "Re:"), plain-text bodies of a few KB, and now and then a document attached (100 KB to 1.5 MB).
 * CRLF lines, none starting with a dot, so it can go to LMTP as is.
 */
final class DemoMail {
    private static final String[] PEOPLE = {
        "Ana Souza",
        "Ben Carter",
        "Chen Wei",
        "Dara Okafor",
        "Elif Yilmaz",
        "Farid Haddad",
        "Greta Lindqvist",
        "Hiro Tanaka",
        "Ines Moreau",
        "Jonas Berg"
    };
    private static final String[] TOPICS = {
        "Quarterly numbers",
        "Offsite agenda",
        "Server migration plan",
        "Invoice 4471",
        "Release checklist",
        "Lunch on Friday?",
        "Contract draft v3",
        "Backup window change",
        "Customer escalation",
        "Hiring: second round",
        "Budget review",
        "Travel booking"
    };
    private static final String[] SENTENCES = {
        "Please find my notes below.",
        "Can we move this to Thursday?",
        "I have updated the figures in the shared sheet.",
        "The replica in the second data centre is in sync again.",
        "Let me know if anything is missing.",
        "Thanks for the quick turnaround.",
        "We still need sign-off from legal.",
        "The migration window is Saturday 02:00 to 04:00.",
        "I will send the final version tomorrow morning.",
        "Attached is the latest draft for review.",
        "Could you double-check the totals?",
        "Agreed, let's go ahead."
    };

    private final Random random;
    private final String domain;
    private int sent;

    DemoMail(long seed, String domain) {
        this.random = new Random(seed);
        this.domain = domain;
    }

    /** The next message to {@code user}. */
    byte[] next(String user) {
        int n = ++sent;
        String sender = PEOPLE[random.nextInt(PEOPLE.length)];
        String senderAddress = sender.toLowerCase().replace(' ', '.') + "@example.com";
        int topic = random.nextInt(TOPICS.length);
        boolean reply = random.nextInt(3) == 0;
        StringBuilder head = new StringBuilder()
                .append("From: ")
                .append(sender)
                .append(" <")
                .append(senderAddress)
                .append(">\r\n")
                .append("To: ")
                .append(user)
                .append('@')
                .append(domain)
                .append("\r\n")
                .append("Subject: ")
                .append(reply ? "Re: " : "")
                .append(TOPICS[topic])
                .append("\r\n")
                .append("Date: ")
                .append(DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now()))
                .append("\r\n")
                .append("Message-ID: <demo.")
                .append(n)
                .append('.')
                .append(Long.toHexString(random.nextLong()))
                .append("@example.com>\r\n");
        if (reply) head.append("In-Reply-To: <thread.").append(topic).append("@example.com>\r\n");
        head.append("MIME-Version: 1.0\r\n");
        String text = text(1_000 + random.nextInt(12_000), sender);
        if (random.nextInt(15) != 0) {
            head.append("Content-Type: text/plain; charset=utf-8\r\n\r\n").append(text);
            return head.toString().getBytes(StandardCharsets.UTF_8);
        }
        String boundary = "demo-" + n;
        byte[] document = new byte[100_000 + random.nextInt(1_000_000)];
        random.nextBytes(document);
        head.append("Content-Type: multipart/mixed; boundary=\"")
                .append(boundary)
                .append("\"\r\n\r\n")
                .append("--")
                .append(boundary)
                .append("\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
                .append(text)
                .append("--")
                .append(boundary)
                .append("\r\nContent-Type: application/pdf; name=\"document-")
                .append(n)
                .append(".pdf\"\r\nContent-Disposition: attachment; filename=\"document-")
                .append(n)
                .append(".pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
                .append(Base64.getMimeEncoder().encodeToString(document))
                .append("\r\n--")
                .append(boundary)
                .append("--\r\n");
        return head.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Paragraphs of sentences, wrapped at 72 columns, signed, about {@code size} bytes. */
    private String text(int size, String sender) {
        StringBuilder body = new StringBuilder("Hi,\r\n\r\n");
        StringBuilder line = new StringBuilder();
        while (body.length() < size) {
            for (String word : SENTENCES[random.nextInt(SENTENCES.length)].split(" ")) {
                if (line.length() + word.length() >= 72) {
                    body.append(line.toString().stripTrailing()).append("\r\n");
                    line.setLength(0);
                }
                line.append(word).append(' ');
            }
            if (random.nextInt(4) == 0) {
                body.append(line.toString().stripTrailing()).append("\r\n\r\n");
                line.setLength(0);
            }
        }
        return body.append(line.toString().stripTrailing())
                .append("\r\n\r\n")
                .append(sender)
                .append("\r\n")
                .toString();
    }
}
