package io.mailstream.bench;

import io.mailstream.testkit.MessageFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The mail the benchmarks deliver: sizes like real mail, mostly 2-50 KB (log-uniform, so small
 * messages dominate) and {@code largePercent}% of 1-5 MB attachments, to users in turn. Seeded:
 * every run sends the same bytes.
 */
final class Mail {
    private static final long SEED = 2026;

    /** One delivery: the {@code index}-th message, for {@code user}. */
    record Delivery(int index, String user, byte[] message) {}

    private Mail() {}

    static List<Delivery> deliveries(int count, List<String> users, int largePercent) {
        Random random = new Random(SEED);
        MessageFactory factory = new MessageFactory(SEED);
        List<Delivery> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String user = users.get(i % users.size());
            int size = random.nextInt(100) < largePercent
                    ? 1_000_000 + random.nextInt(4_000_001)
                    : (int) Math.round(2_000 * Math.pow(25, random.nextDouble()));
            String from = "sender" + i + "@example.org";
            out.add(new Delivery(i, user, factory.message(i, size, from, user + "@mailstream.test", "message " + i)));
        }
        return out;
    }

    /** user01, user02, ... */
    static List<String> users(int count) {
        List<String> out = new ArrayList<>(count);
        for (int i = 1; i <= count; i++) {
            out.add(String.format("user%02d", i));
        }
        return out;
    }
}
