package io.mailstream.csync.client;

import io.mailstream.csync.dlist.DListLimits;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * Settings of a {@link CsyncClient}.
 *
 * @param host               replica host
 * @param port               csync port
 * @param authName           SASL PLAIN authentication name (an admin on the replica)
 * @param password           its password
 * @param compress           use COMPRESS DEFLATE when the server offers it (never on top of TLS, as Cyrus)
 * @param sieveMailbox       send {@code APPLY CAPABILITIES (SIEVE-MAILBOX)} when offered
 * @param connectTimeout     TCP connect timeout
 * @param readTimeout        how long to wait for a reply before failing the command
 * @param initialBackoff     first wait between connection attempts (doubles each time)
 * @param maxBackoff         cap of the wait
 * @param maxConnectAttempts attempts before {@link CsyncClient#connect()} gives up
 * @param limits             parser limits for replies
 * @param tls                non-null: STARTTLS with this context before authenticating; a server that does
 *                           not offer STARTTLS is refused rather than sent the password in clear
 */
public record CsyncClientConfig(
        String host,
        int port,
        String authName,
        String password,
        boolean compress,
        boolean sieveMailbox,
        Duration connectTimeout,
        Duration readTimeout,
        Duration initialBackoff,
        Duration maxBackoff,
        int maxConnectAttempts,
        DListLimits limits,
        SSLContext tls) {
    public CsyncClientConfig {
        Objects.requireNonNull(host);
        Objects.requireNonNull(authName);
        Objects.requireNonNull(password);
    }

    /** Without the password, which must never reach a log line. */
    @Override
    public String toString() {
        return "CsyncClientConfig[host=" + host + ", port=" + port + ", authName=" + authName + ", password=******"
                + ", compress=" + compress + ", sieveMailbox=" + sieveMailbox + ", connectTimeout=" + connectTimeout
                + ", readTimeout=" + readTimeout + ", tls=" + (tls != null) + "]";
    }

    /** Defaults: compression on, no SIEVE-MAILBOX, 10 s connect, 5 min read, backoff 1 s..60 s, 5 attempts. */
    public static CsyncClientConfig of(String host, int port, String authName, String password) {
        return new CsyncClientConfig(
                host,
                port,
                authName,
                password,
                true,
                false,
                Duration.ofSeconds(10),
                Duration.ofMinutes(5),
                Duration.ofSeconds(1),
                Duration.ofSeconds(60),
                5,
                DListLimits.DEFAULTS,
                null);
    }

    public CsyncClientConfig withCompress(boolean v) {
        return new CsyncClientConfig(
                host,
                port,
                authName,
                password,
                v,
                sieveMailbox,
                connectTimeout,
                readTimeout,
                initialBackoff,
                maxBackoff,
                maxConnectAttempts,
                limits,
                tls);
    }

    public CsyncClientConfig withSieveMailbox(boolean v) {
        return new CsyncClientConfig(
                host,
                port,
                authName,
                password,
                compress,
                v,
                connectTimeout,
                readTimeout,
                initialBackoff,
                maxBackoff,
                maxConnectAttempts,
                limits,
                tls);
    }

    public CsyncClientConfig withStartTls(SSLContext v) {
        return new CsyncClientConfig(
                host,
                port,
                authName,
                password,
                compress,
                sieveMailbox,
                connectTimeout,
                readTimeout,
                initialBackoff,
                maxBackoff,
                maxConnectAttempts,
                limits,
                v);
    }

    public CsyncClientConfig withBackoff(Duration initial, Duration max, int attempts) {
        return new CsyncClientConfig(
                host,
                port,
                authName,
                password,
                compress,
                sieveMailbox,
                connectTimeout,
                readTimeout,
                initial,
                max,
                attempts,
                limits,
                tls);
    }
}
