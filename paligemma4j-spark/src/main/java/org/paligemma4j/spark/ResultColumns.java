package org.paligemma4j.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.paligemma4j.tasks.BinaryMask;
import org.paligemma4j.tasks.Detection;
import org.paligemma4j.tasks.PixelBox;
import org.paligemma4j.tasks.Segment;

/**
 * The result columns, in one place:
 * <ul>
 * <li>{@code text}: the decoded output (null when the row failed);</li>
 * <li>{@code objects} (detect/segment): {@code array<struct<label, x_min, y_min, x_max, y_max, valid, loc, seg,
 *     mask_rle>>}, every object the model wrote in output order, malformed ones included with {@code valid}
 *     false; the box in original-image pixels per big_vision (max exclusive), {@code loc} the four location
 *     tokens {@code [y1, x1, y2, x2]}, {@code seg} the 16 mask tokens or null, and (segment only)
 *     {@code mask_rle} COCO's uncompressed run-length encoding {@code {size: [h, w], counts}} (column-major,
 *     starting with background) or null when there is no mask;</li>
 * <li>{@code error}: null, or why the row could not run.</li>
 * </ul>
 * The same values as the command line's {@code --json} (its objects' {@code box} fields are flattened here).
 */
public final class ResultColumns {
    public static final String TEXT = "text", OBJECTS = "objects", ERROR = "error";

    private ResultColumns() {}

    /** The struct of one object; {@code mask_rle} only when masks can occur. */
    public static StructType objectType(boolean masks) {
        List<StructField> f = new ArrayList<>(List.of(
                DataTypes.createStructField("label", DataTypes.StringType, true),
                DataTypes.createStructField("x_min", DataTypes.IntegerType, false),
                DataTypes.createStructField("y_min", DataTypes.IntegerType, false),
                DataTypes.createStructField("x_max", DataTypes.IntegerType, false),
                DataTypes.createStructField("y_max", DataTypes.IntegerType, false),
                DataTypes.createStructField("valid", DataTypes.BooleanType, false),
                DataTypes.createStructField("loc", DataTypes.createArrayType(DataTypes.IntegerType, false), false),
                DataTypes.createStructField("seg", DataTypes.createArrayType(DataTypes.IntegerType, false), true)));
        if (masks) {
            f.add(DataTypes.createStructField("mask_rle", DataTypes.createStructType(List.of(
                    DataTypes.createStructField("size", DataTypes.createArrayType(DataTypes.IntegerType, false), false),
                    DataTypes.createStructField("counts", DataTypes.createArrayType(DataTypes.LongType, false), false))), true));
        }
        return DataTypes.createStructType(f);
    }

    /** {@code input}'s columns, then text, objects (when asked for) and error. */
    static StructType append(StructType input, boolean objects, boolean masks) {
        StructType s = input.add(TEXT, DataTypes.StringType, true);
        if (objects) s = s.add(OBJECTS, DataTypes.createArrayType(objectType(masks), false), true);
        return s.add(ERROR, DataTypes.StringType, true);
    }

    /** One object as a row of {@link #objectType}. */
    static Row objectRow(Segment s, boolean masks) {
        Detection d = s.detection();
        PixelBox b = d.pixelBox();
        List<Integer> loc = new ArrayList<>(4);
        for (int v : d.loc().toArray()) loc.add(v);
        Object[] values = new Object[masks ? 9 : 8];
        values[0] = d.label();
        values[1] = b.xMin();
        values[2] = b.yMin();
        values[3] = b.xMax();
        values[4] = b.yMax();
        values[5] = d.valid();
        values[6] = seq(loc);
        values[7] = d.seg() == null ? null : seq(d.seg());
        if (masks) values[8] = s.hasMask() ? rle(s.mask()) : null;
        return RowFactory.create(values);
    }

    /** Spark's external type for arrays in a Row. */
    static scala.collection.immutable.Seq<Object> seq(List<?> list) {
        return scala.jdk.javaapi.CollectionConverters.asScala(new ArrayList<Object>(list)).toList();
    }

    /** COCO's uncompressed RLE: column-major runs, alternating background and mask, starting with background. */
    static Row rle(BinaryMask mask) {
        List<Long> counts = new ArrayList<>();
        for (long run : mask.cocoRunLengths()) counts.add(run);
        return RowFactory.create(seq(List.of(mask.height(), mask.width())), seq(counts));
    }
}
