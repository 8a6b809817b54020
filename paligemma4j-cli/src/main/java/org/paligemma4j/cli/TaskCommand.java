package org.paligemma4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.io.ModelSource;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tasks.PaliGemmaTasks;
import org.paligemma4j.tasks.TaskJson;
import org.paligemma4j.tasks.TaskResult;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * What caption, ask, ocr, detect and segment share: arguments are checked before the model loads, tokens stream
 * to stdout while they are generated (or one JSON object is printed at the end with --json), and --verbose adds
 * timings on stderr. A subclass names its prompt, runs its task and adds its own details.
 */
abstract class TaskCommand<R extends TaskResult> implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IMG", description = "Image file (PNG, JPEG, GIF, BMP, WebP).")
    Path image;

    @Mixin
    ModelOptions model;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    OutputOptions output;

    @Mixin
    WeightOptions weights;

    /** Checks this command's arguments and loads what it needs besides the model, before the model loads. */
    void prepare() throws IOException {}

    /** Runs the task (tokens reach the listener configured on {@code tasks}). */
    abstract R run(PaliGemmaTasks tasks, RgbImage picture);

    /** Adds the task's own fields to the JSON result. */
    void addJson(R result, ObjectNode json, RgbImage picture) {}

    /** Prints what follows the streamed text in readable mode (e.g. the parsed objects). */
    void printDetails(R result, PrintStream out, RgbImage picture) {}

    /** Work on the result before it is printed, such as writing a drawing. */
    void afterRun(R result, RgbImage picture) throws IOException {}

    @Override
    public final Integer call() throws IOException {
        prepare();
        ModelSource source = model.source();
        GenerationOptions options = sampling.toOptions(model);
        RgbImage picture = ImageLoader.load(image);
        try (ModelSession session = ModelSession.open(source, weights, output)) {
            PaliGemmaTasks tasks = PaliGemmaTasks.of(session.model()).withOptions(options).withListener(session.listener());
            R result = run(tasks, picture);
            afterRun(result, picture);
            if (output.json) {
                session.out().println(toJson(result, picture));
            } else {
                session.endStreaming();
                printDetails(result, session.out(), picture);
            }
            session.reportTimings(result.output());
        }
        return 0;
    }

    private ObjectNode toJson(R result, RgbImage picture) {
        ObjectNode o = TaskJson.result(spec.name(), result, image.toString(), picture.width(), picture.height());
        addJson(result, o, picture);
        return o;
    }

    /** A wrong argument found after parsing: one line and exit code 2, like picocli's own usage errors. */
    ParameterException usageError(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
