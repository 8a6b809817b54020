package org.paligemma4j.tasks;

/** Output text that is not part of an object: a preamble, or a malformed tail such as a 15th {@code <seg>}. */
public record TextItem(String text) implements OutputItem {
}
