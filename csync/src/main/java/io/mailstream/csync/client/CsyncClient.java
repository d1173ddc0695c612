package io.mailstream.csync.client;

import io.mailstream.csync.dlist.DKeyed;
import io.mailstream.csync.dlist.DListException;
import io.mailstream.csync.dlist.DListReader;
import io.mailstream.csync.dlist.DListWriter;
import io.mailstream.csync.dlist.Deflate;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * csync client (the sync_client side, spec 4.1): connect, read the banner, AUTHENTICATE PLAIN,
 * COMPRESS DEFLATE if offered, optionally enable SIEVE-MAILBOX, then send typed commands.
 * Literals go out as {@code {N+}} and message bodies are streamed as file literals. Not
 * thread-safe: one command at a time.
 * <pre>
 * try (CsyncClient c = CsyncClient.connect(CsyncClientConfig.of("replica", 2005, "admin", "pw"))) {
 *     List&lt;CsyncReply&gt; state = c.execute(new CsyncCommand.GetUser("alice"));
 *     ...
 * }
 * </pre>
 */
public final class CsyncClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CsyncClient.class);

    private final CsyncClientConfig config;
    private Socket socket;
    private DListReader reader;
    private OutputStream out;
    private DListWriter writer;
    private Set<String> capabilities = Set.of();
    private String serverGreeting;
    private List<String> enabled = List.of();

    private CsyncClient(CsyncClientConfig config) {
        this.config = config;
    }

    /** Connects, retrying with exponential backoff up to {@code maxConnectAttempts}. */
    public static CsyncClient connect(CsyncClientConfig config) throws IOException, CsyncException {
        CsyncClient c = new CsyncClient(config);
        c.reconnect();
        return c;
    }

    /** Drops the current connection (if any) and opens a new session with backoff. */
    public void reconnect() throws IOException, CsyncException {
        closeQuietly();
        long wait = config.initialBackoff().toMillis();
        for (int attempt = 1; ; attempt++) {
            try {
                open();
                return;
            } catch (IOException e) {
                closeQuietly();
                if (attempt >= config.maxConnectAttempts()) {
                    throw e;
                }
                LOG.warn(
                        "csync connect to {}:{} failed ({}); retry {} in {} ms",
                        config.host(),
                        config.port(),
                        e.toString(),
                        attempt,
                        wait);
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while reconnecting", ie);
                }
                wait = Math.min(wait * 2, config.maxBackoff().toMillis());
            }
        }
    }

    private void open() throws IOException, CsyncException {
        socket = new Socket();
        socket.connect(new InetSocketAddress(config.host(), config.port()), (int)
                config.connectTimeout().toMillis());
        socket.setTcpNoDelay(true);
        socket.setKeepAlive(true);
        socket.setSoTimeout((int) config.readTimeout().toMillis());
        reader = new DListReader(socket.getInputStream(), config.limits());
        setOutput(socket.getOutputStream());
        readBanner();
        if (config.tls() != null) {
            startTls();
        }
        authenticate();
        if (config.compress() && capabilities.contains("COMPRESS")) {
            sendLine("COMPRESS DEFLATE");
            String reply = reader.readLine();
            if (!reply.startsWith("OK")) {
                throw new CsyncProtocolException("COMPRESS refused: " + reply);
            }
            reader.switchInput(Deflate::inflating);
            setOutput(Deflate.deflating(socket.getOutputStream()));
        }
        if (config.sieveMailbox() && capabilities.contains("SIEVE-MAILBOX")) {
            for (CsyncReply r : execute(new CsyncCommand.ApplyCapabilities(List.of("SIEVE-MAILBOX")))) {
                if (r instanceof CsyncReply.EnabledReply e) {
                    enabled = e.capabilities();
                }
            }
        }
        LOG.info(
                "csync session to {}:{} open (compression {}, enabled {})",
                config.host(),
                config.port(),
                capabilities.contains("COMPRESS") && config.compress(),
                enabled);
    }

    /** STARTTLS, handshake, then the server sends its banner again (spec 1.6). */
    private void startTls() throws IOException {
        if (!capabilities.contains("STARTTLS")) {
            throw new CsyncProtocolException(
                    "TLS required but " + config.host() + ":" + config.port() + " does not offer STARTTLS");
        }
        sendLine("STARTTLS");
        String reply = reader.readLine();
        if (!reply.startsWith("OK")) {
            throw new CsyncProtocolException("STARTTLS refused: " + reply);
        }
        SSLSocket ssl =
                (SSLSocket) config.tls().getSocketFactory().createSocket(socket, config.host(), config.port(), true);
        ssl.setUseClientMode(true);
        SSLParameters params = ssl.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        ssl.setSSLParameters(params);
        ssl.startHandshake();
        socket = ssl;
        reader = new DListReader(ssl.getInputStream(), config.limits());
        setOutput(ssl.getOutputStream());
        readBanner();
    }

    private void setOutput(OutputStream raw) {
        out = raw instanceof BufferedOutputStream ? raw : new BufferedOutputStream(raw, 65536);
        writer = new DListWriter(out, DListWriter.Mode.CLIENT);
    }

    private void readBanner() throws IOException {
        Set<String> caps = new LinkedHashSet<>();
        while (true) {
            String line = reader.readLine();
            if (!line.startsWith("* ")) {
                throw new CsyncProtocolException("unexpected banner line: " + line);
            }
            String rest = line.substring(2);
            if (rest.startsWith("OK")) {
                serverGreeting = rest;
                capabilities = Set.copyOf(caps);
                return;
            }
            caps.add(rest.split(" ", 2)[0].toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** The SASL PLAIN initial response line sync_client sends (no authorization id). */
    static String plainAuthLine(String authName, String password) {
        byte[] plain = ("\0" + authName + "\0" + password).getBytes(StandardCharsets.UTF_8);
        return "AUTHENTICATE PLAIN " + Base64.getEncoder().encodeToString(plain);
    }

    private void authenticate() throws IOException, CsyncException {
        sendLine(plainAuthLine(config.authName(), config.password()));
        String reply = reader.readLine();
        if (reply.startsWith("NO")) {
            throw new CsyncException(CsyncError.INVALID_USER, "authentication failed: " + reply);
        }
        if (!reply.startsWith("OK")) {
            throw new CsyncProtocolException("AUTHENTICATE: " + reply);
        }
    }

    private void sendLine(String line) throws IOException {
        writer.writeRaw(line);
        writer.writeCrlf();
        out.flush();
    }

    /** Capability names from the banner (SASL, STARTTLS, COMPRESS, SIEVE-MAILBOX, ...). */
    public Set<String> serverCapabilities() {
        return capabilities;
    }

    /** The {@code * OK ...} banner text, e.g. {@code OK replica Cyrus sync server 3.6.1}. */
    public String serverGreeting() {
        return serverGreeting;
    }

    /** Capabilities the server confirmed in {@code * ENABLED}. */
    public List<String> enabledCapabilities() {
        return enabled;
    }

    /**
     * Sends one command and reads its data lines. {@code NO IMAP_...} becomes a
     * {@link CsyncException} with the mapped {@link CsyncError}; BAD/BYE a
     * {@link CsyncProtocolException}. Bodies of {@code * MESSAGE} replies belong to the caller.
     */
    public List<CsyncReply> execute(CsyncCommand command) throws IOException, CsyncException {
        writer.writeRaw(command.verb() + " ");
        writer.writeKeyed(command.toDKeyed());
        writer.writeCrlf();
        out.flush();
        return readResponse(command.verb() + " " + command.toDKeyed().key());
    }

    private List<CsyncReply> readResponse(String what) throws IOException, CsyncException {
        List<CsyncReply> replies = new ArrayList<>();
        while (true) {
            reader.beginLine();
            String word = reader.readWord();
            if (word.equals("*")) {
                try {
                    reader.skipBlanks();
                    DKeyed keyed = reader.readKeyed();
                    reader.readEndOfLine();
                    replies.add(CsyncReply.decode(keyed));
                } catch (DListException e) {
                    throw new CsyncProtocolException(what + ": unparseable reply: " + e.getMessage());
                }
                continue;
            }
            String text = reader.readLine().stripLeading();
            switch (word) {
                case "OK":
                    return replies;
                case "NO":
                    throw new CsyncException(CsyncError.fromResponse(text), what + ": NO " + text);
                default:
                    throw new CsyncProtocolException(what + ": " + word + " " + text);
            }
        }
    }

    /** Liveness ping. */
    public void noop() throws IOException, CsyncException {
        simple("NOOP");
    }

    /** Discards what the server staged in this session. */
    public void restart() throws IOException, CsyncException {
        simple("RESTART");
    }

    private void simple(String verb) throws IOException, CsyncException {
        sendLine(verb);
        readResponse(verb);
    }

    /** Ends the session politely ({@code EXIT}) and closes the socket. */
    @Override
    public void close() {
        if (socket != null && !socket.isClosed()) {
            try {
                simple("EXIT");
            } catch (IOException | CsyncException e) {
                LOG.debug("EXIT failed", e);
            }
        }
        closeQuietly();
    }

    private void closeQuietly() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                LOG.debug("closing csync socket", e);
            }
        }
    }
}
