package io.mailstream.csync.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

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

    /**
     * Accepts exactly one user/password pair. The comparison takes the same time whatever is
     * wrong and however much of it matches (digests of equal length, compared in constant time),
     * so the answer's timing tells an attacker nothing about the password.
     */
    static Authenticator single(String user, String password) {
        byte[] wantUser = digest(user);
        byte[] wantPassword = digest(password);
        return (authz, authc, pw) -> {
            boolean userOk = MessageDigest.isEqual(wantUser, digest(authc));
            boolean passwordOk = MessageDigest.isEqual(wantPassword, digest(pw));
            return userOk & passwordOk & (authz.isEmpty() || authz.equals(authc));
        };
    }

    private static byte[] digest(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
