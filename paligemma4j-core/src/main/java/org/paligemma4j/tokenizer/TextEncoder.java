package org.paligemma4j.tokenizer;

/** Turns text into token ids; one implementation per tokenizer file format. */
interface TextEncoder {
    int[] encode(String text);
}
