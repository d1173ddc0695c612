package io.mailstream.sinks;

import java.io.IOException;
import java.io.InputStream;

/**
 * A message body read from the store: its exact bytes (decompressed) and their length.
 * Close it to release the file.
 */
public record StoredBody(String guid, long size, InputStream content) implements AutoCloseable {
    @Override
    public void close() throws IOException {
        content.close();
    }
}
