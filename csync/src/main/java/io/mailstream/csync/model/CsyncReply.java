package io.mailstream.csync.model;

import io.mailstream.csync.dlist.DKeyed;
import io.mailstream.csync.dlist.DList;
import io.mailstream.csync.dlist.DListTypeException;
import io.mailstream.csync.dlist.DValue;
import java.util.List;
import java.util.Locale;

/** The untagged {@code * NAME value} data lines a server sends before the completion line. */
public sealed interface CsyncReply {

    DKeyed toDKeyed();

    record MailboxReply(Mailbox mailbox) implements CsyncReply {
        public DKeyed toDKeyed() {
            return new DKeyed("MAILBOX", mailbox.toDList());
        }
    }

    record QuotaReply(QuotaRoot quota) implements CsyncReply {
        public DKeyed toDKeyed() {
            return new DKeyed("QUOTA", quota.toDList());
        }
    }

    record SeenReply(SeenEntry seen) implements CsyncReply {
        public DKeyed toDKeyed() {
            return new DKeyed("SEEN", seen.toDList());
        }
    }

    /** The user's subscriptions as internal mailbox names. */
    record LsubReply(List<String> mboxNames) implements CsyncReply {
        public LsubReply {
            mboxNames = List.copyOf(mboxNames);
        }

        public DKeyed toDKeyed() {
            return new DKeyed("LSUB", DList.ofStrings(mboxNames));
        }
    }

    record SieveReply(SieveEntry sieve) implements CsyncReply {
        public DKeyed toDKeyed() {
            return new DKeyed("SIEVE", sieve.toDList());
        }
    }

    /** GUIDs that RESERVE could not find; the client uploads them with APPLY MESSAGE. */
    record MissingReply(List<Guid> guids) implements CsyncReply {
        public MissingReply {
            guids = List.copyOf(guids);
        }

        public DKeyed toDKeyed() {
            return new DKeyed(
                    "MISSING", DList.ofStrings(guids.stream().map(Guid::hex).toList()));
        }
    }

    record MessageReply(MessageFile file) implements CsyncReply {
        public DKeyed toDKeyed() {
            return new DKeyed("MESSAGE", file.toDList());
        }
    }

    record AnnotationReply(Annotation annotation) implements CsyncReply {
        public DKeyed toDKeyed() {
            return new DKeyed("ANNOTATION", annotation.toDList());
        }
    }

    record EnabledReply(List<String> capabilities) implements CsyncReply {
        public EnabledReply {
            capabilities = List.copyOf(capabilities);
        }

        public DKeyed toDKeyed() {
            return new DKeyed("ENABLED", DList.ofStrings(capabilities));
        }
    }

    /** A data line this version does not know; kept so that nothing is lost. */
    record UnknownReply(DKeyed raw) implements CsyncReply {
        public DKeyed toDKeyed() {
            return raw;
        }
    }

    /** Typed view of a {@code *} line; throws CsyncException(BAD_PARAMETERS) on ill-formed data. */
    static CsyncReply decode(DKeyed line) throws CsyncException {
        DValue v = line.value();
        try {
            switch (line.key().toUpperCase(Locale.ROOT)) {
                case "MAILBOX":
                    return new MailboxReply(Mailbox.from(v.asKvList()));
                case "QUOTA":
                    return new QuotaReply(QuotaRoot.from(v.asKvList()));
                case "SEEN":
                    return new SeenReply(SeenEntry.from(v.asKvList()));
                case "LSUB":
                    return new LsubReply(v.asList().map(DValue::asString));
                case "SIEVE":
                    return new SieveReply(SieveEntry.from(v.asKvList()));
                case "MISSING":
                    return new MissingReply(v.asList().map(g -> Guid.of(g.asGuidHex())));
                case "MESSAGE":
                    return new MessageReply(MessageFile.from(v.asFile()));
                case "ANNOTATION":
                    return new AnnotationReply(Annotation.from(v.asKvList()));
                case "ENABLED":
                    return new EnabledReply(v.asList().map(DValue::asString));
                default:
                    return new UnknownReply(line);
            }
        } catch (DListTypeException | IllegalArgumentException e) {
            throw new CsyncException(CsyncError.PROTOCOL_BAD_PARAMETERS, "* " + line.key() + ": " + e.getMessage(), e);
        }
    }
}
