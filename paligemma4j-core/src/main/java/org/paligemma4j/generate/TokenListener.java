package org.paligemma4j.generate;

/** Called with each generated token id as soon as it is chosen (for streaming). */
@FunctionalInterface
public interface TokenListener {
    void onToken(int id);
}
