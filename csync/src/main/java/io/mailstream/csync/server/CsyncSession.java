package io.mailstream.csync.server;

import io.mailstream.csync.dlist.DKeyed;
import io.mailstream.csync.dlist.DListException;
import io.mailstream.csync.dlist.DListReader;
import io.mailstream.csync.dlist.DListTypeException;
import io.mailstream.csync.dlist.DListWriter;
import io.mailstream.csync.dlist.Deflate;
import io.mailstream.csync.model.CsyncCommand;
import io.mailstream.csync.model.CsyncError;
import io.mailstream.csync.model.CsyncException;
import io.mailstream.csync.model.CsyncReply;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One csync connection: banner, authentication, transport switches, and the command loop (spec 1). */
final class CsyncSession implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(CsyncSession.class);
    static final String SIEVE_MAILBOX = "SIEVE-MAILBOX";

    private final CsyncServer server;
    private final CsyncServerConfig config;
    private final long id;
    /** Held while a command is executed, so that a server stop never interrupts a reply. */
    private final ReentrantLock commandLock = new ReentrantLock();

    private final InetAddress remoteAddress;
    private Socket socket;
    private DListReader reader;
    private OutputStream rawOut;
    private OutputStream out;
    private DListWriter writer;
    private boolean authenticated;
    private boolean compressed;
    private boolean tls;
    private volatile boolean stopped;
    /** Closes the connection if it has not authenticated in time; cancelled when it ends. */
    volatile java.util.concurrent.Future<?> authDeadline;
    /** Why another thread ended this connection; said as BYE when the session ends. */
    private volatile String evictedFor;

    private CsyncSessionHandler handler;

    CsyncSession(CsyncServer server, Socket socket, long id) {
        this.server = server;
        this.config = server.config();
        this.socket = socket;
        this.remoteAddress = socket.getInetAddress();
        this.id = id;
    }

    long id() {
        return id;
    }

    InetAddress remoteAddress() {
        return remoteAddress;
    }

    @Override
    public void run() {
        Thread.currentThread().setName("csync-session-" + id);
        try {
            // Until login the deadline applies; a read blocked longer than that is pointless.
            socket.setSoTimeout(timeoutMillis(
                    config.idleTimeout().compareTo(config.authTimeout()) < 0
                            ? config.idleTimeout()
                            : config.authTimeout()));
            socket.setTcpNoDelay(true);
            reader = new DListReader(socket.getInputStream(), config.limits());
            setOutput(socket.getOutputStream());
            commandLock.lock();
            try {
                sendBanner();
                out.flush();
            } finally {
                commandLock.unlock();
            }
            boolean done = false;
            while (!done && !stopped) {
                reader.beginLine();
                if (reader.atEof()) {
                    break;
                }
                String verb = reader.readWord();
                commandLock.lock();
                try {
                    if (stopped) {
                        break;
                    }
                    done = execute(verb.toUpperCase(Locale.ROOT));
                    out.flush();
                } finally {
                    reader.releaseSpooled();
                    commandLock.unlock();
                }
            }
        } catch (DListException e) {
            LOG.warn("csync session {}: fatal protocol error: {}", id, e.getMessage());
            fatal(e.getMessage());
        } catch (EOFException | SocketException e) {
            LOG.debug("csync session {} disconnected: {}", id, e.toString());
        } catch (SocketTimeoutException e) {
            LOG.info("csync session {} idle for {}; closing", id, config.idleTimeout());
        } catch (IOException e) {
            LOG.warn("csync session {} I/O error", id, e);
        } catch (RuntimeException e) {
            LOG.error("csync session {} failed", id, e);
            server.internalError();
            fatal("internal error");
        } finally {
            end();
        }
    }

    private void fatal(String text) {
        try {
            line("* Fatal error: " + text);
            out.flush();
        } catch (IOException | RuntimeException e) {
            LOG.debug("could not report fatal error", e);
        }
    }

    private void end() {
        if (evictedFor != null && out != null) {
            commandLock.lock();
            try {
                line("BYE " + evictedFor);
                out.flush();
            } catch (IOException | RuntimeException e) {
                LOG.debug("BYE not delivered", e);
            } finally {
                commandLock.unlock();
            }
        }
        if (handler != null) {
            try {
                handler.close();
            } catch (RuntimeException e) {
                LOG.warn("csync session {}: handler close failed", id, e);
            }
        }
        closeSocket();
        server.ended(this);
    }

    private void closeSocket() {
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("closing socket", e);
        }
    }

    private static int timeoutMillis(java.time.Duration d) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, d.toMillis()));
    }

    /**
     * Ends a connection from another thread (it gave way to a newer one, or its time to
     * authenticate passed). Its input is shut, so the session thread, wherever it waits for the
     * client, sees the end of the stream, says {@code BYE reason} and closes; if that thread is
     * stuck writing to a client that does not read, {@code hardClose} is the fallback.
     */
    void evict(String reason, java.util.concurrent.ScheduledExecutorService hardClose) {
        evictedFor = reason;
        stopped = true;
        try {
            socket.shutdownInput();
            hardClose.schedule(this::closeSocket, 2, TimeUnit.SECONDS);
        } catch (IOException | UnsupportedOperationException | java.util.concurrent.RejectedExecutionException e) {
            closeSocket();
        }
    }

    /** Called by {@link CsyncServer#close()}: BYE once the current command is done, then close. */
    void shutdown(long graceNanos) {
        try {
            if (commandLock.tryLock(graceNanos, TimeUnit.NANOSECONDS)) {
                try {
                    stopped = true;
                    if (out != null) {
                        line("BYE shutting down");
                        out.flush();
                    }
                } catch (IOException e) {
                    LOG.debug("BYE not delivered", e);
                } finally {
                    commandLock.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopped = true;
        closeSocket();
    }

    private void setOutput(OutputStream raw) {
        rawOut = raw;
        out = new BufferedOutputStream(raw, 65536);
        writer = new DListWriter(out, DListWriter.Mode.SERVER);
    }

    private void line(String text) throws IOException {
        writer.writeRaw(text);
        writer.writeCrlf();
    }

    private void sendBanner() throws IOException {
        if (!authenticated) {
            line("* SASL PLAIN");
            if (config.tls() != null && !tls) {
                line("* STARTTLS");
            }
            if (config.compression() && !compressed && !tls) {
                line("* COMPRESS DEFLATE");
            }
            if (config.sieveMailbox()) {
                line("* " + SIEVE_MAILBOX);
            }
        }
        line("* OK " + config.serverName() + " Cyrus sync server " + CsyncServer.VERSION);
    }

    /** Runs one command whose verb has been read; returns true when the session should end. */
    private boolean execute(String verb) throws IOException {
        switch (verb) {
            case "APPLY", "GET" -> applyOrGet(verb);
            case "AUTHENTICATE" -> {
                return authenticate();
            }
            case "COMPRESS" -> compress();
            case "STARTTLS" -> {
                if (noArguments("Starttls")) {
                    startTls();
                }
            }
            case "NOOP" -> {
                if (noArguments("Noop")) {
                    line("OK Noop completed");
                }
            }
            case "RESTART" -> {
                if (noArguments("Restart")) {
                    if (handler != null) {
                        handler.restart();
                    }
                    line("OK Restarting");
                }
            }
            case "EXIT" -> {
                if (noArguments("Exit")) {
                    line("OK Finished");
                    return true;
                }
            }
            case "RESTORE" -> {
                reader.skipLine();
                line(authenticated ? "NO " + CsyncError.PROTOCOL_ERROR.responseText() : "NO Please authenticate first");
            }
            default -> {
                reader.skipLine();
                line("BAD IMAP_PROTOCOL_ERROR Unrecognized command");
            }
        }
        return false;
    }

    /** Consumes the end of a command that takes no arguments; answers BAD if there are some. */
    private boolean noArguments(String name) throws IOException {
        reader.skipBlanks();
        if (!reader.atEndOfLine()) {
            reader.skipLine();
            line("BAD Unexpected extra arguments to " + name);
            return false;
        }
        reader.readEndOfLine();
        return true;
    }

    private void applyOrGet(String verb) throws IOException {
        if (!authenticated) {
            reader.skipLine();
            line("NO Please authenticate first");
            return;
        }
        DKeyed keyed;
        try {
            if (!reader.skipBlanks() || reader.atEndOfLine()) {
                throw new DListException(DListException.Kind.SYNTAX, "missing argument");
            }
            keyed = reader.readKeyed();
            reader.readEndOfLine();
        } catch (DListException e) {
            if (e.isFatal()) {
                throw e;
            }
            LOG.info("csync session {}: unparseable {} line: {}", id, verb, e.getMessage());
            reader.skipLine();
            line("BAD IMAP_PROTOCOL_ERROR Failed to parse " + verb + " line");
            return;
        }
        List<CsyncReply> replies;
        try {
            CsyncCommand command = CsyncCommand.decode(verb, keyed);
            LOG.debug("csync session {}: {} {}", id, verb, keyed.key());
            replies = command instanceof CsyncCommand.ApplyCapabilities caps
                    ? List.of(enable(caps))
                    : CommandDispatcher.dispatch(handler, command);
        } catch (CsyncException e) {
            LOG.info("csync session {}: {} {} -> {}", id, verb, keyed.key(), e.getMessage());
            line("NO " + e.error().responseText());
            return;
        } catch (DListTypeException e) {
            LOG.info("csync session {}: {} {} has bad parameters: {}", id, verb, keyed.key(), e.getMessage());
            line("NO " + CsyncError.PROTOCOL_BAD_PARAMETERS.responseText());
            return;
        } catch (RuntimeException e) {
            LOG.error("csync session {}: handler failed on {} {}", id, verb, keyed.key(), e);
            server.internalError();
            line("NO " + CsyncError.IOERROR.responseText());
            return;
        }
        for (CsyncReply r : replies) {
            writer.writeRaw("* ");
            writer.writeKeyed(r.toDKeyed());
            writer.writeCrlf();
        }
        line("OK success");
    }

    /** APPLY CAPABILITIES: enable what was asked and offered; 3.6 clients need the ENABLED line. */
    private CsyncReply enable(CsyncCommand.ApplyCapabilities caps) {
        Set<String> enabled = new LinkedHashSet<>();
        for (String c : caps.capabilities()) {
            if (config.sieveMailbox() && c.equalsIgnoreCase(SIEVE_MAILBOX)) {
                enabled.add(SIEVE_MAILBOX);
            }
        }
        handler.enabled(Set.copyOf(enabled));
        return new CsyncReply.EnabledReply(new ArrayList<>(enabled));
    }

    /** Returns true when the session must end (no session slot for it). */
    private boolean authenticate() throws IOException {
        if (authenticated) {
            reader.skipLine();
            line("BAD Already authenticated");
            return false;
        }
        String mech;
        String response = null;
        try {
            if (!reader.skipBlanks() || reader.atEndOfLine()) {
                reader.skipLine();
                line("BAD Missing required argument to Authenticate");
                return false;
            }
            mech = reader.readWord();
            if (reader.skipBlanks() && !reader.atEndOfLine()) {
                response = reader.readWord();
            }
            reader.readEndOfLine();
        } catch (DListException e) {
            if (e.isFatal()) {
                throw e;
            }
            reader.skipLine();
            line("BAD Unexpected extra arguments to Authenticate");
            return false;
        }
        if (!mech.equalsIgnoreCase("PLAIN")) {
            line("NO no mechanism available");
            return false;
        }
        if (response == null) {
            line("+ ");
            out.flush();
            response = reader.readLine();
            if (response.equals("*")) {
                line("BAD Client canceled authentication");
                return false;
            }
        }
        String[] parts = decodePlain(response);
        if (parts == null || !config.authenticator().authenticate(parts[0], parts[1], parts[2])) {
            LOG.warn("csync session {}: authentication failed for {}", id, parts == null ? "?" : parts[1]);
            out.flush();
            pause();
            line("NO authentication failure");
            return false;
        }
        String refused = server.promote(this);
        if (refused != null) {
            line("BYE " + refused);
            return true;
        }
        try {
            handler =
                    config.handlers().openSession(new SessionInfo(id, socket.getRemoteSocketAddress(), parts[1], tls));
        } catch (RuntimeException e) {
            LOG.error("csync session {}: handler could not open", id, e);
            line("NO " + CsyncError.IOERROR.responseText());
            return true;
        }
        authenticated = true;
        socket.setSoTimeout(timeoutMillis(config.idleTimeout()));
        LOG.info("csync session {} authenticated as {} from {}", id, parts[1], socket.getRemoteSocketAddress());
        line("OK Success (no protection)");
        return false;
    }

    /** SASL PLAIN: base64 of {@code authzid NUL authcid NUL password}; {@code =} is an empty response. */
    private static String[] decodePlain(String response) {
        byte[] raw;
        try {
            raw = response.equals("=") ? new byte[0] : Base64.getDecoder().decode(response.trim());
        } catch (IllegalArgumentException e) {
            return null;
        }
        String[] parts = new String(raw, StandardCharsets.UTF_8).split("\0", -1);
        return parts.length == 3 ? parts : null;
    }

    private void pause() {
        try {
            Thread.sleep(config.failedAuthPause().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void compress() throws IOException {
        if (!authenticated) {
            // sync_client compresses only after login; before it, inflating would only serve a deflate bomb.
            reader.skipLine();
            line("NO Please authenticate first");
            return;
        }
        String algorithm;
        try {
            if (!reader.skipBlanks() || reader.atEndOfLine()) {
                reader.skipLine();
                line("BAD Missing required argument to Compress");
                return;
            }
            algorithm = reader.readWord();
            reader.readEndOfLine();
        } catch (DListException e) {
            if (e.isFatal()) {
                throw e;
            }
            reader.skipLine();
            line("BAD Unexpected extra arguments to Compress");
            return;
        }
        if (compressed) {
            line("NO Compression already active: DEFLATE");
        } else if (!config.compression() || !algorithm.equalsIgnoreCase("DEFLATE")) {
            line("NO Unknown compression algorithm: " + algorithm);
        } else {
            line("OK " + algorithm + " active");
            out.flush();
            compressed = true;
            reader.switchInput(Deflate::inflating);
            out = Deflate.deflating(rawOut);
            writer = new DListWriter(out, DListWriter.Mode.SERVER);
        }
    }

    private void startTls() throws IOException {
        if (config.tls() == null) {
            line("BAD IMAP_PROTOCOL_ERROR Unrecognized command");
        } else if (authenticated) {
            line("BAD Can't Starttls after authentication");
        } else if (tls) {
            line("BAD Already did a successful Starttls");
        } else {
            line("OK Begin TLS negotiation now");
            out.flush();
            SSLSocket ssl = (SSLSocket) config.tls()
                    .getSocketFactory()
                    .createSocket(socket, socket.getInetAddress().getHostAddress(), socket.getPort(), true);
            ssl.setUseClientMode(false);
            try {
                ssl.startHandshake();
            } catch (IOException e) {
                LOG.warn("csync session {}: TLS handshake failed: {}", id, e.toString());
                throw new SocketException("Starttls failed");
            }
            socket = ssl;
            tls = true;
            // Anything pipelined after STARTTLS is discarded, as Cyrus does.
            reader.discardBuffered();
            reader.switchInput(ignored -> {
                try {
                    return ssl.getInputStream();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            setOutput(ssl.getOutputStream());
            sendBanner();
        }
    }
}
