package io.mailstream.testkit;

import java.util.Map;

/** Where a Cyrus server listens and who may log in: what clients and {@link ImapActionScript} need. */
public record CyrusEndpoint(
        String host, int imapPort, int lmtpPort, int sievePort, String admin, Map<String, String> passwords) {
    public String password(String user) {
        String pw = passwords.get(user);
        if (pw == null) throw new IllegalArgumentException("no password for " + user);
        return pw;
    }

    public ImapClient imap(String user) {
        return ImapClient.login(host, imapPort, user, password(user));
    }

    public ImapClient imapAdmin() {
        return imap(admin);
    }

    public ManageSieveClient sieve(String user) {
        return ManageSieveClient.login(host, sievePort, user, password(user));
    }

    public LmtpClient lmtp() {
        return LmtpClient.connect(host, lmtpPort);
    }
}
