package org.paligemma4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.paligemma4j.tasks.BinaryMask;

class ResultColumnsTest {
    @Test
    void maskRleIsCocosColumnMajorRunsStartingWithBackground() {
        // 3 wide, 2 high:   . X X
        //                   . X .
        // column-major: (0,0)=0 (0,1)=0 | (1,0)=1 (1,1)=1 | (2,0)=1 (2,1)=0 → runs 2 bg, 3 fg, 1 bg
        BinaryMask mask = BinaryMask.of(3, 2, new boolean[] {false, true, true, false, true, false});
        Row rle = ResultColumns.rle(mask);
        assertEquals(List.of(2, 3), rle.getList(0));
        assertEquals(List.of(2L, 3L, 1L), rle.getList(1));
        // A mask that starts with foreground starts with an empty background run.
        Row full = ResultColumns.rle(BinaryMask.of(1, 2, new boolean[] {true, true}));
        assertEquals(List.of(0L, 2L), full.getList(1));
    }
}
