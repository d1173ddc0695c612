package io.mailstream.operations.audit;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** The times audit accepts on its command line. */
public final class AuditTimes {
    public static final String FORMS = "2026-12-02T13:07:41Z, 2026-12-02T14:07:41+01:00, 2026-12-02T13:07:41 (UTC),"
            + " 2026-12-02 (midnight UTC) or epoch milliseconds";

    private AuditTimes() {}

    /** Epoch ms of {@code text}; an error naming {@code option} and the accepted forms otherwise. */
    public static long parse(String option, String text) {
        String t = text.trim();
        try {
            if (t.matches("\\d{9,}")) return Long.parseLong(t);
            if (t.endsWith("Z") || t.endsWith("z"))
                return Instant.parse(t.toUpperCase()).toEpochMilli();
            if (t.matches(".*[+-]\\d\\d:\\d\\d$") && t.contains("T"))
                return OffsetDateTime.parse(t).toInstant().toEpochMilli();
            if (t.contains("T"))
                return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC).toEpochMilli();
            return LocalDate.parse(t).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new IllegalArgumentException(option + " '" + text + "' is not a time: use " + FORMS);
        }
    }
}
