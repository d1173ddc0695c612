package io.mailstream.csync.dlist;

/** A dlist value did not have the shape or type a command needs (missing key, bad number...). */
public class DListTypeException extends RuntimeException {
    public DListTypeException(String message) {
        super(message);
    }
}
