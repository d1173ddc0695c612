package io.mailstream.csync.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A csync (Cyrus sync_server compatible) listener. Each connection runs on its own thread from a
 * bounded pool; connections beyond {@link CsyncServerConfig#maxSessions()} get {@code BYE}.
 * <pre>
 * try (CsyncServer server = CsyncServer.start(config)) {
 *     int port = server.getPort();
 *     ...
 * }
 * </pre>
 */
public final class CsyncServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CsyncServer.class);
    static final String VERSION = "mailstream-" + versionOf();

    private final CsyncServerConfig config;
    private final ServerSocket listener;
    private final ExecutorService pool;
    private final Thread acceptor;
    private final Set<CsyncSession> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicLong sessionIds = new AtomicLong();
    private final AtomicLong internalErrors = new AtomicLong();
    private volatile boolean stopping;

    private CsyncServer(CsyncServerConfig config) throws IOException {
        this.config = config;
        this.listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(config.bind());
        this.pool = new ThreadPoolExecutor(config.maxSessions(), config.maxSessions(), 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "csync-session");
                    t.setDaemon(true);
                    return t;
                });
        this.acceptor = new Thread(this::acceptLoop, "csync-accept-" + getPort());
        acceptor.setDaemon(true);
    }

    /** Binds and starts accepting. */
    public static CsyncServer start(CsyncServerConfig config) throws IOException {
        CsyncServer server = new CsyncServer(config);
        server.acceptor.start();
        LOG.info("csync server listening on {}", server.listener.getLocalSocketAddress());
        return server;
    }

    /** The bound port (useful with port 0). */
    public int getPort() {
        return listener.getLocalPort();
    }

    public CsyncServerConfig config() {
        return config;
    }

    /** Sessions currently connected. */
    public int activeSessions() {
        return sessions.size();
    }

    private void acceptLoop() {
        while (!stopping) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (!stopping) {
                    LOG.error("csync accept failed; listener stops", e);
                }
                return;
            }
            CsyncSession session = new CsyncSession(this, socket, sessionIds.incrementAndGet());
            sessions.add(session);
            try {
                pool.execute(session);
            } catch (RejectedExecutionException e) {
                sessions.remove(session);
                LOG.warn("refusing csync connection from {}: {} sessions busy", socket.getRemoteSocketAddress(),
                        config.maxSessions());
                refuse(socket);
            }
        }
    }

    private static void refuse(Socket socket) {
        try (socket) {
            socket.getOutputStream().write("BYE Too many sessions\r\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            LOG.debug("could not refuse connection cleanly", e);
        }
    }

    /** Sessions that died of an unexpected exception in the protocol code (a bug; 0 in a healthy server). */
    public long internalErrorCount() {
        return internalErrors.get();
    }

    void internalError() {
        internalErrors.incrementAndGet();
    }

    void ended(CsyncSession session) {
        sessions.remove(session);
    }

    boolean isStopping() {
        return stopping;
    }

    /**
     * Stops accepting, lets running commands finish for up to {@code stopGrace}, then says
     * {@code BYE shutting down} to idle sessions and closes them.
     */
    @Override
    public void close() {
        stopping = true;
        try {
            listener.close();
        } catch (IOException e) {
            LOG.debug("closing listener", e);
        }
        long deadline = System.nanoTime() + config.stopGrace().toNanos();
        for (CsyncSession s : sessions) {
            s.shutdown(Math.max(0, deadline - System.nanoTime()));
        }
        pool.shutdown();
        try {
            if (!pool.awaitTermination(config.stopGrace().toMillis() + 1000, TimeUnit.MILLISECONDS)) {
                LOG.warn("csync sessions still running after stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            acceptor.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("csync server on port {} stopped", listener.getLocalPort());
    }

    private static String versionOf() {
        String v = CsyncServer.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }

}
