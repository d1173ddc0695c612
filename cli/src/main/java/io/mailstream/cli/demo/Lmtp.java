package io.mailstream.cli.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Delivers mail over LMTP (RFC 2033), the way an MTA hands it to Cyrus's lmtpd. */
final class Lmtp extends MailConnection {
    Lmtp(String host, int port) throws IOException {
        super(host, port);
        expect("220");
        sendLine("LHLO mailstream.demo");
        expect("250");
    }

    /** One message to one recipient; fails unless lmtpd accepted it. */
    void deliver(String from, String to, byte[] message) throws IOException {
        sendLine("MAIL FROM:<" + from + ">");
        expect("250");
        sendLine("RCPT TO:<" + to + ">");
        expect("250");
        sendLine("DATA");
        expect("354");
        // The generator writes CRLF lines none of which starts with a dot, so no dot-stuffing is needed.
        out.write(message);
        out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        expect("250");
    }

    /** Reads a reply (multi-line "250-" continuations included) and checks its code. */
    private void expect(String code) throws IOException {
        String line;
        do {
            line = readLine();
        } while (line.length() > 3 && line.charAt(3) == '-');
        if (!line.startsWith(code)) throw new IOException("LMTP: expected " + code + ", got: " + line);
    }
}
