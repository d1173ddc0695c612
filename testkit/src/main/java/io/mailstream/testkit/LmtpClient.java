package io.mailstream.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Minimal LMTP (RFC 2033) client: one connection, any number of deliveries. */
public final class LmtpClient implements AutoCloseable {
    private final Socket socket;
    private final ProtocolReader reader;
    private final OutputStream out;

    private LmtpClient(Socket socket) throws IOException {
        this.socket = socket;
        this.reader = new ProtocolReader(socket.getInputStream());
        // one flush per command: piecewise writes would stall on Nagle + delayed ACK (~40 ms each)
        this.out = new java.io.BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        expect(reply(), "220", "greeting");
        send("LHLO mailstream.test");
        expect(reply(), "250", "LHLO");
    }

    public static LmtpClient connect(String host, int port) {
        try {
            Socket s = new Socket();
            s.connect(new InetSocketAddress(host, port), 5000);
            s.setSoTimeout(60_000);
            s.setTcpNoDelay(true);
            return new LmtpClient(s);
        } catch (IOException e) {
            throw new UncheckedIOException("LMTP connect " + host + ":" + port, e);
        }
    }

    /**
     * Delivers {@code message} (CRLF line endings) to every recipient; throws unless all accepted it.
     * Returns the per-recipient final replies (LMTP answers DATA once per accepted recipient).
     */
    public List<String> deliver(String from, List<String> recipients, byte[] message) {
        try {
            send("MAIL FROM:<" + from + ">");
            expect(reply(), "250", "MAIL FROM");
            for (String rcpt : recipients) {
                send("RCPT TO:<" + rcpt + ">");
                expect(reply(), "250", "RCPT TO " + rcpt);
            }
            send("DATA");
            expect(reply(), "354", "DATA");
            out.write(dotStuff(message));
            out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            List<String> replies = new ArrayList<>();
            for (String rcpt : recipients) replies.add(expect(reply(), "250", "delivery to " + rcpt));
            return replies;
        } catch (IOException e) {
            throw new UncheckedIOException("LMTP delivery", e);
        }
    }

    /** Doubles a leading dot on every line and makes sure the data ends with CRLF. */
    static byte[] dotStuff(byte[] message) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(message.length + 64);
        boolean lineStart = true;
        for (byte b : message) {
            if (lineStart && b == '.') buf.write('.');
            buf.write(b);
            lineStart = b == '\n';
        }
        if (!lineStart) buf.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        return buf.toByteArray();
    }

    private void send(String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** A complete (possibly multi-line "250-...") reply; returns its last line. */
    private String reply() throws IOException {
        String line;
        do {
            line = new String(reader.readLine(), StandardCharsets.UTF_8);
        } while (line.length() > 3 && line.charAt(3) == '-');
        return line;
    }

    private static String expect(String reply, String code, String what) {
        if (!reply.startsWith(code)) throw new ImapException("LMTP " + what + " -> " + reply);
        return reply;
    }

    @Override
    public void close() {
        try {
            send("QUIT");
            reply();
        } catch (IOException ignored) {
            // the server may already have closed; we are done either way
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
