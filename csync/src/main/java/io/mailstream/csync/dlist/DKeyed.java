package io.mailstream.csync.dlist;

/** A top-level keyed value: {@code MAILBOX %(...)} in {@code APPLY MAILBOX %(...)}. */
public record DKeyed(String key, DValue value) {}
