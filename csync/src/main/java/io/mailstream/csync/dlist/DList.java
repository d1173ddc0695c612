package io.mailstream.csync.dlist;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;

/** A plain list {@code (v v ...)}; items carry no keys. */
public final class DList extends DValue {
    private static final DList EMPTY = new DList(List.of());

    private final List<DValue> items;

    private DList(List<DValue> items) {
        this.items = items;
    }

    public static DList of(List<? extends DValue> items) {
        return items.isEmpty() ? EMPTY : new DList(List.copyOf(items));
    }

    public static DList of(DValue... items) {
        return of(List.of(items));
    }

    public static DList ofStrings(Collection<String> items) {
        return of(items.stream().map(DAtom::of).toList());
    }

    public List<DValue> items() {
        return items;
    }

    public int size() {
        return items.size();
    }

    public <T> List<T> map(Function<DValue, T> f) {
        List<T> out = new ArrayList<>(items.size());
        for (DValue v : items) {
            out.add(f.apply(v));
        }
        return out;
    }

    @Override
    public DList asList() {
        return this;
    }

    @Override
    String kind() {
        return "list";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DList l && l.items.equals(items);
    }

    @Override
    public int hashCode() {
        return items.hashCode();
    }
}
