/**
 * Evaluation metrics as the benchmarks PaliGemma reports define them: {@link org.paligemma4j.eval.ExactMatch},
 * {@link org.paligemma4j.eval.VqaAccuracy} (VQAv2), {@link org.paligemma4j.eval.Anls} (DocVQA, TextVQA, ST-VQA),
 * {@link org.paligemma4j.eval.CiderD} (COCO captions, with {@link org.paligemma4j.eval.PtbTokenizer}),
 * {@link org.paligemma4j.eval.DetectionScore} (box IoU, precision and recall at IoU 0.5) and
 * {@link org.paligemma4j.eval.SegmentationScore} (mask IoU), plus {@link org.paligemma4j.eval.TeacherForcing}, which
 * measures how often a second model (a quantized copy) picks the same next token as the first.
 *
 * <p>Each class names the public definition it follows and says where it deviates. Scores are fractions in [0, 1]
 * (CIDEr-D in its own scale, where 1.0 is printed as 100 in papers).
 */
package org.paligemma4j.eval;
