package org.paligemma4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.BeamSearch;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.generate.Sequence;
import org.paligemma4j.generate.TokenLogprob;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.image.VideoFrames;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate text for one or more images (or video frames) and a raw prompt (e.g. \"caption en\", \"answer en what is this?\").",
                "Tokens stream to stdout as they are generated; with --json one object {\"ids\":[…],\"text\":\"…\"} is printed at the end.",
                "With --num-beams, beam search prints {\"sequences\":[{\"ids\":[…],\"text\":\"…\",\"score\":S},…]}, best first.",
                "With --requests FILE.jsonl, every line {\"image\":…,\"prompt\":…} runs through the batched engine and one",
                "{\"ids\":[…],\"text\":\"…\"} line per request is printed, in the input order."})
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--image", paramLabel = "IMG",
            description = "Image file (PNG, JPEG, GIF, BMP, WebP); repeat for several images in one prompt (their tokens come first, in order).")
    List<Path> images = new ArrayList<>();

    @Option(names = "--video", paramLabel = "PATH",
            description = "A video fed as several images: an animated GIF, an MP4/MOV (H.264) or a folder of frames.")
    Path video;

    @Option(names = "--frames", paramLabel = "N", defaultValue = "8",
            description = "Frames sampled uniformly from --video (default: ${DEFAULT-VALUE}).")
    int frames;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "The task prefix, e.g. \"caption en\".")
    String prompt;

    @Option(names = "--requests", paramLabel = "FILE.jsonl",
            description = "Run every request of a JSON Lines file through the batched engine (see 'Batch generation' in the README).")
    Path requests;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "8",
            description = "With --requests: sequences decoded together (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--stop", paramLabel = "TEXT", description = "End generation when the output contains TEXT (repeatable); the text ends before it.")
    List<String> stops = new ArrayList<>();

    @Option(names = "--logprobs", paramLabel = "K",
            description = "Report each generated token's log-probability and its K most likely alternatives (in --json output).")
    Integer logprobs;

    @Option(names = "--num-beams", paramLabel = "N", description = "Beam search with N beams (the reference's rules).")
    Integer numBeams;

    @Option(names = "--num-return-sequences", paramLabel = "K", description = "Beam search: how many sequences to print (default: 1).")
    Integer numReturnSequences;

    @Option(names = "--length-penalty", paramLabel = "L", description = "Beam search: scores are sum / length^L (default: 1.0).")
    Double lengthPenalty;

    @Option(names = "--eos-token-id", paramLabel = "ID", description = "End-of-sequence id, replacing the model's (repeatable).")
    List<Integer> eosTokenIds = new ArrayList<>();

    @Mixin
    OutputOptions output;

    @Mixin
    WeightOptions weights;

    @Override
    public Integer call() throws IOException {
        ModelSource source = model.source();
        GenerationOptions options = options();
        if (requests != null) {
            if (!images.isEmpty() || video != null || prompt != null) {
                throw usage("--requests takes the images and prompts from the file: leave out --image, --video and --prompt");
            }
            if (numBeams != null) throw usage("--num-beams is not supported with --requests");
            if (!eosTokenIds.isEmpty()) throw usage("--eos-token-id is not supported with --requests");
            if (maxBatch < 1) throw usage("--max-batch must be at least 1, got " + maxBatch);
            try (ModelSession session = ModelSession.open(source, weights, output)) {
                return new BatchRequests(session, requests, options, maxBatch).run();
            }
        }
        if (prompt == null) throw usage("Missing required option: '--prompt=TEXT' (or --requests FILE.jsonl)");
        List<RgbImage> pictures = pictures();
        try (ModelSession session = ModelSession.open(source, weights, output)) {
            PaliGemma pg = session.model();
            if (numBeams != null) return beamSearch(session, pictures, options);
            var prepared = pg.prepare(pictures, prompt, options.maxNewTokens());
            GenerationResult result = new Sequence(pg.model(), pg.tokenizer(), prepared.ids(), prepared.image(), options,
                    eosIds(pg), session.textListener()).generateAlone(prepared.imageSeconds(), prepared.imageCached());
            if (output.json) session.out().println(resultJson(pg, result));
            else session.endStreaming();
            session.reportTimings(result);
        }
        return 0;
    }

    private GenerationOptions options() {
        for (String s : stops) if (s.isEmpty()) throw new CliException("--stop must not be empty");
        GenerationOptions o = sampling.toOptions(model).withStopStrings(stops);
        if (logprobs != null) {
            if (logprobs < 0) throw new CliException("--logprobs must be 0 or more, got " + logprobs);
            o = o.withTopLogprobs(logprobs);
        }
        if (numBeams == null && (numReturnSequences != null || lengthPenalty != null)) {
            throw usage("--num-return-sequences and --length-penalty need --num-beams");
        }
        return o;
    }

    /** A wrong combination of arguments: reported like picocli's own usage errors (one line, exit code 2). */
    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** The images of the prompt: every --image, then the frames of --video. */
    private List<RgbImage> pictures() throws IOException {
        List<RgbImage> out = new ArrayList<>();
        for (Path p : images) out.add(ImageLoader.load(p));
        if (video != null) {
            if (frames < 1) throw usage("--frames must be at least 1, got " + frames);
            out.addAll(VideoFrames.sample(video, frames));
        }
        if (out.isEmpty()) throw usage("Missing required option: '--image=IMG' (or --video PATH)");
        return out;
    }

    /** --eos-token-id when given, else the model's end-of-sequence ids. */
    private int[] eosIds(PaliGemma pg) {
        for (int id : eosTokenIds) {
            if (id < 0 || id >= pg.model().vocabSize()) {
                throw new CliException("--eos-token-id " + id + " is outside the vocabulary of " + pg.model().vocabSize());
            }
        }
        return eosTokenIds.isEmpty() ? pg.stopIds() : eosTokenIds.stream().mapToInt(Integer::intValue).toArray();
    }

    private int beamSearch(ModelSession session, List<RgbImage> pictures, GenerationOptions options) {
        if (options.doSample()) throw usage("--num-beams is deterministic: leave out --temperature, --top-k and --top-p");
        if (!stops.isEmpty() || logprobs != null) throw usage("--stop and --logprobs are not supported with --num-beams");
        PaliGemma pg = session.model();
        BeamSearch.Options o;
        try {
            o = new BeamSearch.Options(numBeams, numReturnSequences == null ? 1 : numReturnSequences,
                    lengthPenalty == null ? 1.0 : lengthPenalty, options.maxNewTokens(), eosIds(pg), options.slidingWindow());
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        var prepared = pg.prepare(pictures, prompt, options.maxNewTokens());
        List<BeamSearch.Hypothesis> found = BeamSearch.search(pg.model(), prepared.ids(), prepared.image(), o);
        if (output.json) {
            List<String> rows = new ArrayList<>();
            for (BeamSearch.Hypothesis h : found) {
                rows.add("{\"ids\":" + Json.ints(h.ids()) + ",\"text\":\"" + Json.escape(pg.tokenizer().decode(h.ids()))
                        + "\",\"score\":" + Json.number(h.score()) + "}");
            }
            session.out().println("{\"sequences\":[" + String.join(",", rows) + "]}");
        } else {
            for (BeamSearch.Hypothesis h : found) {
                session.out().printf(Locale.ROOT, "%.6f\t%s%n", h.score(), pg.tokenizer().decode(h.ids()));
            }
        }
        return 0;
    }

    /** {@code {"ids":[…],"text":"…"}}, with the log-probabilities when they were asked for. */
    static String resultJson(PaliGemma pg, GenerationResult result) {
        StringBuilder b = new StringBuilder("{\"ids\":").append(Json.ints(result.ids())).append(",\"text\":\"")
                .append(Json.escape(result.text())).append('"');
        if (!result.logprobs().isEmpty()) {
            b.append(",\"logprobs\":[");
            for (int i = 0; i < result.logprobs().size(); i++) {
                TokenLogprob t = result.logprobs().get(i);
                b.append(i > 0 ? ",{" : "{").append(logprobFields(pg, t.id(), t.logprob())).append(",\"top\":[");
                for (int k = 0; k < t.topIds().length; k++) {
                    b.append(k > 0 ? ",{" : "{").append(logprobFields(pg, t.topIds()[k], t.topLogprobs()[k])).append('}');
                }
                b.append("]}");
            }
            b.append(']');
        }
        return b.append('}').toString();
    }

    private static String logprobFields(PaliGemma pg, int id, float logprob) {
        return "\"id\":" + id + ",\"token\":\"" + Json.escape(pg.tokenizer().decode(new int[] {id})) + "\",\"logprob\":"
                + Json.number(logprob);
    }
}
