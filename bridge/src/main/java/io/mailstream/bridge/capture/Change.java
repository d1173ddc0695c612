package io.mailstream.bridge.capture;

import org.apache.avro.specific.SpecificRecord;

/**
 * One change event before its envelope is stamped: the payload (a member of the ChangeEvent
 * union), its partition key and the uniqueid of the mailbox it concerns (null when none).
 */
public record Change(String partitionKey, String mailboxUniqueId, SpecificRecord payload) {}
