package io.mailstream.schemas.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailstream.schemas.ControlEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class SchemaCompatibilityCheckTest {

    /** The build gate: a schema change that breaks a released version fails mvn verify here. */
    @Test
    void currentSchemasAreCompatibleWithEveryReleasedVersion() {
        assertThat(SchemaCompatibilityCheck.checkShipped()).isEmpty();
    }

    /** A released file the catalog does not find (a gap in the numbering, a misspelt name) would go unchecked. */
    @Test
    void everyReleasedFileIsInTheCatalog() throws IOException {
        Path root = Path.of("src/main/resources" + SchemaCatalog.RELEASED_ROOT);
        for (Schema current : SchemaCatalog.shipped().current()) {
            try (Stream<Path> files = Files.list(root.resolve(current.getName()))) {
                assertThat(SchemaCatalog.shipped().released(current.getName()))
                        .as(current.getName())
                        .hasSize((int) files.count())
                        .isNotEmpty();
            }
        }
        try (Stream<Path> dirs = Files.list(root)) {
            assertThat(dirs.map(d -> d.getFileName().toString()))
                    .allMatch(n -> SchemaCatalog.shipped().current().stream()
                            .anyMatch(s -> s.getName().equals(n)));
        }
    }

    @Test
    void removingAFieldWithoutDefaultIsReportedByName() {
        Schema v1 = releasedControlEventV1();
        Schema withoutEventId = withFields(v1, fields -> {
            fields.removeIf(f -> f.name().equals("eventId"));
            return fields;
        });

        List<String> problems = SchemaCompatibilityCheck.check(withoutEventId, List.of(v1));

        // The new schema still reads v1 data (it ignores eventId); v1 readers cannot read new data.
        assertThat(problems)
                .singleElement()
                .asString()
                .startsWith(
                        "ControlEvent v1 reading current ControlEvent data: READER_FIELD_MISSING_DEFAULT_VALUE at field eventId");
    }

    @Test
    void changingAFieldTypeIsReportedByNameInBothDirections() {
        Schema v1 = releasedControlEventV1();
        Schema timeAsString = withFields(v1, fields -> {
            fields.replaceAll(f -> f.name().equals("time")
                    ? new Schema.Field(f.name(), Schema.create(Schema.Type.STRING), f.doc())
                    : f);
            return fields;
        });

        List<String> problems = SchemaCompatibilityCheck.check(timeAsString, List.of(v1));

        assertThat(problems).hasSize(2).allSatisfy(p -> assertThat(p).contains("TYPE_MISMATCH at field time"));
        assertThat(problems)
                .anyMatch(p -> p.startsWith("current ControlEvent reading ControlEvent v1 data"))
                .anyMatch(p -> p.startsWith("ControlEvent v1 reading current ControlEvent data"));
    }

    @Test
    void addingAFieldWithDefaultIsCompatible() {
        Schema v1 = releasedControlEventV1();
        Schema withTicket = withFields(v1, fields -> {
            fields.add(new Schema.Field("ticket", Schema.create(Schema.Type.STRING), null, ""));
            return fields;
        });

        assertThat(SchemaCompatibilityCheck.check(withTicket, List.of(v1))).isEmpty();
    }

    @Test
    void nestedFieldsAreNamedByTheirPath() {
        Schema changeEvent = SchemaCatalog.shipped().current().get(0);
        // payload is field 1; branch 0 is MailboxUpsert, whose field 0 is uniqueId
        assertThat(SchemaCompatibilityCheck.fieldPath(changeEvent, "/fields/1/type/0/fields/0"))
                .isEqualTo("payload.MailboxUpsert.uniqueId");
    }

    private static Schema releasedControlEventV1() {
        List<Schema> released = SchemaCatalog.shipped().released("ControlEvent");
        assertThat(released).isNotEmpty();
        assertThat(released.get(0).getFullName())
                .isEqualTo(ControlEvent.getClassSchema().getFullName());
        return released.get(0);
    }

    private static Schema withFields(Schema record, UnaryOperator<List<Schema.Field>> edit) {
        List<Schema.Field> fields = new ArrayList<>();
        record.getFields().forEach(f -> fields.add(new Schema.Field(f, f.schema())));
        return Schema.createRecord(record.getName(), record.getDoc(), record.getNamespace(), false, edit.apply(fields));
    }
}
