package io.mailstream.csync.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A csync (Cyrus sync_server compatible) listener. Each connection runs on its own thread.
 *
 * <p>Connections that have not authenticated yet have a budget of their own, separate from
 * {@link CsyncServerConfig#maxSessions()}: clients that connect and never log in cannot take the
 * slots of the primary. A new connection is always let in; when its address, or the server,
 * already holds as many unauthenticated connections as allowed, the oldest of them is closed
 * ({@code BYE}) instead. A real client authenticates within milliseconds of connecting, so it
 * gets through; one that does not authenticate within {@link CsyncServerConfig#authTimeout()} is
 * closed anyway. Authenticated sessions beyond {@code maxSessions} are refused with {@code BYE}.
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
    private final ScheduledExecutorService deadlines;
    private final Thread acceptor;
    private final Set<CsyncSession> sessions = ConcurrentHashMap.newKeySet();
    /** Connections not authenticated yet, oldest first; guarded by itself, as is {@link #authenticated}. */
    private final Deque<CsyncSession> unauthenticated = new ArrayDeque<>();

    private final Set<CsyncSession> authenticated = new java.util.HashSet<>();
    private final AtomicLong sessionIds = new AtomicLong();
    private final AtomicLong internalErrors = new AtomicLong();
    private final AtomicLong unauthenticatedClosed = new AtomicLong();
    private final AtomicLong lastEvictionWarning = new AtomicLong();
    private volatile boolean stopping;

    private CsyncServer(CsyncServerConfig config) throws IOException {
        this.config = config;
        this.listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(config.bind());
        // Unbounded here, bounded by admission: maxSessions + maxUnauthenticated threads at most.
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "csync-session");
            t.setDaemon(true);
            return t;
        });
        java.util.concurrent.ScheduledThreadPoolExecutor timer =
                new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
                    Thread t = new Thread(r, "csync-auth-deadline");
                    t.setDaemon(true);
                    return t;
                });
        timer.setRemoveOnCancelPolicy(true); // a flood of connections must not pile up finished deadlines
        this.deadlines = timer;
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
                if (stopping || listener.isClosed()) {
                    return;
                }
                // Out of file descriptors under a flood, say: the listener must outlive it, not stop for good.
                LOG.warn("csync accept failed, retrying in 100 ms: {}", e.toString());
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
                continue;
            }
            CsyncSession session = new CsyncSession(this, socket, sessionIds.incrementAndGet());
            CsyncSession evicted = admit(session);
            if (evicted != null) {
                evicted.evict("Too many unauthenticated connections", deadlines);
            }
            sessions.add(session);
            try {
                session.authDeadline = deadlines.schedule(
                        () -> {
                            if (leaveUnauthenticated(session)) {
                                LOG.info(
                                        "csync session {} from {} did not authenticate within {}; closing",
                                        session.id(),
                                        socket.getRemoteSocketAddress(),
                                        config.authTimeout());
                                unauthenticatedClosed.incrementAndGet();
                                session.evict("Authentication timeout", deadlines);
                            }
                        },
                        config.authTimeout().toMillis(),
                        TimeUnit.MILLISECONDS);
                pool.execute(session);
            } catch (RejectedExecutionException e) {
                // only while stopping
                ended(session);
                session.evict("shutting down", deadlines);
            }
        }
    }

    /**
     * Takes a new connection into the unauthenticated budget; returns the connection that has to
     * give way for it, if any: the oldest of its own address when that address is at its share,
     * else, when the whole budget is used, the oldest of the address that holds the most.
     */
    private CsyncSession admit(CsyncSession session) {
        InetAddress from = session.remoteAddress();
        CsyncSession victim = null;
        synchronized (unauthenticated) {
            int sameAddress = 0;
            for (CsyncSession s : unauthenticated) {
                if (s.remoteAddress().equals(from)) {
                    sameAddress++;
                    if (victim == null) {
                        victim = s;
                    }
                }
            }
            if (sameAddress < config.maxUnauthenticatedPerAddress()) {
                victim = null;
                if (unauthenticated.size() >= config.maxUnauthenticated()) {
                    victim = oldestOfBusiestAddress();
                }
            }
            if (victim != null) {
                unauthenticated.remove(victim);
            }
            unauthenticated.addLast(session);
        }
        if (victim != null) {
            unauthenticatedClosed.incrementAndGet();
            long now = System.nanoTime();
            long last = lastEvictionWarning.get();
            if (now - last > TimeUnit.SECONDS.toNanos(10) && lastEvictionWarning.compareAndSet(last, now)) {
                LOG.warn(
                        "csync connection from {} closed unauthenticated to make room for one from {} (at most {} per"
                                + " address, {} in all, may wait to authenticate; {} closed so far)",
                        victim.remoteAddress(),
                        from,
                        config.maxUnauthenticatedPerAddress(),
                        config.maxUnauthenticated(),
                        unauthenticatedClosed.get());
            }
        }
        return victim;
    }

    private CsyncSession oldestOfBusiestAddress() {
        Map<InetAddress, Integer> counts = new HashMap<>();
        InetAddress busiest = null;
        int most = 0;
        for (CsyncSession s : unauthenticated) {
            int n = counts.merge(s.remoteAddress(), 1, Integer::sum);
            if (n > most) {
                most = n;
                busiest = s.remoteAddress();
            }
        }
        for (CsyncSession s : unauthenticated) {
            if (s.remoteAddress().equals(busiest)) {
                return s;
            }
        }
        return null;
    }

    /** Takes a connection out of the unauthenticated budget; false if it was no longer there (logged in, or gone). */
    private boolean leaveUnauthenticated(CsyncSession session) {
        synchronized (unauthenticated) {
            return unauthenticated.remove(session);
        }
    }

    /**
     * A session's credentials were accepted: it leaves the unauthenticated budget and takes a
     * session slot. Null when it may go on; otherwise why it must end (it gave way to a newer
     * connection meanwhile, or every session slot is taken).
     */
    String promote(CsyncSession session) {
        synchronized (unauthenticated) {
            if (!unauthenticated.remove(session)) {
                // it was closed meanwhile: it gave way to a newer connection, or its time ran out
                return "Connection closed before authentication completed";
            }
            if (authenticated.size() >= config.maxSessions()) {
                LOG.warn(
                        "refusing csync session {} from {}: all {} sessions busy",
                        session.id(),
                        session.remoteAddress(),
                        config.maxSessions());
                return "Too many sessions";
            }
            authenticated.add(session);
            return null;
        }
    }

    /** Unauthenticated connections closed so far, because newer ones needed room or their time to authenticate passed. */
    public long unauthenticatedClosedCount() {
        return unauthenticatedClosed.get();
    }

    /**
     * Sessions that died of an unexpected exception in the protocol code, and commands a handler
     * failed with one (a bug either way; 0 in a healthy server).
     */
    public long internalErrorCount() {
        return internalErrors.get();
    }

    void internalError() {
        internalErrors.incrementAndGet();
    }

    void ended(CsyncSession session) {
        java.util.concurrent.Future<?> deadline = session.authDeadline;
        if (deadline != null) {
            deadline.cancel(false);
        }
        if (sessions.remove(session)) {
            synchronized (unauthenticated) {
                unauthenticated.remove(session);
                authenticated.remove(session);
            }
        }
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
        deadlines.shutdownNow();
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
