package org.paligemma4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code bin/paligemma}. */
@Command(name = "paligemma", mixinStandardHelpOptions = true, version = "paligemma4j 0.1.0",
        description = "Run Google's PaliGemma vision-language models in pure Java.",
        subcommands = {CommandLine.HelpCommand.class, SynthCommand.class, InspectCommand.class, BenchCommand.class,
                DecodeOutputCommand.class, TokenizeCommand.class, GenerateCommand.class, DumpCommand.class, QuantizeCommand.class,
                CaptionCommand.class, AskCommand.class, OcrCommand.class, DetectCommand.class, SegmentCommand.class,
                PullCommand.class, ModelsCommand.class, RmCommand.class, ServeCommand.class,
                GradsCommand.class, TrainCommand.class, MergeAdapterCommand.class, EvalCommand.class,
                ScenesCommand.class, ScenesScoreCommand.class, InitCommand.class, ConvertCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Main::reportFailure);
        cl.setParameterExceptionHandler(Main::reportUsageError);
        return cl.execute(args);
    }

    /**
     * Failures the user can fix (bad files, bad values) print one line naming the command and the
     * problem; only genuine bugs print a stack trace, and only with PALIGEMMA_DEBUG set.
     */
    private static int reportFailure(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        String message = switch (e) {
            // The reason, where the thrower gave one ("directory has no tokenizer.model or tokenizer.json"), says
            // which file is missing when getFile() names the folder it was looked for in.
            case java.nio.file.NoSuchFileException n -> n.getFile() + ": " + (n.getReason() != null ? n.getReason() : "no such file");
            case java.nio.file.AccessDeniedException a -> a.getFile() + ": permission denied";
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
        err.println("paligemma " + cl.getCommandName() + ": " + message);
        if (System.getenv("PALIGEMMA_DEBUG") != null) e.printStackTrace(err);
        err.flush();
        return 1;
    }

    /** Wrong arguments: one line naming the command and the problem, exit code 2 (no usage dump). */
    private static int reportUsageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("paligemma " + cl.getCommandName() + ": " + e.getMessage() + " (see 'paligemma "
                + (cl.getParent() == null ? "" : cl.getCommandName() + " ") + "--help')");
        err.flush();
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
