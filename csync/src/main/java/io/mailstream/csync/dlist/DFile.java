package io.mailstream.csync.dlist;

import java.util.Objects;

/**
 * A file literal {@code %{partition guid size}} CRLF bytes: a message body (spec 2.2). The GUID
 * is the one claimed by the sender; {@link MessageBody#sha1Hex()} is what the bytes hash to.
 */
public final class DFile extends DValue {
    private final String partition;
    private final String guid;
    private final MessageBody body;

    public DFile(String partition, String guid, MessageBody body) {
        this.partition = Objects.requireNonNull(partition);
        this.guid = Objects.requireNonNull(guid);
        this.body = Objects.requireNonNull(body);
    }

    public String partition() {
        return partition;
    }

    public String guid() {
        return guid;
    }

    public long size() {
        return body.size();
    }

    public MessageBody body() {
        return body;
    }

    @Override
    public DFile asFile() {
        return this;
    }

    @Override
    String kind() {
        return "file";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DFile f
                && f.partition.equals(partition)
                && f.guid.equals(guid)
                && f.body.contentEquals(body);
    }

    @Override
    public int hashCode() {
        return Objects.hash(partition, guid, body.size());
    }
}
