package io.mailstream.schemas.codec;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;

/**
 * Checks that each current top-level schema and each of its released versions can read each
 * other's data (full compatibility), as the design requires: old readers meet new events in the
 * topics, and new readers replay old ones. Run by SchemaCompatibilityCheckTest in every build.
 */
public final class SchemaCompatibilityCheck {

    private SchemaCompatibilityCheck() {}

    /** Runs {@link #checkShipped()}; prints the incompatibilities and exits 1 if there are any. */
    public static void main(String[] args) {
        List<String> problems = checkShipped();
        problems.forEach(System.err::println);
        if (!problems.isEmpty()) {
            System.exit(1);
        }
        System.out.println("schemas compatible with every released version");
    }

    /** Every current schema in this jar against every released version of it; empty when compatible. */
    public static List<String> checkShipped() {
        SchemaCatalog catalog = SchemaCatalog.shipped();
        List<String> problems = new ArrayList<>();
        for (Schema current : catalog.current()) {
            problems.addAll(check(current, catalog.released(current.getName())));
        }
        return problems;
    }

    /**
     * {@code current} against each of {@code released} (v1 first) in both directions. Each entry
     * names the type, the version, who reads whose data, the problem and the field path.
     */
    public static List<String> check(Schema current, List<Schema> released) {
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < released.size(); i++) {
            String version = current.getName() + " v" + (i + 1);
            Schema old = released.get(i);
            report(problems, current, old, "current " + current.getName() + " reading " + version + " data");
            report(problems, old, current, version + " reading current " + current.getName() + " data");
        }
        return problems;
    }

    private static void report(List<String> problems, Schema reader, Schema writer, String direction) {
        for (Incompatibility inc : SchemaCompatibility.checkReaderWriterCompatibility(reader, writer)
                .getResult()
                .getIncompatibilities()) {
            problems.add(direction + ": " + inc.getType() + " at field " + fieldPath(reader, inc.getLocation()) + " ("
                    + inc.getLocation() + "): " + inc.getMessage());
        }
    }

    /** Turns Avro's location ("/fields/1/type/2/fields/0") into field names ("payload.MailboxUpsert.uniqueId"). */
    static String fieldPath(Schema reader, String location) {
        List<String> names = new ArrayList<>();
        Schema schema = reader;
        String[] steps = location.split("/");
        for (int i = 1; i < steps.length; i++) {
            String step = steps[i];
            if (step.equals("fields") && i + 1 < steps.length && schema.getType() == Schema.Type.RECORD) {
                Schema.Field field = schema.getFields().get(Integer.parseInt(steps[++i]));
                names.add(field.name());
                schema = field.schema();
            } else if (step.equals("items") && schema.getType() == Schema.Type.ARRAY) {
                schema = schema.getElementType();
            } else if (step.equals("values") && schema.getType() == Schema.Type.MAP) {
                schema = schema.getValueType();
            } else if (schema.getType() == Schema.Type.UNION && step.matches("\\d+")) {
                schema = schema.getTypes().get(Integer.parseInt(step));
                names.add(schema.getName());
            } else if (!step.equals("type")) {
                break; // symbols, size, name: a property of the type reached so far
            }
        }
        return names.isEmpty() ? "(top level)" : String.join(".", names);
    }
}
