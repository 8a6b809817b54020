package org.paligemma4j.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The tokenization the COCO caption evaluation applies before CIDEr ({@code pycocoevalcap/tokenizer/ptbtokenizer.py}):
 * Stanford CoreNLP 3.4.1's PTBTokenizer with {@code -preserveLines -lowerCase}, then every token found in the
 * reference's punctuation list ({@code '' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;}) removed.
 *
 * <p>This class re-implements the PTB rules that shape captions, checked against CoreNLP 3.4.1's output: lower
 * case; whitespace splitting; commas (except between digits), semicolons, quotes and brackets split off anywhere;
 * runs of {@code !}/{@code ?} kept together ("!?" is one token, which the list does not remove); colons, percent
 * signs and quotes split off word ends, {@code $} and {@code #} off word starts; a final period split off unless the
 * word is an acronym ("u.s.", "a.m.") or a common abbreviation ("mr.", "st.", "etc.", months, titles); "..." one
 * token; the clitics {@code n't 's 're 've 'll 'd 'm} split off ("don't" → "do n't", "dog's" → "dog 's"), and
 * "cannot", "gonna", "gotta", "wanna", "gimme", "lemme" split in two.
 *
 * <p>Brackets come out as CoreNLP writes them after lower-casing, {@code -lrb- -rrb- -lsb- -rsb- -lcb- -rcb-}; the
 * reference's list holds the upper-case forms, so these tokens stay in the tokenized captions, exactly as in the
 * COCO evaluation. Known deviations: other symbols ({@code + = * / & ° < >}) stay inside words where CoreNLP
 * sometimes splits them off; CoreNLP's full abbreviation list and its special cases ("rock 'n' roll",
 * "dog's-eye") are not reproduced.
 */
public final class PtbTokenizer {
    private PtbTokenizer() {}

    /** The reference's removal list as it meets lower-cased tokens (plus the raw quote, which CoreNLP rewrites to `` or ''). */
    private static final Set<String> REMOVED = Set.of("''", "'", "``", "`", "\"", ".", "?", "!", ",", ":", "-", "--", "...", ";");
    private static final Map<Character, String> BRACKETS = Map.of('(', "-lrb-", ')', "-rrb-", '[', "-lsb-", ']', "-rsb-",
            '{', "-lcb-", '}', "-rcb-");
    /** Characters split off the end of a word (the period has its own rules). */
    private static final String TRAILING = ":%'`";
    /** Characters split off the start of a word. */
    private static final String LEADING = "'`$#";
    /** Words CoreNLP 3.4.1 keeps a final period on (checked one by one against its output). */
    private static final Set<String> ABBREVIATIONS = Set.of("mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "inc", "co",
            "ltd", "corp", "bros", "prof", "rev", "gen", "gov", "sen", "rep", "capt", "col", "lt", "sgt", "ave", "blvd",
            "rd", "mt", "ft", "dept", "est", "etc", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
            "nov", "dec");
    private static final List<String> CLITICS = List.of("n't", "'s", "'re", "'ve", "'ll", "'d", "'m");
    private static final Map<String, List<String>> SPLIT_WORDS = Map.of("cannot", List.of("can", "not"),
            "gonna", List.of("gon", "na"), "gotta", List.of("got", "ta"), "wanna", List.of("wan", "na"),
            "gimme", List.of("gim", "me"), "lemme", List.of("lem", "me"));

    /** The caption's tokens after lower-casing, PTB splitting and the reference's punctuation removal. */
    public static List<String> tokenize(String caption) {
        List<String> tokens = new ArrayList<>();
        for (String chunk : PythonText.split(caption.toLowerCase(Locale.ROOT))) splitChunk(chunk, tokens);
        tokens.removeIf(REMOVED::contains);
        return tokens;
    }

    /** {@code tokenize(caption)} joined by single spaces: the string the reference hands to the scorer. */
    public static String tokenizeToString(String caption) {
        return String.join(" ", tokenize(caption));
    }

    /** A whitespace-free chunk: the characters that end a token wherever they are, and the words between them. */
    private static void splitChunk(String chunk, List<String> out) {
        int start = 0;
        int i = 0;
        while (i < chunk.length()) {
            char c = chunk.charAt(i);
            int end = i + 1;
            String token;
            if (BRACKETS.containsKey(c)) {
                token = BRACKETS.get(c);
            } else if (c == '"' || c == ';') {
                token = String.valueOf(c);
            } else if (c == ',') {
                boolean inNumber = i > 0 && end < chunk.length() && Character.isDigit(chunk.charAt(i - 1))
                        && Character.isDigit(chunk.charAt(end));
                token = inNumber ? null : ",";
            } else if (c == '!' || c == '?') {
                while (end < chunk.length() && (chunk.charAt(end) == '!' || chunk.charAt(end) == '?')) end++;
                token = chunk.substring(i, end);
            } else if (c == '-' && end < chunk.length() && chunk.charAt(end) == '-') {
                end++;
                token = "--";
            } else {
                token = null;
            }
            if (token == null) {
                i++;
                continue;
            }
            if (i > start) word(chunk.substring(start, i), out);
            out.add(token);
            start = end;
            i = end;
        }
        if (start < chunk.length()) word(chunk.substring(start), out);
    }

    /** One word: leading and trailing punctuation peeled off, the clitics split, appended in order to {@code out}. */
    private static void word(String piece, List<String> out) {
        int start = 0;
        int end = piece.length();
        while (start < end && LEADING.indexOf(piece.charAt(start)) >= 0) {
            // "'90s" stays whole.
            if (piece.charAt(start) == '\'' && start + 1 < end && Character.isDigit(piece.charAt(start + 1))) break;
            out.add(String.valueOf(piece.charAt(start++)));
        }
        List<String> tail = new ArrayList<>();
        while (end > start) {
            String core = piece.substring(start, end);
            char last = piece.charAt(end - 1);
            if (core.endsWith("...")) {
                tail.addFirst("...");
                end -= 3;
            } else if (last == '.' && !keepsPeriod(core)) {
                tail.addFirst(".");
                end--;
            } else if (TRAILING.indexOf(last) >= 0) {
                tail.addFirst(String.valueOf(last));
                end--;
            } else {
                break;
            }
        }
        if (end > start) clitics(piece.substring(start, end), out);
        out.addAll(tail);
    }

    /** "u.s.", "a.m.", "e.g." (letters each followed by a period) and the known abbreviations keep their period. */
    private static boolean keepsPeriod(String word) {
        String stem = word.substring(0, word.length() - 1);
        return ABBREVIATIONS.contains(stem) || word.matches("(\\p{L}\\.){2,}");
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
