package org.paligemma4j.generate;

/**
 * Sees a generation as it happens, on the engine's thread: keep it quick (hand work off to another thread).
 * {@code text} is the output text that became final with this token: possibly empty (half a UTF-8 character,
 * an invisible control token, or text held back because it may begin a stop string).
 */
@FunctionalInterface
public interface GenerationListener {
    void onToken(int id, String text);
}
