package io.mailstream.sinks;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxState;
import java.io.IOException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What a store that applied a {@link MailScript} must hold. */
final class StoreAssertions {
    private static final Pattern EVENT_ID = Pattern.compile("\"eventId\":\"([^\"]+)\"");

    private StoreAssertions() {}

    static void assertHolds(StoreReader reader, MailScript script) throws IOException {
        assertThat(reader.users()).as("carol was deleted").containsExactly("alice", "bob");
        for (String user : List.of("alice", "bob", "carol")) assertUser(reader, script, user);
        for (var body : script.bodies.entrySet()) {
            try (StoredBody stored = reader.openBody(body.getKey())) {
                assertThat(stored.size()).isEqualTo(body.getValue().length);
                assertThat(stored.content().readAllBytes()).as(body.getKey()).isEqualTo(body.getValue());
            }
        }
    }

    static void assertUser(StoreReader reader, MailScript script, String user) throws IOException {
        List<MailboxState> expected = script.foldMailboxes(user).values().stream()
                .filter(m -> !m.getDeleted() && m.getHeader() != null)
                .sorted((a, b) ->
                        a.getHeader().getName().compareTo(b.getHeader().getName()))
                .toList();
        if (user.equals("carol")) {
            assertThat(reader.mailboxes(user)).isEmpty();
            assertThat(reader.userState(user)).isEmpty();
        } else {
            assertThat(reader.mailboxes(user)).hasSize(2).containsExactlyElementsOf(expected);
            assertThat(reader.userState(user)).contains(script.foldUser(user));
        }
        assertThat(historyEventIds(reader, user))
                .containsExactlyElementsOf(MailScript.distinct(script.eventsOf(user)).stream()
                        .map(e -> e.getEnvelope().getEventId())
                        .toList());
    }

    static List<String> historyEventIds(StoreReader reader, String user) throws IOException {
        return reader.history(user).stream()
                .map(line -> {
                    Matcher m = EVENT_ID.matcher(line);
                    assertThat(m.find()).as(line).isTrue();
                    return m.group(1);
                })
                .toList();
    }

    static List<String> eventIds(List<ChangeEvent> events) {
        return events.stream().map(e -> e.getEnvelope().getEventId()).toList();
    }
}
