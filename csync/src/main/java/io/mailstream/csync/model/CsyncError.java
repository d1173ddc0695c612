package io.mailstream.csync.model;

import java.util.Optional;

/**
 * Result codes of APPLY/GET with the human texts Cyrus 3.6 prints (spec 1.9). On the wire a
 * failure is {@code NO <code> <text>}; the 3.6 client recognises a code only when a space
 * follows it, so {@link #responseText} always appends text.
 */
public enum CsyncError {
    INVALID_USER("IMAP_INVALID_USER", "No Such User"),
    MAILBOX_NONEXISTENT("IMAP_MAILBOX_NONEXISTENT", "No Such Mailbox"),
    MAILBOX_LOCKED("IMAP_MAILBOX_LOCKED", "Mailbox locked"),
    MAILBOX_MOVED("IMAP_MAILBOX_MOVED", "Mailbox exists with another name or uniqueid"),
    MAILBOX_NOTSUPPORTED("IMAP_MAILBOX_NOTSUPPORTED", "Operation is not supported on mailbox"),
    SYNC_CHECKSUM("IMAP_SYNC_CHECKSUM", "Checksum Failure"),
    SYNC_CHANGED("IMAP_SYNC_CHANGED", "Changed since last sync"),
    SYNC_BADSIEVE("IMAP_SYNC_BADSIEVE", "Sieve script compilation failure"),
    PROTOCOL_ERROR("IMAP_PROTOCOL_ERROR", "Protocol error"),
    /** Cyrus prints no text for this one; we add one so that clients can recognise the code. */
    PROTOCOL_BAD_PARAMETERS("IMAP_PROTOCOL_BAD_PARAMETERS", "Bad parameters"),
    /** Not in sync_client's table (it sees "remote denied"), but any NO makes it retry later. */
    IOERROR("IMAP_IOERROR", "System I/O error"),
    /** Temporarily unavailable (e.g. the capture cannot reach Kafka): Cyrus keeps the change and retries. */
    AGAIN("IMAP_AGAIN", "Resource temporarily unavailable"),
    /** A NO whose text names no known code. */
    UNKNOWN(null, "Unknown error");

    private final String code;
    private final String text;

    CsyncError(String code, String text) {
        this.code = code;
        this.text = text;
    }

    /** The {@code IMAP_*} name, or null for {@link #UNKNOWN}. */
    public String code() {
        return code;
    }

    public String text() {
        return text;
    }

    /** The text after {@code NO } on the completion line. */
    public String responseText() {
        return code == null ? text : code + " " + text;
    }

    /** Maps the text after {@code NO } the way sync_client does: code name followed by a space. */
    public static CsyncError fromResponse(String text) {
        return find(text).orElse(UNKNOWN);
    }

    private static Optional<CsyncError> find(String text) {
        for (CsyncError e : values()) {
            if (e.code != null && text.startsWith(e.code + " ")) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }
}
