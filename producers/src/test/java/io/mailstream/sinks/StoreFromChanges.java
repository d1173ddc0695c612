package io.mailstream.sinks;

import io.mailstream.schemas.ChangeEvent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * For capture's tests: applies events of mailstream.changes to an out-of-band store with the
 * store tier's own target, each partition key's events in offset order as its feed would bring
 * them, so a test sees what the store keeps and what it skips as already applied.
 */
public final class StoreFromChanges {
    private StoreFromChanges() {}

    /** {@code byPartition}: each partition's events in offset order. */
    public static void apply(Path storeDir, Map<Integer, List<ChangeEvent>> byPartition) throws Exception {
        Map<String, List<ChangeEvent>> byKey = new LinkedHashMap<>();
        byPartition
                .values()
                .forEach(events -> events.forEach(
                        e -> byKey.computeIfAbsent(e.getEnvelope().getPartitionKey(), k -> new ArrayList<>())
                                .add(e)));
        try (StoreTarget store = new StoreTarget(storeDir)) {
            for (Map.Entry<String, List<ChangeEvent>> e : byKey.entrySet()) {
                store.apply(e.getKey(), e.getValue());
            }
        }
    }
}
