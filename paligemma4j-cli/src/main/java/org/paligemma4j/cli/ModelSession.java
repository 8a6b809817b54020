package org.paligemma4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.GenerationListener;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.generate.TokenListener;
import org.paligemma4j.tokenizer.StreamingDecoder;

/**
 * A model opened for one command run: tokens stream to stdout as they are generated (unless --json), and
 * --verbose reports where the time went.
 */
final class ModelSession implements AutoCloseable {
    private final PaliGemma model;
    private final double loadSeconds;
    private final OutputOptions output;
    private final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    private final StreamingDecoder decoder;

    private ModelSession(PaliGemma model, double loadSeconds, OutputOptions output) {
        this.model = model;
        this.loadSeconds = loadSeconds;
        this.output = output;
        this.decoder = model.tokenizer().newStreamingDecoder();
    }

    /** Opens the model in the --quant format with the --adapter applied and the --kv-cache precision. */
    static ModelSession open(ModelSource source, WeightOptions weights, OutputOptions output) throws IOException {
        long t0 = System.nanoTime();
        var kvCache = weights.kvCache.precision();
        PaliGemma model = ModelLoading.open(source, weights.adapter, output.verbose, weights.format()).withKvCache(kvCache);
        return new ModelSession(model, (System.nanoTime() - t0) / 1e9, output);
    }

    PaliGemma model() {
        return model;
    }

    boolean verbose() {
        return output.verbose;
    }

    /** Standard output in UTF-8. */
    PrintStream out() {
        return out;
    }

    /** Prints each token's text as soon as it is complete; null with --json (nothing is streamed). */
    TokenListener listener() {
        return output.json ? null : id -> out.print(decoder.accept(id));
    }

    /** Prints each token's final text as the generation releases it; null with --json (nothing is streamed). */
    GenerationListener textListener() {
        return output.json ? null : (id, text) -> out.print(text);
    }

    /** Ends the streamed text: whatever the decoder still holds, then a newline. */
    void endStreaming() {
        if (!output.json) out.println(decoder.flush());
    }

    /** With --verbose, the timing line of {@code result} on stderr. */
    void reportTimings(org.paligemma4j.generate.GenerationResult result) {
        if (!output.verbose) return;
        var t = result.timings();
        System.err.printf(Locale.ROOT,
                "load %.2f s | image encode %.2f s%s | prefill %.2f s for %d tokens | %d tokens decoded at %.2f tok/s%n",
                loadSeconds, t.imageSeconds(), t.imageCached() ? " (features cached)" : "", t.prefillSeconds(), result.promptTokens(), t.decodedTokens(),
                t.decodedTokens() == 0 ? 0 : t.decodedTokens() / t.decodeSeconds());
    }

    @Override
    public void close() {
        model.close();
    }
}
