package io.mailstream.producers.capture;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * A hand-driven csync connection to capture: logs in, turns on COMPRESS DEFLATE as sync_client
 * does, then writes whatever a test wants, however broken, and reads the replies line by line.
 */
final class CompressedSession implements AutoCloseable {
    private final Socket socket;
    private InputStream in;
    private OutputStream out;
    private DeflaterOutputStream deflating;

    CompressedSession(int port, String user, String password) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(60_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
        String line;
        do {
            line = readLine();
        } while (line != null && !line.startsWith("* OK"));
        String plain =
                Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
        out.write(("AUTHENTICATE PLAIN " + plain + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        expect("OK");
        out.write("COMPRESS DEFLATE\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        expect("OK");
        deflating = new DeflaterOutputStream(
                socket.getOutputStream(), new Deflater(Deflater.BEST_SPEED, true), 65536, true);
        out = deflating;
        in = new InflaterInputStream(socket.getInputStream(), new Inflater(true), 16384);
    }

    private void expect(String prefix) throws IOException {
        String reply = readLine();
        if (reply == null || !reply.startsWith(prefix)) {
            throw new IOException("expected " + prefix + ", got " + reply);
        }
    }

    /** Writes and flushes (a SYNC_FLUSH, so the server can decode all of it). */
    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Ends the compressed stream and the sending direction: the server sees the end of its input. */
    void finishSending() throws IOException {
        deflating.finish();
        deflating.flush();
        socket.shutdownOutput();
    }

    /** A reply line without its line end; null at the end of the stream. */
    String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String s = line.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            line.write(c);
        }
        return line.size() > 0 ? line.toString(StandardCharsets.ISO_8859_1) : null;
    }

    /** Every line until the server closes; throws {@link SocketTimeoutException} if it neither answers nor closes. */
    List<String> readUntilClosed() throws IOException {
        List<String> lines = new ArrayList<>();
        try {
            String line;
            while ((line = readLine()) != null) {
                lines.add(line);
            }
        } catch (SocketTimeoutException e) {
            throw e;
        } catch (IOException e) {
            // reset or a cut deflate stream: the server closed
            lines.add("(closed: " + e.getMessage() + ")");
        }
        return lines;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
