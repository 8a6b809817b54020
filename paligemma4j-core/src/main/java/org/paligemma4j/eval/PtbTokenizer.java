package org.paligemma4j.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The tokenization the COCO caption evaluation applies before CIDEr ({@code pycocoevalcap/tokenizer/ptbtokenizer.py}):
 * Stanford CoreNLP's PTBTokenizer with {@code -lowerCase -preserveLines}, then every token in its punctuation list
 * ({@code '' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;}) removed.
 *
 * <p>This class re-implements the PTB rules that shape captions, not the whole CoreNLP lexer: lower-casing;
 * whitespace splitting; punctuation split off the ends of words (and commas, semicolons, question and exclamation
 * marks, quotes and brackets inside them, except commas between digits); a final period kept on acronyms such as
 * "u.s." and split off otherwise; the clitics {@code n't 's 're 've 'll 'd 'm} split off ("don't" → "do n't",
 * "dog's" → "dog 's"), and "cannot", "gonna", "gotta", "wanna", "gimme", "lemme" split as PTB does. Known deviations:
 * square brackets are removed like round and curly ones (CoreNLP writes them as -LSB-/-RSB-, which the
 * reference's list does not remove); CoreNLP's abbreviation list ("mr.", "etc.") is not consulted, so a period
 * after such a word is split off (and then removed); symbols are otherwise left inside words.
 */
public final class PtbTokenizer {
    private PtbTokenizer() {}

    /** Tokens the reference removes after tokenizing (its PUNCTUATIONS list, brackets as the raw characters). */
    private static final Set<String> REMOVED = Set.of("''", "'", "``", "`", "\"", "(", ")", "{", "}", "[", "]",
            ".", "?", "!", ",", ":", "-", "--", "...", ";");
    /** Characters split off the start of a word. */
    private static final String LEADING = "\"'`([{$#";
    /** Characters split off the end of a word. */
    private static final String TRAILING = ".,;:?!\"'`)]}%";
    /** Characters that end a token wherever they are (a comma only when not between digits). */
    private static final String INSIDE = ",;?!\"()[]{}";
    private static final List<String> CLITICS = List.of("n't", "'s", "'re", "'ve", "'ll", "'d", "'m");
    private static final Map<String, List<String>> SPLIT_WORDS = Map.of("cannot", List.of("can", "not"),
            "gonna", List.of("gon", "na"), "gotta", List.of("got", "ta"), "wanna", List.of("wan", "na"),
            "gimme", List.of("gim", "me"), "lemme", List.of("lem", "me"));

    /** The caption's tokens after lower-casing, PTB splitting and punctuation removal. */
    public static List<String> tokenize(String caption) {
        List<String> tokens = new ArrayList<>();
        for (String chunk : PythonText.split(caption.toLowerCase(Locale.ROOT))) {
            for (String piece : splitInside(chunk)) word(piece, tokens);
        }
        tokens.removeIf(REMOVED::contains);
        return tokens;
    }

    /** {@code tokenize(caption)} joined by single spaces: the string the reference hands to the scorer. */
    public static String tokenizeToString(String caption) {
        return String.join(" ", tokenize(caption));
    }

    /** Splits a whitespace-free chunk at the characters that always end a token (kept as their own pieces). */
    private static List<String> splitInside(String chunk) {
        List<String> pieces = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < chunk.length(); i++) {
            char c = chunk.charAt(i);
            if (INSIDE.indexOf(c) < 0) continue;
            boolean numberComma = c == ',' && i > 0 && i + 1 < chunk.length()
                    && Character.isDigit(chunk.charAt(i - 1)) && Character.isDigit(chunk.charAt(i + 1));
            if (numberComma) continue;
            if (i > start) pieces.add(chunk.substring(start, i));
            pieces.add(String.valueOf(c));
            start = i + 1;
        }
        if (start < chunk.length()) pieces.add(chunk.substring(start));
        return pieces;
    }

    /** One piece: leading and trailing punctuation peeled off, the clitics split, appended in order to {@code out}. */
    private static void word(String piece, List<String> out) {
        int start = 0;
        int end = piece.length();
        while (start < end && LEADING.indexOf(piece.charAt(start)) >= 0) out.add(String.valueOf(piece.charAt(start++)));
        List<String> tail = new ArrayList<>();
        while (end > start) {
            String core = piece.substring(start, end);
            if (core.endsWith("...")) {
                tail.addFirst("...");
                end -= 3;
            } else if (TRAILING.indexOf(piece.charAt(end - 1)) >= 0 && !(piece.charAt(end - 1) == '.' && isAcronym(core))) {
                tail.addFirst(String.valueOf(piece.charAt(end - 1)));
                end--;
            } else {
                break;
            }
        }
        String core = piece.substring(start, end);
        if (!core.isEmpty()) clitics(core, out);
        out.addAll(tail);
    }

    /** "u.s." or "a.m.": letters separated by periods, ending in one. */
    private static boolean isAcronym(String core) {
        return core.length() >= 4 && core.matches("(\\p{L}\\.)+\\p{L}?\\.?") && core.indexOf('.') < core.length() - 1;
    }

    private static void clitics(String core, List<String> out) {
        List<String> whole = SPLIT_WORDS.get(core);
        if (whole != null) {
            out.addAll(whole);
            return;
        }
        for (String clitic : CLITICS) {
            if (core.length() > clitic.length() && core.endsWith(clitic)) {
                out.add(core.substring(0, core.length() - clitic.length()));
                out.add(clitic);
                return;
            }
        }
        out.add(core);
    }
}
