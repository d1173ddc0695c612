package io.mailstream.csync.dlist;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A keyed list {@code %(KEY value KEY value)}. Keys are case-sensitive, order is kept, and
 * unknown keys survive so that a receiver can echo exactly what a (newer) Cyrus sent.
 */
public final class DKvList extends DValue {
    private static final DKvList EMPTY = new DKvList(List.of());

    /** One key/value pair. */
    public record Entry(String key, DValue value) {
        public Entry {
            Objects.requireNonNull(key);
            Objects.requireNonNull(value);
        }
    }

    private final List<Entry> entries;

    private DKvList(List<Entry> entries) {
        this.entries = entries;
    }

    public static DKvList of(List<Entry> entries) {
        return entries.isEmpty() ? EMPTY : new DKvList(List.copyOf(entries));
    }

    public static DKvList empty() {
        return EMPTY;
    }

    public List<Entry> entries() {
        return entries;
    }

    public boolean has(String key) {
        return get(key).isPresent();
    }

    public Optional<DValue> get(String key) {
        for (Entry e : entries) {
            if (e.key.equals(key)) {
                return Optional.of(e.value);
            }
        }
        return Optional.empty();
    }

    /** The value of a mandatory key. */
    public DValue require(String key) {
        return get(key).orElseThrow(() -> new DListTypeException("missing key " + key));
    }

    /**
     * Sets {@code key}: an existing entry is replaced in place; a new one is inserted before the
     * first present key that comes after it in {@code canonicalOrder} (else appended), so keys
     * built from scratch come out in the order Cyrus emits them.
     */
    public DKvList with(String key, DValue value, List<String> canonicalOrder) {
        List<Entry> out = new ArrayList<>(entries);
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).key.equals(key)) {
                out.set(i, new Entry(key, value));
                return new DKvList(Collections.unmodifiableList(out));
            }
        }
        int rank = canonicalOrder.indexOf(key);
        int at = out.size();
        if (rank >= 0) {
            for (int i = 0; i < out.size(); i++) {
                int other = canonicalOrder.indexOf(out.get(i).key);
                if (other > rank) {
                    at = i;
                    break;
                }
            }
        }
        out.add(at, new Entry(key, value));
        return new DKvList(Collections.unmodifiableList(out));
    }

    public DKvList with(String key, DValue value) {
        return with(key, value, List.of());
    }

    public DKvList without(String... keys) {
        List<String> drop = List.of(keys);
        List<Entry> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            if (!drop.contains(e.key)) {
                out.add(e);
            }
        }
        return out.size() == entries.size() ? this : of(out);
    }

    @Override
    public DKvList asKvList() {
        return this;
    }

    @Override
    String kind() {
        return "kvlist";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DKvList k && k.entries.equals(entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }
}
