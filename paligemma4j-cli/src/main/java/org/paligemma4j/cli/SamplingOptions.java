package org.paligemma4j.cli;

import org.paligemma4j.generate.GenerationOptions;
import picocli.CommandLine.Option;

/** Generation length and sampling options. Greedy unless --temperature, --top-k or --top-p asks for sampling. */
final class SamplingOptions {
    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64",
            description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", description = "Sample with this temperature (default: greedy).")
    Double temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "Sample among the K most likely tokens.")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "Sample among the most likely tokens whose probability reaches P.")
    Double topP;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Random seed for sampling (default: ${DEFAULT-VALUE}).")
    long seed;

    GenerationOptions toOptions(ModelOptions model) {
        if (maxNewTokens <= 0) throw new CliException("--max-new-tokens must be positive, got " + maxNewTokens);
        GenerationOptions o = GenerationOptions.defaults().withMaxNewTokens(maxNewTokens).withSlidingWindow(model.semantics());
        if (temperature != null || topK != null || topP != null) {
            double t = temperature == null ? 1.0 : temperature;
            if (!(t > 0)) throw new CliException("--temperature must be positive, got " + t);
            int k = topK == null ? 0 : topK;
            if (k < 0) throw new CliException("--top-k must be positive, got " + k);
            double p = topP == null ? 1.0 : topP;
            if (!(p > 0 && p <= 1)) throw new CliException("--top-p must be in (0, 1], got " + p);
            o = o.withSampling(t, k, p, seed);
        }
        return o;
    }
}
