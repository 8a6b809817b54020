package org.paligemma4j.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TaskPromptsTest {

    @Test
    void promptsHaveTheCheckpointsTaskFormats() {
        assertEquals("caption en", TaskPrompts.caption("en"));
        assertEquals("caption zh-cn", TaskPrompts.caption("zh-cn"));
        assertEquals("answer en what is on the table?", TaskPrompts.answer("en", "  what is on the table?\n"));
        assertEquals("answer de wie viele Autos?", TaskPrompts.answer("de", "wie viele Autos?"));
        assertEquals("ocr", TaskPrompts.ocr());
        assertEquals("detect cat ; dog", TaskPrompts.detect(List.of("cat", "dog")));
        assertEquals("detect red car", TaskPrompts.detect(List.of(" red car ")));
        assertEquals("segment cat", TaskPrompts.segment(List.of("cat")));
        assertEquals("segment left hand ; right hand", TaskPrompts.segment(List.of("left hand", "right hand")));
    }

    @Test
    void labelsAreSplitAtSemicolonsAndStripped() {
        assertEquals(List.of("cat", "dog"), TaskPrompts.splitLabels("cat ; dog"));
        assertEquals(List.of("cat", "dog"), TaskPrompts.splitLabels("cat;dog"));
        assertEquals(List.of("red car", "dog"), TaskPrompts.splitLabels("  red car ;dog\t"));
        assertEquals(List.of("cat"), TaskPrompts.splitLabels("cat"));
        assertEquals("detect a ; b ; c", TaskPrompts.detect(TaskPrompts.splitLabels("a;b ;  c")));
    }

    @Test
    void emptyLabelsAreRefusedWithTheirPosition() {
        assertMessage("label 2 of 3 is empty (labels are separated by ';')", () -> TaskPrompts.splitLabels("cat ; ; dog"));
        assertMessage("label 2 of 2 is empty", () -> TaskPrompts.splitLabels("cat ;"));
        assertMessage("label 1 of 1 is empty", () -> TaskPrompts.splitLabels("   "));
        assertMessage("no labels given", () -> TaskPrompts.detect(List.of()));
        assertMessage("no labels given", () -> TaskPrompts.splitLabels(null));
    }

    @Test
    void labelsWithCharactersTheOutputFormatReservesAreRefused() {
        assertMessage("label 'a<loc0001>' contains '<'", () -> TaskPrompts.detect(List.of("a<loc0001>")));
        assertMessage("label 'x>y' contains '>'", () -> TaskPrompts.segment(List.of("x>y")));
        assertMessage("label 'cat;dog' contains ';'", () -> TaskPrompts.detect(List.of("cat;dog")));
        assertMessage("label 'cat\\ndog' contains a line break", () -> TaskPrompts.detect(List.of("cat\ndog")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"en", "de", "zh-cn", "pt-br", "fil"})
    void languageCodesOfLowercaseLettersAndHyphensAreAccepted(String code) {
        assertEquals("caption " + code, TaskPrompts.caption(code));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "EN", "en_US", "e n", "-en", "en-", "en--us", "english!", "en1"})
    void otherLanguageCodesAreRefused(String code) {
        assertMessage("language must be a code of lowercase letters and hyphens such as en, de or zh-cn, got '" + code + "'",
                () -> TaskPrompts.caption(code));
        assertThrows(IllegalArgumentException.class, () -> TaskPrompts.answer(code, "why?"));
    }

    @Test
    void blankQuestionsAreRefused() {
        assertMessage("the question is empty", () -> TaskPrompts.answer("en", " \n"));
        assertMessage("the question is empty", () -> TaskPrompts.answer("en", null));
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(expected), "message: " + e.getMessage());
    }
}
