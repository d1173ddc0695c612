package io.mailstream.csync.server;

/** Creates one {@link CsyncSessionHandler} per authenticated csync connection. */
@FunctionalInterface
public interface CsyncHandlerFactory {
    CsyncSessionHandler openSession(SessionInfo session);
}
