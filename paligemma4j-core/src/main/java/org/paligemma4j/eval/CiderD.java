package org.paligemma4j.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CIDEr-D, the caption metric the COCO evaluation reports as "CIDEr" (Vedantam et al., CVPR 2015; the scorer is
 * {@code pycocoevalcap/cider/cider_scorer.py} of github.com/tylin/coco-caption), computed over a corpus:
 * <ul>
 *   <li>Each caption is a bag of its 1- to 4-grams; n-gram g of a caption with count c gets the TF-IDF weight
 *       {@code c · (log N − log max(1, df(g)))}, where N is the number of examples and df(g) the number of examples
 *       whose references contain g (document frequency over the reference set only).</li>
 *   <li>For each n and each reference, {@code sim_n = Σ_g min(cand_g, ref_g) · ref_g / (‖cand_n‖ ‖ref_n‖)} (the "-D"
 *       clipping of candidate weights by the reference's; no division when a norm is 0), times the length penalty
 *       {@code exp(−δ² / (2σ²))} with σ = 6 and δ the difference of the two captions' lengths. As in the reference
 *       scorer a caption's length is its number of bigrams (words − 1, or 0).</li>
 *   <li>An example's score is {@code 10 · mean over n of (Σ over references of sim_n) / #references}; the corpus
 *       score is the mean over examples.</li>
 * </ul>
 * {@link #score} first tokenizes every caption with {@link PtbTokenizer}, as the COCO evaluation does;
 * {@link #scoreTokenized} takes captions that are already tokenized (split on whitespace only).
 */
public final class CiderD {
    /** n-grams of lengths 1..N_MAX. */
    public static final int N_MAX = 4;
    /** Standard deviation of the Gaussian length penalty. */
    public static final double SIGMA = 6.0;

    private CiderD() {}

    /** The corpus score and each example's score. */
    public record Result(double score, double[] perExample) {}

    /**
     * CIDEr-D of {@code candidates.get(i)} against {@code references.get(i)} for every example i, captions tokenized
     * with {@link PtbTokenizer}.
     */
    public static Result score(List<String> candidates, List<List<String>> references) {
        List<String> c = candidates.stream().map(PtbTokenizer::tokenizeToString).toList();
        List<List<String>> r = references.stream().map(refs -> refs.stream().map(PtbTokenizer::tokenizeToString).toList()).toList();
        return scoreTokenized(c, r);
    }

    /** CIDEr-D of captions already tokenized: words are what whitespace separates. */
    public static Result scoreTokenized(List<String> candidates, List<List<String>> references) {
        if (candidates.size() != references.size()) {
            throw new IllegalArgumentException(candidates.size() + " candidates but " + references.size() + " reference lists");
        }
        if (candidates.isEmpty()) throw new IllegalArgumentException("CIDEr-D needs at least one example");
        List<NGrams> cooked = new ArrayList<>();
        List<List<NGrams>> cookedRefs = new ArrayList<>();
        Map<String, Integer> documentFrequency = new HashMap<>();
        for (int i = 0; i < candidates.size(); i++) {
            List<String> refs = references.get(i);
            if (refs.isEmpty()) throw new IllegalArgumentException("example " + i + " has no reference caption");
            cooked.add(NGrams.of(candidates.get(i)));
            List<NGrams> r = refs.stream().map(NGrams::of).toList();
            cookedRefs.add(r);
            Set<String> seen = new HashSet<>();
            for (NGrams ref : r) for (Map<String, Integer> counts : ref.counts) seen.addAll(counts.keySet());
            for (String g : seen) documentFrequency.merge(g, 1, Integer::sum);
        }
        double logN = Math.log(candidates.size());
        double[] scores = new double[candidates.size()];
        double total = 0;
        for (int i = 0; i < candidates.size(); i++) {
            Vector candidate = Vector.of(cooked.get(i), documentFrequency, logN);
            double[] sum = new double[N_MAX];
            for (NGrams ref : cookedRefs.get(i)) {
                double[] s = similarity(candidate, Vector.of(ref, documentFrequency, logN));
                for (int n = 0; n < N_MAX; n++) sum[n] += s[n];
            }
            double mean = 0;
            for (int n = 0; n < N_MAX; n++) mean += sum[n];
            mean /= N_MAX;
            scores[i] = mean / cookedRefs.get(i).size() * 10.0;
            total += scores[i];
        }
        return new Result(total / scores.length, scores);
    }

    /** Per n: clipped cosine similarity of the TF-IDF vectors times the Gaussian length penalty. */
    private static double[] similarity(Vector hyp, Vector ref) {
        double delta = hyp.length - ref.length;
        double penalty = Math.exp(-(delta * delta) / (2 * SIGMA * SIGMA));
        double[] val = new double[N_MAX];
        for (int n = 0; n < N_MAX; n++) {
            for (Map.Entry<String, Double> e : hyp.weights.get(n).entrySet()) {
                double r = ref.weights.get(n).getOrDefault(e.getKey(), 0.0);
                val[n] += Math.min(e.getValue(), r) * r;
            }
            if (hyp.norms[n] != 0 && ref.norms[n] != 0) val[n] /= hyp.norms[n] * ref.norms[n];
            val[n] *= penalty;
        }
        return val;
    }

    /** n-gram counts of one caption, one map per n (n-grams written as their words joined by spaces). */
    private record NGrams(List<Map<String, Integer>> counts) {
        static NGrams of(String caption) {
            List<String> words = PythonText.split(caption);
            List<Map<String, Integer>> counts = new ArrayList<>();
            for (int n = 1; n <= N_MAX; n++) {
                Map<String, Integer> c = new HashMap<>();
                for (int i = 0; i + n <= words.size(); i++) c.merge(String.join(" ", words.subList(i, i + n)), 1, Integer::sum);
                counts.add(c);
            }
            return new NGrams(counts);
        }
    }

    /** TF-IDF weights per n, their Euclidean norms, and the caption's length as the reference counts it (bigrams). */
    private record Vector(List<Map<String, Double>> weights, double[] norms, int length) {
        static Vector of(NGrams grams, Map<String, Integer> documentFrequency, double logN) {
            List<Map<String, Double>> weights = new ArrayList<>();
            double[] norms = new double[N_MAX];
            int length = 0;
            for (int n = 0; n < N_MAX; n++) {
                Map<String, Double> w = new HashMap<>();
                for (Map.Entry<String, Integer> e : grams.counts.get(n).entrySet()) {
                    double idf = logN - Math.log(Math.max(1.0, documentFrequency.getOrDefault(e.getKey(), 0)));
                    double v = e.getValue() * idf;
                    w.put(e.getKey(), v);
                    norms[n] += v * v;
                    if (n == 1) length += e.getValue();
                }
                norms[n] = Math.sqrt(norms[n]);
                weights.add(w);
            }
            return new Vector(weights, norms, length);
        }
    }
}
