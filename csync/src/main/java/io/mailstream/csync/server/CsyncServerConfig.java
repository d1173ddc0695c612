package io.mailstream.csync.server;

import io.mailstream.csync.dlist.DListLimits;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * Settings of a {@link CsyncServer}; build with {@link #builder}.
 *
 * @param bind              address to listen on (port 0 = any free port, see {@link CsyncServer#getPort()})
 * @param serverName        host name in the {@code * OK} banner line
 * @param authenticator     checks AUTHENTICATE PLAIN
 * @param handlers          creates the per-session handler
 * @param maxSessions       concurrent authenticated sessions; more are refused with BYE
 * @param maxUnauthenticated connections that have not authenticated yet, over all addresses; one more
 *                          closes the oldest of the address holding the most
 * @param maxUnauthenticatedPerAddress such connections from one address; one more closes its oldest
 * @param authTimeout       time from connecting to a successful AUTHENTICATE; then the connection is closed
 * @param failedAuthPause   delay before answering a failed AUTHENTICATE (Cyrus failedloginpause, 3 s)
 * @param idleTimeout       inactivity limit per session (Cyrus sync_timeout)
 * @param tls               non-null: offer STARTTLS with this context
 * @param compression       offer COMPRESS DEFLATE
 * @param sieveMailbox      offer SIEVE-MAILBOX (scripts then arrive as #sieve mailboxes)
 * @param limits            parser limits and message spooling (default {@link DListLimits#SERVER})
 * @param stopGrace         how long {@link CsyncServer#close()} lets running commands finish
 */
public record CsyncServerConfig(
        InetSocketAddress bind,
        String serverName,
        Authenticator authenticator,
        CsyncHandlerFactory handlers,
        int maxSessions,
        Duration failedAuthPause,
        Duration idleTimeout,
        SSLContext tls,
        boolean compression,
        boolean sieveMailbox,
        DListLimits limits,
        Duration stopGrace,
        int maxUnauthenticated,
        int maxUnauthenticatedPerAddress,
        Duration authTimeout) {

    public CsyncServerConfig {
        Objects.requireNonNull(bind);
        Objects.requireNonNull(authenticator);
        Objects.requireNonNull(handlers);
        if (maxSessions < 1 || maxUnauthenticated < 1 || maxUnauthenticatedPerAddress < 1) {
            throw new IllegalArgumentException("session and connection limits must be at least 1");
        }
    }

    /** Leaves out the authenticator: whatever it holds (a password) is no business of a log line. */
    @Override
    public String toString() {
        return "CsyncServerConfig[bind=" + bind + ", serverName=" + serverName + ", maxSessions=" + maxSessions
                + ", maxUnauthenticated=" + maxUnauthenticated + ", maxUnauthenticatedPerAddress="
                + maxUnauthenticatedPerAddress + ", authTimeout=" + authTimeout + ", idleTimeout=" + idleTimeout
                + ", tls=" + (tls != null) + ", compression=" + compression + ", sieveMailbox=" + sieveMailbox
                + ", limits=" + limits + "]";
    }

    public static Builder builder(Authenticator authenticator, CsyncHandlerFactory handlers) {
        return new Builder(authenticator, handlers);
    }

    public static final class Builder {
        private InetSocketAddress bind = new InetSocketAddress("127.0.0.1", 0);
        private String serverName = "localhost";
        private final Authenticator authenticator;
        private final CsyncHandlerFactory handlers;
        private int maxSessions = 8;
        private Duration failedAuthPause = Duration.ofSeconds(3);
        private Duration idleTimeout = Duration.ofMinutes(30);
        private SSLContext tls;
        private boolean compression = true;
        private boolean sieveMailbox;
        private DListLimits limits = DListLimits.SERVER;
        private Duration stopGrace = Duration.ofSeconds(5);
        private int maxUnauthenticated = 32;
        private int maxUnauthenticatedPerAddress = 4;
        private Duration authTimeout = Duration.ofSeconds(30);

        private Builder(Authenticator authenticator, CsyncHandlerFactory handlers) {
            this.authenticator = authenticator;
            this.handlers = handlers;
        }

        public Builder bind(InetSocketAddress v) {
            bind = v;
            return this;
        }

        public Builder serverName(String v) {
            serverName = v;
            return this;
        }

        public Builder maxSessions(int v) {
            maxSessions = v;
            return this;
        }

        public Builder failedAuthPause(Duration v) {
            failedAuthPause = v;
            return this;
        }

        public Builder idleTimeout(Duration v) {
            idleTimeout = v;
            return this;
        }

        public Builder tls(SSLContext v) {
            tls = v;
            return this;
        }

        public Builder compression(boolean v) {
            compression = v;
            return this;
        }

        public Builder sieveMailbox(boolean v) {
            sieveMailbox = v;
            return this;
        }

        public Builder limits(DListLimits v) {
            limits = v;
            return this;
        }

        public Builder stopGrace(Duration v) {
            stopGrace = v;
            return this;
        }

        public Builder maxUnauthenticated(int v) {
            maxUnauthenticated = v;
            return this;
        }

        public Builder maxUnauthenticatedPerAddress(int v) {
            maxUnauthenticatedPerAddress = v;
            return this;
        }

        public Builder authTimeout(Duration v) {
            authTimeout = v;
            return this;
        }

        public CsyncServerConfig build() {
            return new CsyncServerConfig(
                    bind,
                    serverName,
                    authenticator,
                    handlers,
                    maxSessions,
                    failedAuthPause,
                    idleTimeout,
                    tls,
                    compression,
                    sieveMailbox,
                    limits,
                    stopGrace,
                    maxUnauthenticated,
                    maxUnauthenticatedPerAddress,
                    authTimeout);
        }
    }
}
