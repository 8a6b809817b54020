package org.paligemma4j.cli;

import java.io.PrintWriter;
import java.util.List;
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
        boolean topLevel = cl.getParent() == null;
        String message = e.getMessage();
        // A word where the command goes ("paligemma answer ...") is a command name that does not exist.
        if (topLevel && e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()
                && !u.getUnmatched().getFirst().startsWith("-")) {
            String word = u.getUnmatched().getFirst();
            message = "unknown command '" + word + "'";
            List<String> near = cl.getSubcommands().keySet().stream().filter(name -> isTypoOf(word, name)).toList();
            if (!near.isEmpty()) message += " (did you mean " + String.join(" or ", near) + "?)";
        }
        err.println("paligemma" + (topLevel ? "" : " " + cl.getCommandName()) + ": " + message + " (see 'paligemma "
                + (topLevel ? "" : cl.getCommandName() + " ") + "--help')");
        err.flush();
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    /**
     * Whether {@code word} is a mistyped {@code name}: at most a third of its letters (at least one) inserted,
     * deleted or replaced (Levenshtein distance). picocli's own suggestions offered "merge-adapter or serve or
     * convert" for "answer".
     */
    static boolean isTypoOf(String word, String name) {
        int[] previous = new int[name.length() + 1], current = new int[name.length() + 1];
        for (int j = 0; j <= name.length(); j++) previous[j] = j;
        for (int i = 1; i <= word.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= name.length(); j++) {
                int replace = previous[j - 1] + (word.charAt(i - 1) == name.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(replace, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[name.length()] <= Math.max(1, name.length() / 3);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
