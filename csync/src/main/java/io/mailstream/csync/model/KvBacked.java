package io.mailstream.csync.model;

import io.mailstream.csync.dlist.DAtom;
import io.mailstream.csync.dlist.DKvList;
import io.mailstream.csync.dlist.DValue;
import java.util.List;
import java.util.Optional;

/**
 * Base of the domain objects that travel as kvlists. The kvlist as received is the source of
 * truth, so every key (including ones this code does not know) is echoed in its original place;
 * typed getters parse on demand and setters insert new keys in Cyrus's emission order.
 */
public abstract class KvBacked {
    protected final DKvList kv;

    protected KvBacked(DKvList kv) {
        this.kv = kv;
    }

    /** The wire form, unknown keys included. */
    public DKvList toDList() {
        return kv;
    }

    /** Keys in the order Cyrus emits them. */
    protected abstract List<String> order();

    protected final DKvList set(String key, DValue value) {
        return kv.with(key, value, order());
    }

    protected final DKvList setNumber(String key, long value) {
        return set(key, DAtom.ofNumber(value));
    }

    protected final DKvList setText(String key, String value) {
        return set(key, DAtom.of(value));
    }

    protected final String text(String key) {
        return kv.require(key).asString();
    }

    protected final Optional<String> optText(String key) {
        return kv.get(key).map(DValue::asString);
    }

    protected final long num32(String key) {
        return kv.require(key).asNum32();
    }

    protected final long num64(String key) {
        return kv.require(key).asNum64();
    }

    /** An optional number where absence means 0 (Cyrus omits zero-valued optional keys). */
    protected final long num64OrZero(String key) {
        return kv.get(key).map(DValue::asNum64).orElse(0L);
    }

    protected static void requireKeys(DKvList kv, String... keys) {
        for (String k : keys) {
            kv.require(k);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && ((KvBacked) o).kv.equals(kv);
    }

    @Override
    public int hashCode() {
        return kv.hashCode();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + kv;
    }
}
