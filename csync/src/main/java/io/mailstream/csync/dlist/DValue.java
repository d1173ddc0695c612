package io.mailstream.csync.dlist;

/**
 * One dlist value as it travels on the csync wire (spec 2.1). Values parsed off the wire are
 * untyped byte strings; the typed accessors convert on demand and throw {@link DListTypeException}
 * when the text does not fully parse, which the server reports as IMAP_PROTOCOL_BAD_PARAMETERS.
 */
public abstract sealed class DValue permits DNil, DAtom, DList, DKvList, DFile {

    DValue() {}

    public boolean isNil() {
        return false;
    }

    public DAtom asAtom() {
        throw new DListTypeException("expected an atom but got " + kind());
    }

    public DList asList() {
        throw new DListTypeException("expected a list but got " + kind());
    }

    public DKvList asKvList() {
        throw new DListTypeException("expected a kvlist but got " + kind());
    }

    public DFile asFile() {
        throw new DListTypeException("expected a file literal but got " + kind());
    }

    /** UTF-8 text of an atom; NIL has no text. */
    public String asString() {
        return asAtom().text();
    }

    public long asNum32() {
        return asAtom().num32();
    }

    public long asNum64() {
        return asAtom().num64();
    }

    public long asDate() {
        return asAtom().date();
    }

    public long asHex() {
        return asAtom().hex();
    }

    public String asGuidHex() {
        return asAtom().guidHex();
    }

    abstract String kind();

    /** Human-readable rendering for logs (server mode, literals abbreviated). */
    @Override
    public String toString() {
        return DListWriter.toDebugString(this);
    }
}
