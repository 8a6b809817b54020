package org.paligemma4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code bin/paligemma}. */
@Command(name = "paligemma", mixinStandardHelpOptions = true, version = "paligemma4j 0.1.0",
        description = "Run Google's PaliGemma vision-language models in pure Java.",
        subcommands = {CommandLine.HelpCommand.class, TokenizeCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        return cl.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
