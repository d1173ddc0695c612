package io.mailstream.bridge.capture;

import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.Envelope;
import java.util.UUID;

/**
 * Who writes the events of a capture: its server id, site, the tier whose Cyrus feeds it and the
 * primary epoch it holds (from mailstream.control). Stamps the envelope; the sequence is the
 * caller's (durable) counter. Streams judges each event by the tier and epoch stamped here.
 */
public record CaptureSource(String serverId, String site, String tier, long epoch) {
    /** The tier of a single-site setup, whose one Cyrus primary is not listed among the tiers. */
    public static final String TIER = "primary";

    public CaptureSource(String serverId, String site, long epoch) {
        this(serverId, site, TIER, epoch);
    }

    /** The same source at another epoch. */
    public CaptureSource atEpoch(long newEpoch) {
        return new CaptureSource(serverId, site, tier, newEpoch);
    }

    public ChangeEvent event(Change change, long sequence, long captureTime) {
        Envelope envelope = Envelope.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setSourceServerId(serverId)
                .setSite(site)
                .setTier(tier)
                .setEpoch(epoch)
                .setPartitionKey(change.partitionKey())
                .setMailboxUniqueId(change.mailboxUniqueId())
                .setCaptureTime(captureTime)
                .setSequence(sequence)
                .build();
        return ChangeEvent.newBuilder()
                .setEnvelope(envelope)
                .setPayload(change.payload())
                .build();
    }
}
