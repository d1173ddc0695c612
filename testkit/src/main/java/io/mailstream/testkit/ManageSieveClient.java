package io.mailstream.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Minimal ManageSieve (RFC 5804) client: AUTHENTICATE PLAIN, PUTSCRIPT, SETACTIVE, LISTSCRIPTS, GETSCRIPT. */
public final class ManageSieveClient implements AutoCloseable {
    private final Socket socket;
    private final ProtocolReader reader;
    private final OutputStream out;

    private record Reply(List<byte[]> lines, String status) {}

    private ManageSieveClient(Socket socket) throws IOException {
        this.socket = socket;
        this.reader = new ProtocolReader(socket.getInputStream());
        // one flush per command: piecewise writes would stall on Nagle + delayed ACK (~40 ms each)
        this.out = new java.io.BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        expectOk(read(), "greeting");
    }

    /** Connects and authenticates with SASL PLAIN. */
    public static ManageSieveClient login(String host, int port, String user, String password) {
        try {
            Socket s = new Socket();
            s.connect(new InetSocketAddress(host, port), 5000);
            s.setSoTimeout(60_000);
            s.setTcpNoDelay(true);
            ManageSieveClient c = new ManageSieveClient(s);
            String plain = Base64.getEncoder()
                    .encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
            c.ok("AUTHENTICATE \"PLAIN\" \"" + plain + "\"");
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException("ManageSieve connect " + host + ":" + port, e);
        }
    }

    public void putScript(String name, String script) {
        byte[] bytes = script.getBytes(StandardCharsets.UTF_8);
        // non-synchronizing literal: RFC 5804 servers always accept {N+}
        ok("PUTSCRIPT " + ImapClient.quote(name) + " {" + bytes.length + "+}\r\n" + script);
    }

    public void setActive(String name) {
        ok("SETACTIVE " + ImapClient.quote(name));
    }

    /** script name -> active? */
    public Map<String, Boolean> listScripts() {
        Map<String, Boolean> out = new LinkedHashMap<>();
        for (byte[] line : ok("LISTSCRIPTS").lines()) {
            List<Object> t = ResponseParser.parse(line, 0);
            out.put(
                    ResponseParser.string(t.get(0)),
                    t.size() > 1 && "ACTIVE".equalsIgnoreCase(String.valueOf(t.get(1))));
        }
        return out;
    }

    public String getScript(String name) {
        List<byte[]> lines = ok("GETSCRIPT " + ImapClient.quote(name)).lines();
        return ResponseParser.string(ResponseParser.parse(lines.get(0), 0).get(0));
    }

    private Reply ok(String command) {
        try {
            out.write((command + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return expectOk(read(), command.startsWith("AUTHENTICATE") ? "AUTHENTICATE" : command.split("\r\n")[0]);
        } catch (IOException e) {
            throw new UncheckedIOException("ManageSieve " + command, e);
        }
    }

    private Reply read() throws IOException {
        List<byte[]> lines = new ArrayList<>();
        while (true) {
            byte[] line = reader.readResponseLine();
            String text = new String(line, StandardCharsets.UTF_8);
            if (text.startsWith("OK") || text.startsWith("NO") || text.startsWith("BYE")) return new Reply(lines, text);
            lines.add(line);
        }
    }

    private static Reply expectOk(Reply r, String what) {
        if (!r.status().startsWith("OK")) throw new ImapException("ManageSieve " + what + " -> " + r.status());
        return r;
    }

    @Override
    public void close() {
        try {
            out.write("LOGOUT\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.close();
        } catch (IOException ignored) {
            // closing a test connection: nothing useful to do
        }
    }
}
