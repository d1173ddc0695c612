package io.mailstream.csync.dlist;

/** The bare word {@code NIL}: the null value (quoted "NIL" is an ordinary atom). */
public final class DNil extends DValue {
    public static final DNil NIL = new DNil();

    private DNil() {}

    @Override
    public boolean isNil() {
        return true;
    }

    @Override
    String kind() {
        return "NIL";
    }
}
