/**
 * The streams role: one Kafka Streams application (exactly_once_v2) between
 * {@code mailstream.changes} and everything downstream of it.
 *
 * <p>Public surface: {@link io.mailstream.streams.MailstreamStreams} (run it),
 * {@link io.mailstream.streams.MailstreamTopology} (the topology, e.g. for TopologyTestDriver) and
 * {@link io.mailstream.streams.StatusReport} (what {@code mailstream status} prints).
 *
 * <p>Per event, in partition-key order: decode (undecodable: DLQ UNDECODABLE / UNKNOWN_SCHEMA),
 * fence against the global copy of {@code mailstream.control} by the epoch and tier it was captured
 * under and the fence point of the promotion after that epoch (DLQ NOT_PRIMARY / FENCED /
 * STALE_EPOCH; an epoch control cannot judge yet parks the event until it can),
 * drop a repeated event id, require the content of every non-expunged record (DLQ
 * MISSING_CONTENT), require modseqs to move forward (DLQ MODSEQ_BACKWARDS), fold into the
 * canonical state with core's StateFold (an event that changes nothing is dropped as a duplicate),
 * publish the new state to {@code mailstream.state}, then write the event to each tier's feed
 * that wants its key; inline tiers first get a copy of any body that was first seen under
 * another key. State, feeds, DLQ and the consumed offset commit in one transaction.
 *
 * <p>Any other error is core's ErrorPolicy's to judge. One that may be the event's own (an
 * unexpected exception from the fold, e.g. a corrupt state value) is tried again at once up to
 * {@code errors.retry.attempts} times, then dead-lettered (INVALID, "gave up after N attempts: ...").
 * Passing causes (the broker, a state store) and errors raised once the event has started to write
 * go to the stream thread, which is replaced and resumes from the last commit (counted in
 * {@code mailstream.streams.thread.replacements}; failed attempts at an event in
 * {@code mailstream.errors.retries}); reasons to stop (fenced, bad credentials) stop the application.
 *
 * <p>Bodies seen under another key: the GUID index is a global store fed by the tasks themselves,
 * so a record of one key can be processed before the body seen under another key is committed and
 * indexed (about one commit interval live, much longer while another task catches up on a backlog
 * or after an outage). Such a record and everything after it on its key are parked and retried
 * every second. Whether the body can still come is judged by the log, never by the clock: once
 * every partition of {@code mailstream.changes} has been read and committed up to where it ended
 * after the record was parked ({@link io.mailstream.streams.ChangesLog}), and probes sent to every
 * partition of the content topic have come back through the global store, a body still missing is
 * nowhere in the log before the record, and only then is the record dead-lettered as
 * MISSING_CONTENT. While a partition cannot be read that far (a task down, a transaction left
 * open), parked records wait, and a warning says so every minute.
 *
 * <p>The content index is bounded by what mail references: each key counts the live records of
 * every body in its canonical state, tells {@link io.mailstream.streams.ContentReferences} (by GUID,
 * through {@code mailstream.streams.content-references}) when a count leaves or reaches zero, and
 * a body no key has referenced for {@code streams.content.grace.seconds} is tombstoned.
 */
package io.mailstream.streams;
