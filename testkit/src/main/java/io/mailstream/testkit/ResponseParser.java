package io.mailstream.testkit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Tokenizes an IMAP-style response line (with inlined literals) into atoms (String), quoted strings
 * (String), literals (byte[]), NIL (null) and parenthesized lists (List). Brackets stay inside atoms,
 * so {@code BODY[]} is one atom.
 */
final class ResponseParser {
    private final byte[] s;
    private int pos;

    private ResponseParser(byte[] s, int pos) {
        this.s = s;
        this.pos = pos;
    }

    /** Parses the tokens of {@code line} starting at byte offset {@code from}. */
    static List<Object> parse(byte[] line, int from) {
        ResponseParser p = new ResponseParser(line, from);
        List<Object> out = new ArrayList<>();
        while (p.skipSpaces()) {
            out.add(p.value());
        }
        return out;
    }

    static String string(Object token) {
        if (token == null) return null;
        if (token instanceof byte[] b) return new String(b, StandardCharsets.UTF_8);
        return token.toString();
    }

    private boolean skipSpaces() {
        while (pos < s.length && s[pos] == ' ') pos++;
        return pos < s.length;
    }

    private Object value() {
        byte c = s[pos];
        if (c == '(') {
            pos++;
            List<Object> list = new ArrayList<>();
            while (skipSpaces() && s[pos] != ')') list.add(value());
            pos++;
            return list;
        }
        if (c == '"') return quoted();
        if (c == '{') return literal();
        int start = pos;
        int depth = 0;
        while (pos < s.length) {
            byte b = s[pos];
            if (b == '[') depth++;
            else if (b == ']') depth--;
            else if (depth == 0 && (b == ' ' || b == '(' || b == ')')) break;
            pos++;
        }
        String atom = new String(s, start, pos - start, StandardCharsets.UTF_8);
        return atom.equals("NIL") ? null : atom;
    }

    private String quoted() {
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        pos++;
        while (s[pos] != '"') {
            if (s[pos] == '\\') pos++;
            buf.write(s[pos++]);
        }
        pos++;
        return buf.toString(StandardCharsets.UTF_8);
    }

    private byte[] literal() {
        int close = pos;
        while (s[close] != '}') close++;
        String spec = new String(s, pos + 1, close - pos - 1, StandardCharsets.US_ASCII).replace("+", "");
        int size = Integer.parseInt(spec);
        int start = close + 3; // "}\r\n"
        pos = start + size;
        return java.util.Arrays.copyOfRange(s, start, start + size);
    }
}
