package io.mailstream.csync.server;

import java.net.SocketAddress;

/**
 * What a handler learns about a new authenticated session.
 *
 * @param sessionId unique per server instance, for logs and staging
 * @param remote    the peer (the Cyrus master's sync_client)
 * @param userId    the authenticated SASL identity
 * @param tls       whether STARTTLS was done
 */
public record SessionInfo(long sessionId, SocketAddress remote, String userId, boolean tls) {}
