package org.paligemma4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ImageTaskTest {
    @Test
    void tasksParseAndBuildTheCommandLinesPrompts() {
        assertEquals("caption en", ImageTask.parse("caption").prompt(null, "en"));
        assertEquals("caption de", ImageTask.parse("CAPTION").prompt("de", "en"));
        assertEquals("answer en how many?", ImageTask.parse("ask").prompt("  how many? ", "en"));
        assertEquals("caption fr", ImageTask.CAPTION.prompt("caption fr", "en"));
        assertEquals("ocr", ImageTask.OCR.prompt("", "en"));
        assertEquals("ocr", ImageTask.OCR.prompt("ocr", "en"));
        assertThrows(IllegalArgumentException.class, () -> ImageTask.OCR.prompt("read it", "en"));
        assertThrows(IllegalArgumentException.class, () -> ImageTask.CAPTION.prompt("in English", "en"));
        assertThrows(IllegalArgumentException.class, () -> ImageTask.DETECT.prompt(null, "en"));
        assertThrows(IllegalArgumentException.class, () -> ImageTask.ANSWER.prompt(" ", "en"));
        assertEquals("detect cat ; dog", ImageTask.DETECT.prompt("cat;dog", "en"));
        assertEquals("segment cat", ImageTask.SEGMENT.prompt(" cat ", "en"));
        assertEquals(" raw\\tprompt ", ImageTask.GENERATE.prompt(" raw\\tprompt ", "en"));
    }
}
