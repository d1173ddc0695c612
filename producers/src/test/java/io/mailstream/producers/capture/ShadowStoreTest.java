package io.mailstream.producers.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-source sequence on disk: a number is handed out only once its reservation is durable. */
class ShadowStoreTest {
    @TempDir
    Path tmp;

    @Test
    void aReservationThatDidNotReachTheDiskHandsOutNoNumber() throws IOException {
        ShadowStore store = ShadowStore.open(tmp).store();
        store.reset(ShadowStore.newShadow(), 0);
        assertThat(store.nextSequence()).isEqualTo(1);
        for (int i = 2; i <= ShadowStore.SEQUENCE_BLOCK; i++) {
            store.nextSequence();
        }
        // The next number needs a new reservation, and the journal can no longer be written.
        store.close();
        assertThatThrownBy(store::nextSequence).isInstanceOf(IOException.class);
        assertThatThrownBy(store::nextSequence)
                .as("a second try after the failed reservation")
                .isInstanceOf(IOException.class);

        // What a restart finds on disk is what was handed out: the next number is above all of them.
        ShadowStore reopened = ShadowStore.open(tmp).store();
        assertThat(reopened.nextSequence()).isGreaterThan(ShadowStore.SEQUENCE_BLOCK);
        reopened.close();
    }
}
