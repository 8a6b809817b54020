package org.paligemma4j.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.paligemma4j.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code paligemma tokenize}: token ids of text as JSON, exactly as SentencePiece (or the given tokenizer.json)
 * produces them, without BOS/EOS. Outside checks depend on this output format; keep it stable.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Print the token ids of text as JSON (no <bos>/<eos> added).",
                "  --json: read a JSON array of strings on stdin, print one array of ids per string, on one line.",
                "  --text TEXT: print the array of ids of TEXT."})
final class TokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "tokenizer.model, tokenizer.json, tokenizer.json.gz, or a model directory holding one.")
    Path tokenizer;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--json", required = true, description = "Read a JSON array of strings on stdin.")
        boolean json;

        @Option(names = "--text", required = true, paramLabel = "TEXT", description = "Tokenize this one string.")
        String text;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try {
            Tokenizer tok = Tokenizer.load(tokenizer);
            if (input.text != null) {
                out.println(idsJson(tok.encode(input.text)));
            } else {
                JsonNode texts = readStdin();
                StringBuilder line = new StringBuilder("[");
                for (int i = 0; i < texts.size(); i++) {
                    if (i > 0) line.append(',');
                    line.append(idsJson(tok.encode(texts.get(i).textValue())));
                }
                out.println(line.append(']'));
            }
            out.flush();
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("paligemma tokenize: " + e.getMessage());
            err.flush();
            return 1;
        }
    }

    private static JsonNode readStdin() throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(System.in);
        } catch (JacksonException e) {
            throw new IOException("stdin is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || root.isMissingNode() || !root.isArray()) {
            throw new IOException("stdin must hold a JSON array of strings, got " + (root == null || root.isMissingNode()
                    ? "nothing" : root.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        for (int i = 0; i < root.size(); i++) {
            if (!root.get(i).isTextual()) {
                throw new IOException("stdin must hold a JSON array of strings, but element " + i + " is "
                        + root.get(i).getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
            }
        }
        return root;
    }

    private static String idsJson(int[] ids) {
        StringBuilder b = new StringBuilder(ids.length * 7 + 2).append('[');
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) b.append(',');
            b.append(ids[i]);
        }
        return b.append(']').toString();
    }
}
