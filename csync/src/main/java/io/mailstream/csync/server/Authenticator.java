package io.mailstream.csync.server;

/** Checks SASL PLAIN credentials. The authenticated identity must be a replication admin. */
@FunctionalInterface
public interface Authenticator {
    /**
     * @param authzId  authorization id, usually empty (sync_client sends none)
     * @param authcId  authentication name ({@code sync_authname})
     * @param password the password
     * @return whether the session may replicate
     */
    boolean authenticate(String authzId, String authcId, String password);

    /** Accepts exactly one user/password pair. */
    static Authenticator single(String user, String password) {
        return (authz, authc, pw) -> (authz.isEmpty() || authz.equals(user)) && user.equals(authc) && password.equals(pw);
    }
}
