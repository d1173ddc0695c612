package io.mailstream.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Minimal IMAP4rev1 client for tests (plus the extensions Cyrus replication touches: UIDPLUS, MOVE,
 * ACL, METADATA, QUOTA, CONDSTORE and Cyrus's admin-only SYNCGET). Not thread-safe.
 */
public final class ImapClient implements AutoCloseable {
    /** INTERNALDATE format of RFC 3501, e.g. {@code 05-Mar-2026 10:00:00 +0000}. */
    public static final DateTimeFormatter INTERNALDATE =
            DateTimeFormatter.ofPattern("dd-MMM-yyyy HH:mm:ss Z", Locale.ROOT);

    private static final Pattern CODE = Pattern.compile("\\[([A-Z-]+)(?: ([^\\]]*))?\\]");

    /** Untagged lines (literals inlined as on the wire) and the tagged completion. */
    public record Response(List<byte[]> untagged, String status, String text) {
        public boolean ok() {
            return status.equals("OK");
        }

        /** Untagged lines as text (UTF-8), without the leading {@code "* "}. */
        public List<String> lines() {
            return untagged.stream()
                    .map(b -> new String(b, StandardCharsets.UTF_8).substring(2))
                    .toList();
        }

        /** Tokens of the untagged lines whose first word (after "* ") is {@code keyword}; number-first lines match on the second word. */
        public List<List<Object>> tokens(String keyword) {
            List<List<Object>> out = new ArrayList<>();
            for (byte[] line : untagged) {
                List<Object> t = ResponseParser.parse(line, 2);
                if (!t.isEmpty() && keyword.equalsIgnoreCase(String.valueOf(t.get(0)))) out.add(t.subList(1, t.size()));
                else if (t.size() > 1 && keyword.equalsIgnoreCase(String.valueOf(t.get(1)))) out.add(t);
            }
            return out;
        }

        /** Value of a response code such as {@code [APPENDUID 17 3]} in the completion or untagged OKs. */
        public String code(String name) {
            List<String> texts = new ArrayList<>(lines());
            texts.add(text);
            for (String t : texts) {
                Matcher m = CODE.matcher(t);
                while (m.find()) if (m.group(1).equals(name)) return m.group(2) == null ? "" : m.group(2);
            }
            return null;
        }
    }

    public record MailboxInfo(long exists, long uidValidity, long uidNext, long highestModseq) {}

    public record ListEntry(List<String> attributes, String delimiter, String name) {}

    public record Message(long uid, List<String> flags, String internalDate, long size, long modseq, byte[] body) {}

    private final Socket socket;
    private final ProtocolReader reader;
    private final OutputStream out;
    private int tagCounter;

    private ImapClient(Socket socket) throws IOException {
        this.socket = socket;
        this.reader = new ProtocolReader(socket.getInputStream());
        // one flush per command: piecewise writes would stall on Nagle + delayed ACK (~40 ms each)
        this.out = new java.io.BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        String greeting = new String(reader.readLine(), StandardCharsets.UTF_8);
        if (!greeting.startsWith("* OK")) throw new ImapException("unexpected greeting: " + greeting);
    }

    public static ImapClient connect(String host, int port) {
        try {
            Socket s = new Socket();
            s.connect(new InetSocketAddress(host, port), 5000);
            s.setSoTimeout(60_000);
            s.setTcpNoDelay(true);
            return new ImapClient(s);
        } catch (IOException e) {
            throw new UncheckedIOException("IMAP connect " + host + ":" + port, e);
        }
    }

    /** Connects and logs in. */
    public static ImapClient login(String host, int port, String user, String password) {
        ImapClient c = connect(host, port);
        try {
            c.ok("LOGIN " + quote(user) + " " + quote(password));
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * Sends one command built from {@code parts}: Strings are sent as they are, byte arrays as synchronizing
     * literals. Returns the response whatever its status (NO/BAD included).
     */
    public Response command(Object... parts) {
        String tag = "T" + (++tagCounter);
        try {
            out.write((tag + " ").getBytes(StandardCharsets.UTF_8));
            List<byte[]> untagged = new ArrayList<>();
            for (Object part : parts) {
                if (part instanceof byte[] literal) {
                    out.write(("{" + literal.length + "}\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    byte[] line = reader.readResponseLine();
                    while (line.length > 0 && line[0] == '*') {
                        untagged.add(line);
                        line = reader.readResponseLine();
                    }
                    if (line.length == 0 || line[0] != '+') return completion(tag, untagged, line);
                    out.write(literal);
                } else {
                    out.write(part.toString().getBytes(StandardCharsets.UTF_8));
                }
            }
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            while (true) {
                byte[] line = reader.readResponseLine();
                if (line.length > 0 && line[0] == '*') untagged.add(line);
                else if (line.length > 0 && line[0] == '+')
                    throw new ImapException("unexpected continuation: " + text(line));
                else return completion(tag, untagged, line);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("IMAP " + describe(parts), e);
        }
    }

    /** Like {@link #command} but throws {@link ImapException} unless the status is OK. */
    public Response ok(Object... parts) {
        Response r = command(parts);
        if (!r.ok()) throw new ImapException(describe(parts) + " -> " + r.status() + " " + r.text());
        return r;
    }

    public void create(String mailbox) {
        ok("CREATE " + quote(mailbox));
    }

    public void delete(String mailbox) {
        ok("DELETE " + quote(mailbox));
    }

    public void rename(String from, String to) {
        ok("RENAME " + quote(from) + " " + quote(to));
    }

    public MailboxInfo select(String mailbox) {
        return open("SELECT", mailbox);
    }

    public MailboxInfo examine(String mailbox) {
        return open("EXAMINE", mailbox);
    }

    private MailboxInfo open(String verb, String mailbox) {
        Response r = ok(verb + " " + quote(mailbox));
        long exists = r.tokens("EXISTS").stream()
                .mapToLong(t -> Long.parseLong((String) t.get(0)))
                .findFirst()
                .orElse(0);
        return new MailboxInfo(
                exists, number(r.code("UIDVALIDITY")), number(r.code("UIDNEXT")), number(r.code("HIGHESTMODSEQ")));
    }

    /** Enables an extension (e.g. CONDSTORE) for this session. */
    public void enable(String capability) {
        ok("ENABLE " + capability);
    }

    /**
     * Appends a message; {@code internalDate} may be null (server time). Returns the new UID (APPENDUID).
     */
    public long append(String mailbox, List<String> flags, ZonedDateTime internalDate, byte[] message) {
        StringBuilder cmd = new StringBuilder("APPEND ").append(quote(mailbox));
        if (flags != null && !flags.isEmpty())
            cmd.append(" (").append(String.join(" ", flags)).append(')');
        if (internalDate != null)
            cmd.append(" \"").append(INTERNALDATE.format(internalDate)).append('"');
        Response r = ok(cmd.append(' ').toString(), message);
        String uid = r.code("APPENDUID");
        return uid == null ? -1 : Long.parseLong(uid.split(" ")[1]);
    }

    /** {@code UID STORE set +FLAGS|-FLAGS (flags)}; {@code add} picks + or -. */
    public void uidStore(String uidSet, boolean add, String... flags) {
        ok("UID STORE " + uidSet + (add ? " +FLAGS (" : " -FLAGS (") + String.join(" ", flags) + ")");
    }

    public void expunge() {
        ok("EXPUNGE");
    }

    public void uidExpunge(String uidSet) {
        ok("UID EXPUNGE " + uidSet);
    }

    public void uidMove(String uidSet, String target) {
        ok("UID MOVE " + uidSet + " " + quote(target));
    }

    public void uidCopy(String uidSet, String target) {
        ok("UID COPY " + uidSet + " " + quote(target));
    }

    public void subscribe(String mailbox) {
        ok("SUBSCRIBE " + quote(mailbox));
    }

    public void unsubscribe(String mailbox) {
        ok("UNSUBSCRIBE " + quote(mailbox));
    }

    public List<ListEntry> list(String reference, String pattern) {
        return listing("LIST", reference, pattern);
    }

    public List<ListEntry> lsub(String reference, String pattern) {
        return listing("LSUB", reference, pattern);
    }

    private List<ListEntry> listing(String verb, String reference, String pattern) {
        List<ListEntry> out = new ArrayList<>();
        for (List<Object> t :
                ok(verb + " " + quote(reference) + " " + quote(pattern)).tokens(verb)) {
            @SuppressWarnings("unchecked")
            List<Object> attrs = (List<Object>) t.get(0);
            out.add(new ListEntry(
                    attrs.stream().map(String::valueOf).toList(),
                    ResponseParser.string(t.get(1)),
                    ResponseParser.string(t.get(2))));
        }
        return out;
    }

    public void setAcl(String mailbox, String identifier, String rights) {
        ok("SETACL " + quote(mailbox) + " " + quote(identifier) + " " + quote(rights));
    }

    public void deleteAcl(String mailbox, String identifier) {
        ok("DELETEACL " + quote(mailbox) + " " + quote(identifier));
    }

    /** identifier -> rights, in server order. */
    public Map<String, String> getAcl(String mailbox) {
        Map<String, String> acl = new LinkedHashMap<>();
        for (List<Object> t : ok("GETACL " + quote(mailbox)).tokens("ACL")) {
            for (int i = 1; i + 1 < t.size(); i += 2)
                acl.put(ResponseParser.string(t.get(i)), ResponseParser.string(t.get(i + 1)));
        }
        return acl;
    }

    public String myRights(String mailbox) {
        return ResponseParser.string(
                ok("MYRIGHTS " + quote(mailbox)).tokens("MYRIGHTS").get(0).get(1));
    }

    /** Sets (or, with a null value, removes) one RFC 5464 entry; mailbox "" is the server. */
    public void setMetadata(String mailbox, String entry, String value) {
        if (value == null) ok("SETMETADATA " + quote(mailbox) + " (" + entry + " NIL)");
        else ok("SETMETADATA " + quote(mailbox) + " (" + entry + " ", value.getBytes(StandardCharsets.UTF_8), ")");
    }

    /** entry -> value for the entries that have a value. */
    public Map<String, String> getMetadata(String mailbox, String... entries) {
        Map<String, String> out = new LinkedHashMap<>();
        for (List<Object> t : ok("GETMETADATA " + quote(mailbox) + " (" + String.join(" ", entries) + ")")
                .tokens("METADATA")) {
            @SuppressWarnings("unchecked")
            List<Object> kv = (List<Object>) t.get(1);
            for (int i = 0; i + 1 < kv.size(); i += 2) {
                if (kv.get(i + 1) != null)
                    out.put(ResponseParser.string(kv.get(i)), ResponseParser.string(kv.get(i + 1)));
            }
        }
        return out;
    }

    /** {@code SETQUOTA root (RESOURCE limit ...)}; an empty map removes the quota. */
    public void setQuota(String root, Map<String, Long> limits) {
        StringBuilder sb = new StringBuilder();
        limits.forEach((k, v) ->
                sb.append(sb.length() == 0 ? "" : " ").append(k).append(' ').append(v));
        ok("SETQUOTA " + quote(root) + " (" + sb + ")");
    }

    /** resource -> {usage, limit} of a quota root. */
    public Map<String, long[]> getQuota(String root) {
        return quotas(ok("GETQUOTA " + quote(root))).getOrDefault(root, Map.of());
    }

    /** root -> (resource -> {usage, limit}) for every quota root of a mailbox. */
    public Map<String, Map<String, long[]>> getQuotaRoot(String mailbox) {
        return quotas(ok("GETQUOTAROOT " + quote(mailbox)));
    }

    private static Map<String, Map<String, long[]>> quotas(Response r) {
        Map<String, Map<String, long[]>> out = new LinkedHashMap<>();
        for (List<Object> t : r.tokens("QUOTAROOT")) {
            for (Object root : t.subList(1, t.size())) out.put(ResponseParser.string(root), new LinkedHashMap<>());
        }
        for (List<Object> t : r.tokens("QUOTA")) {
            Map<String, long[]> res = out.computeIfAbsent(ResponseParser.string(t.get(0)), k -> new LinkedHashMap<>());
            @SuppressWarnings("unchecked")
            List<Object> triples = (List<Object>) t.get(1);
            for (int i = 0; i + 2 < triples.size(); i += 3) {
                res.put((String) triples.get(i), new long[] {
                    number((String) triples.get(i + 1)), number((String) triples.get(i + 2))
                });
            }
        }
        return out;
    }

    /** item -> number, e.g. status("INBOX", "MESSAGES", "UIDNEXT"). */
    public Map<String, Long> status(String mailbox, String... items) {
        Map<String, Long> out = new LinkedHashMap<>();
        List<Object> t = ok("STATUS " + quote(mailbox) + " (" + String.join(" ", items) + ")")
                .tokens("STATUS")
                .get(0);
        @SuppressWarnings("unchecked")
        List<Object> kv = (List<Object>) t.get(1);
        for (int i = 0; i + 1 < kv.size(); i += 2) out.put((String) kv.get(i), number((String) kv.get(i + 1)));
        return out;
    }

    /**
     * {@code UID FETCH set (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] MODSEQ)} in the selected mailbox.
     * Enables CONDSTORE first (idempotent) so that MODSEQ is available.
     */
    public List<Message> uidFetch(String uidSet) {
        enable("CONDSTORE");
        List<Message> out = new ArrayList<>();
        for (List<Object> t : ok("UID FETCH " + uidSet + " (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] MODSEQ)")
                .tokens("FETCH")) {
            @SuppressWarnings("unchecked")
            List<Object> kv = (List<Object>) t.get(2);
            Map<String, Object> items = new LinkedHashMap<>();
            for (int i = 0; i + 1 < kv.size(); i += 2)
                items.put(((String) kv.get(i)).toUpperCase(Locale.ROOT), kv.get(i + 1));
            @SuppressWarnings("unchecked")
            List<Object> flags = (List<Object>) items.get("FLAGS");
            @SuppressWarnings("unchecked")
            List<Object> modseq = (List<Object>) items.get("MODSEQ");
            Object body = items.get("BODY[]");
            out.add(new Message(
                    number((String) items.get("UID")),
                    flags.stream().map(String::valueOf).toList(),
                    (String) items.get("INTERNALDATE"),
                    number((String) items.get("RFC822.SIZE")),
                    number((String) modseq.get(0)),
                    body instanceof byte[] b ? b : ResponseParser.string(body).getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    /**
     * Cyrus's admin-only {@code SYNCGET} (advertised as X-REPLICATION): the csync GET command over IMAP, e.g.
     * {@code syncGet("MAILBOXES (user.alice)")}, {@code syncGet("FULLMAILBOX user.alice")},
     * {@code syncGet("USER alice")}. Returns the untagged lines as on the wire (each starting with
     * {@code "* "}, literals inlined), e.g. {@code * MAILBOX %(UNIQUEID ... SYNC_CRC ...)}.
     */
    public List<byte[]> syncGet(String args) {
        return ok("SYNCGET " + args).untagged();
    }

    public void logout() {
        command("LOGOUT");
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a test connection: nothing useful to do
        }
    }

    /** IMAP quoted string (the values tests use never contain CR/LF; non-ASCII goes as UTF-8). */
    public static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private static Response completion(String tag, List<byte[]> untagged, byte[] line) {
        String text = text(line);
        if (!text.startsWith(tag + " ")) throw new ImapException("unexpected line (wanted " + tag + "): " + text);
        String rest = text.substring(tag.length() + 1);
        int sp = rest.indexOf(' ');
        return new Response(
                List.copyOf(untagged), sp < 0 ? rest : rest.substring(0, sp), sp < 0 ? "" : rest.substring(sp + 1));
    }

    private static String text(byte[] line) {
        return new String(line, StandardCharsets.UTF_8);
    }

    private static String describe(Object[] parts) {
        StringBuilder sb = new StringBuilder();
        for (Object p : parts) sb.append(p instanceof byte[] b ? "{" + b.length + "}" : p);
        String s = sb.toString();
        return s.startsWith("LOGIN ") ? "LOGIN ..." : s;
    }

    private static long number(String s) {
        return s == null ? -1 : Long.parseLong(s.trim());
    }
}
