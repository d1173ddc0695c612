package io.mailstream.bridge.capture;

import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Envelope;

import java.util.UUID;

/**
 * Who writes the events of a capture: its server id, site and the primary epoch it holds
 * (from mailstream.control). Stamps the envelope; the sequence is the caller's (durable) counter.
 */
public record CaptureSource(String serverId, String site, long epoch) {
    /** Capture is the primary tier by definition; other tiers name themselves. */
    public static final String TIER = "primary";

    public ChangeEvent event(Change change, long sequence, long captureTime) {
        Envelope envelope = Envelope.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setSourceServerId(serverId)
                .setSite(site)
                .setTier(TIER)
                .setEpoch(epoch)
                .setPartitionKey(change.partitionKey())
                .setMailboxUniqueId(change.mailboxUniqueId())
                .setCaptureTime(captureTime)
                .setSequence(sequence)
                .build();
        return ChangeEvent.newBuilder().setEnvelope(envelope).setPayload(change.payload()).build();
    }
}
