package io.mailstream.csync.crc;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.csync.model.Mailbox;
import io.mailstream.csync.model.MessageRecord;
import io.mailstream.csync.testing.Transcripts;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyncCrcTest {

    /** Mailboxes that carry all their records: conn006 is a full sync, FULLMAILBOX replies are complete. */
    private static List<Mailbox> completeMailboxes() throws Exception {
        List<Mailbox> out = new ArrayList<>();
        for (Transcripts.Line l : Transcripts.parseClientStream(
                Transcripts.read(Transcripts.csyncDir().resolve("conn006.c2s")))) {
            if (l.isDlist() && l.keyed().key().equals("MAILBOX")) {
                out.add(Mailbox.from(l.keyed().value().asKvList()));
            }
        }
        for (Transcripts.Line l : Transcripts.parseServerStream(
                Transcripts.read(Transcripts.csyncDir().resolve("conn001.s2c")))) {
            if (l.isDlist()
                    && l.keyed().key().equals("MAILBOX")
                    && l.keyed().value().asKvList().has("RECORD")) {
                out.add(Mailbox.from(l.keyed().value().asKvList()));
            }
        }
        return out;
    }

    @Test
    void crcsEqualTheValuesCyrusSent() throws Exception {
        List<Mailbox> mailboxes = completeMailboxes();
        assertThat(mailboxes).hasSize(5);
        for (Mailbox m : mailboxes) {
            List<MessageRecord> records = m.records();
            assertThat(SyncCrc.basic(records)).as("SYNC_CRC of %s", m.name()).isEqualTo(m.syncCrc());
            assertThat(SyncCrc.annot(records))
                    .as("SYNC_CRC_ANNOT of %s", m.name())
                    .isEqualTo(m.syncCrcAnnot());
        }
    }

    @Test
    void emptyMailboxHasZeroAndAnnotInitialValue() {
        assertThat(SyncCrc.of(List.of())).isEqualTo(new SyncCrc.Pair(0, 12345678));
    }

    @Test
    void expungedRecordsContributeNothing() throws Exception {
        Mailbox alice = completeMailboxes().get(0);
        List<MessageRecord> live =
                alice.records().stream().filter(r -> !r.isExpunged()).toList();
        assertThat(live).hasSizeLessThan(alice.records().size());
        assertThat(SyncCrc.of(live)).isEqualTo(SyncCrc.of(alice.records()));
    }

    @Test
    void zeroIsAWildcard() {
        assertThat(SyncCrc.matches(0, 5)).isTrue();
        assertThat(SyncCrc.matches(5, 0)).isTrue();
        assertThat(SyncCrc.matches(5, 6)).isFalse();
        assertThat(new SyncCrc.Pair(1, 2).matches(1, 0)).isTrue();
    }
}
