package org.paligemma4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.paligemma4j.model.KvCache;
import org.paligemma4j.model.PaliGemmaModel;
import org.paligemma4j.model.SlidingWindowSemantics;

/**
 * Beam search with the reference's exact rules (transformers' beam scorer with {@code early_stopping=False}):
 *
 * <ol>
 *   <li>Each step scores every beam's continuations by the beam's running sum of log-probabilities plus the
 *       float32 log-softmax of its logits; at the first step only beam 0 is live.</li>
 *   <li>The best {@code max(2, 1 + eos ids) × beams} candidates are walked in rank order: an end-of-sequence
 *       candidate ranked among the first {@code beams} finishes a hypothesis (later ones are dropped), any other
 *       candidate continues as a running beam until {@code beams} are collected.</li>
 *   <li>A hypothesis scores {@code sum / length^lengthPenalty}, its length counting the end-of-sequence token;
 *       the best {@code beams} hypotheses are kept.</li>
 *   <li>Once {@code beams} hypotheses are finished, the search stops when the worst of them is at least the
 *       best candidate's sum divided by {@code generated^lengthPenalty}.</li>
 *   <li>Without that early stop, the running beams are offered as hypotheses after the last step.</li>
 * </ol>
 *
 * All beams read the prompt from one shared KV cache; reordering the beams copies only their generated
 * positions, and each step decodes every beam in one batched pass.
 */
public final class BeamSearch {
    /** What to search for; {@code eosIds} end a hypothesis. */
    public record Options(int numBeams, int numReturnSequences, double lengthPenalty, int maxNewTokens, int[] eosIds,
                          SlidingWindowSemantics slidingWindow) {
        public Options {
            if (numBeams < 1) throw new IllegalArgumentException("the number of beams must be at least 1, got " + numBeams);
            if (numReturnSequences < 1 || numReturnSequences > numBeams) {
                throw new IllegalArgumentException("the number of returned sequences must be between 1 and the number of beams ("
                        + numBeams + "), got " + numReturnSequences);
            }
            if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be positive, got " + maxNewTokens);
            if (!Double.isFinite(lengthPenalty)) throw new IllegalArgumentException("the length penalty must be a finite number");
            eosIds = eosIds.clone();
        }

        @Override
        public int[] eosIds() {
            return eosIds.clone();
        }
    }

    /**
     * A returned sequence: its generated ids (with the end-of-sequence id that finished it, if one did) and its
     * length-penalised score.
     */
    public record Hypothesis(int[] ids, double score, boolean finishedByEos) {
        public Hypothesis {
            ids = ids.clone();
        }

        @Override
        public int[] ids() {
            return ids.clone();
        }
    }

    private BeamSearch() {}

