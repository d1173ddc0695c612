package io.mailstream.schemas.content;

import java.io.IOException;

/** Message content whose chunks or bytes do not add up to the message its GUID names. */
public final class ContentIntegrityException extends IOException {

    ContentIntegrityException(String message) {
        super(message);
    }
}
