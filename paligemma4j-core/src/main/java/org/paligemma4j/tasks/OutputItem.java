package org.paligemma4j.tasks;

/** One piece of a parsed detect/segment output: either plain {@link TextItem text} or a {@link Detection}. */
public sealed interface OutputItem permits TextItem, Detection {
}
