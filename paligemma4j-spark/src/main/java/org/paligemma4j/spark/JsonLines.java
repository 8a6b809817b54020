package org.paligemma4j.spark;

import java.util.List;
import org.apache.spark.sql.Row;

/**
 * The job's {@code .jsonl} lines: {@code {"image": …, "text": …, "objects": [...] or null, "error": … or null}},
 * one per input image, objects with the fields of {@link ResultColumns}.
 */
final class JsonLines {
    private JsonLines() {}

    /** One output line for a result row of the job (columns image, text, [objects], error). */
    static String line(Row r) {
        StringBuilder b = new StringBuilder(256);
        b.append("{\"image\":");
        string(b, r.isNullAt(r.fieldIndex("image")) ? null : String.valueOf(r.get(r.fieldIndex("image"))));
        b.append(",\"text\":");
        string(b, r.getAs(ResultColumns.TEXT));
        b.append(",\"objects\":");
        if (!hasField(r, ResultColumns.OBJECTS) || r.isNullAt(r.fieldIndex(ResultColumns.OBJECTS))) {
            b.append("null");
        } else {
            b.append('[');
            List<Row> objects = r.getList(r.fieldIndex(ResultColumns.OBJECTS));
            for (int i = 0; i < objects.size(); i++) {
                if (i > 0) b.append(',');
                value(b, objects.get(i));
            }
            b.append(']');
        }
        b.append(",\"error\":");
        string(b, r.getAs(ResultColumns.ERROR));
        return b.append('}').toString();
    }

    private static boolean hasField(Row r, String name) {
        for (String n : r.schema().fieldNames()) if (n.equals(name)) return true;
        return false;
    }

    /** A struct as an object with its field names, arrays as arrays, in schema order. */
    private static void value(StringBuilder b, Object v) {
        switch (v) {
            case null -> b.append("null");
            case Row row -> {
                b.append('{');
                String[] names = row.schema().fieldNames();
                for (int i = 0; i < names.length; i++) {
                    if (i > 0) b.append(',');
                    string(b, names[i]);
                    b.append(':');
                    value(b, row.isNullAt(i) ? null : row.get(i));
                }
                b.append('}');
            }
            case scala.collection.Seq<?> seq -> value(b, scala.jdk.javaapi.CollectionConverters.asJava(seq));
            case List<?> list -> {
                b.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) b.append(',');
                    value(b, list.get(i));
                }
                b.append(']');
            }
            case String s -> string(b, s);
            default -> b.append(v); // numbers and booleans
        }
    }

    static void string(StringBuilder b, String s) {
        if (s == null) {
            b.append("null");
            return;
        }
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    // Control characters and lone surrogates (which UTF-8 cannot carry) as \\u escapes.
                    if (c < 0x20 || (Character.isSurrogate(c) && !pairAt(s, i))) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }

    private static boolean pairAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
