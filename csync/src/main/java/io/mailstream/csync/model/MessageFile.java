package io.mailstream.csync.model;

import io.mailstream.csync.dlist.DFile;
import io.mailstream.csync.dlist.MessageBody;

/**
 * A message body in transit: the {@code %{partition guid size}} file literal of APPLY MESSAGE and
 * {@code * MESSAGE}. {@link #guid()} is what the sender claims; check it against
 * {@code body().sha1Hex()} before trusting it.
 */
public record MessageFile(String partition, Guid guid, MessageBody body) {

    public static MessageFile from(DFile f) {
        return new MessageFile(f.partition(), Guid.of(f.guid()), f.body());
    }

    public static MessageFile of(String partition, byte[] message) {
        return new MessageFile(partition, Guid.sha1(message), MessageBody.of(message));
    }

    public boolean guidMatchesBody() {
        return guid.hex().equals(body.sha1Hex());
    }

    public DFile toDList() {
        return new DFile(partition, guid.hex(), body);
    }
}
