package io.mailstream.csync.client;

import java.io.IOException;

/** The server answered BAD, BYE or something unparseable: the session is not usable as is. */
public class CsyncProtocolException extends IOException {
    public CsyncProtocolException(String message) {
        super(message);
    }
}