    /** The best {@code numReturnSequences} hypotheses, best first. */
    public static List<Hypothesis> search(PaliGemmaModel model, int[] promptIds, PaliGemmaModel.ImageEmbedding image, Options o) {
        int beams = o.numBeams(), steps = o.maxNewTokens(), vocab = model.vocabSize(), prompt = promptIds.length;
        int[] eos = o.eosIds();
        KvCache promptCache = model.newCache(prompt);
        float[] x = model.embedPrompt(promptIds, image);
        model.decode(x, prompt, promptCache, prompt, o.slidingWindow(), null);
        float[] logits = model.logits(x, prompt - 1, 1);

        KvCache[] caches = new KvCache[beams], spare = new KvCache[beams];
        for (int b = 0; b < beams; b++) {
            caches[b] = KvCache.sharing(promptCache, steps);
            spare[b] = KvCache.sharing(promptCache, steps);
        }
        int[][] tokens = new int[beams][steps];
        float[] sums = new float[beams];
        Arrays.fill(sums, 1, beams, -1e9f); // all beams start from the same prompt: only beam 0 is live
        Finished finished = new Finished(beams, o.lengthPenalty());
        boolean done = false;
        int candidates = Math.max(2, 1 + eos.length) * beams;
        int[] prefixes = new int[beams];
        Arrays.fill(prefixes, prompt);

        for (int step = 0; step < steps; step++) {
            // At the first step every beam has the prompt's logits; afterwards each beam its own row.
            float[] scores = new float[beams * vocab];
            for (int b = 0; b < beams; b++) {
                int row = step == 0 ? 0 : b * vocab;
                float logSumExp = (float) TokenLogprob.logSumExp(logits, row, vocab);
                for (int v = 0; v < vocab; v++) scores[b * vocab + v] = sums[b] + (logits[row + v] - logSumExp);
            }
            int[] best = TokenLogprob.topK(scores, 0, beams * vocab, candidates);
            int[] parents = new int[beams], next = new int[beams];
            float[] nextSums = new float[beams];
            int kept = 0;
            for (int rank = 0; rank < best.length && kept < beams; rank++) {
                int parent = best[rank] / vocab, token = best[rank] % vocab;
                float sum = scores[best[rank]];
                if (contains(eos, token)) {
                    if (rank >= beams) continue;
                    int[] ids = Arrays.copyOf(tokens[parent], step + 1);
                    ids[step] = token;
                    finished.add(ids, sum, step + 1, true);
                } else {
                    parents[kept] = parent;
                    next[kept] = token;
                    nextSums[kept] = sum;
                    kept++;
                }
            }
            if (kept < beams) throw new IllegalStateException("beam search found only " + kept + " continuations for " + beams + " beams");
            int[][] nextTokens = new int[beams][];
            for (int b = 0; b < beams; b++) {
                nextTokens[b] = tokens[parents[b]].clone();
                nextTokens[b][step] = next[b];
                if (step > 0) spare[b].copyFrom(caches[parents[b]]);
            }
            if (step > 0) {
                KvCache[] t = caches;
                caches = spare;
                spare = t;
            }
            tokens = nextTokens;
            sums = nextSums;
            done = finished.isDone(scores[best[0]], step + 1);
            if (done || step == steps - 1) break;
            float[] h = model.embedTokens(next);
            model.decodeStep(h, beams, caches, prefixes, o.slidingWindow());
            logits = model.stepLogits(h, beams);
        }
        if (!done) for (int b = 0; b < beams; b++) finished.add(tokens[b], sums[b], steps, false);
        return finished.best(o.numReturnSequences());
    }

    private static boolean contains(int[] ids, int id) {
        for (int i : ids) if (i == id) return true;
        return false;
    }

    /** The best {@code capacity} finished hypotheses, as the reference's beam hypotheses list keeps them. */
    private static final class Finished {
        private final int capacity;
        private final double lengthPenalty;
        private final List<Hypothesis> kept = new ArrayList<>();
        private double worst = 1e9;

        Finished(int capacity, double lengthPenalty) {
            this.capacity = capacity;
            this.lengthPenalty = lengthPenalty;
        }

        void add(int[] ids, float sum, int generatedLength, boolean byEos) {
            double score = sum / Math.pow(generatedLength, lengthPenalty);
            if (kept.size() < capacity || score > worst) {
                kept.add(new Hypothesis(ids, score, byEos));
                if (kept.size() > capacity) {
                    Hypothesis lowest = kept.stream().min(Comparator.comparingDouble(Hypothesis::score)).orElseThrow();
                    kept.remove(lowest);
                    worst = kept.stream().mapToDouble(Hypothesis::score).min().orElseThrow();
                } else {
                    worst = Math.min(score, worst);
                }
            }
        }

        /** The {@code early_stopping=False} heuristic: no running beam can still beat the worst kept hypothesis. */
        boolean isDone(float bestCandidateSum, int generated) {
            if (kept.size() < capacity) return false;
            return worst >= bestCandidateSum / Math.pow(generated, lengthPenalty);
        }

        List<Hypothesis> best(int n) {
            return kept.stream().sorted(Comparator.comparingDouble(Hypothesis::score).reversed()).limit(n).toList();
        }
    }
}
