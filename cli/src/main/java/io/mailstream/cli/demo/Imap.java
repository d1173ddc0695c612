package io.mailstream.cli.demo;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The few IMAP commands the demo's users issue (RFC 3501 and MOVE, RFC 6851). Responses are read
 * line by line up to the tagged one; the commands used return no literals.
 */
final class Imap extends MailConnection {
    private int tag;

    Imap(String host, int port, String user, String password) throws IOException {
        super(host, port);
        readLine(); // greeting
        command("LOGIN " + quote(user) + " " + quote(password));
    }

    /** Runs a command; returns its untagged lines; fails on NO or BAD. */
    List<String> command(String command) throws IOException {
        String t = "d" + (++tag);
        sendLine(t + " " + command);
        List<String> untagged = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line.startsWith(t + " ")) {
                if (!line.startsWith(t + " OK")) throw new IOException("IMAP " + command.split(" ")[0] + ": " + line);
                return untagged;
            }
            untagged.add(line);
        }
    }

    /** UIDs of the selected mailbox, ascending. */
    List<Long> uids() throws IOException {
        List<Long> out = new ArrayList<>();
        for (String line : command("UID SEARCH ALL")) {
            if (!line.startsWith("* SEARCH")) continue;
            for (String uid : line.substring("* SEARCH".length()).trim().split(" ")) {
                if (!uid.isEmpty()) out.add(Long.parseLong(uid));
            }
        }
        return out;
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    @Override
    public void close() {
        try {
            sendLine("z LOGOUT");
        } catch (IOException ignored) {
            // the server may have gone already
        }
        super.close();
    }
}
