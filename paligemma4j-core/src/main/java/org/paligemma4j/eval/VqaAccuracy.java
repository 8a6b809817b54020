package org.paligemma4j.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * VQA accuracy as the official VQAv2 evaluation computes it ({@code vqaEval.py} of
 * github.com/GT-Vision-Lab/VQA, latest revision "Fixed processing answers bug"):
 * <ol>
 *   <li>Every answer, human and predicted, has newlines and tabs replaced by spaces and is stripped.</li>
 *   <li>Only when the human answers are not all the same, every answer is {@link #normalize normalized}
 *       (punctuation, then digits, articles and contractions). When they all agree nothing is normalized.</li>
 *   <li>For each human answer i, {@code acc_i = min(1, #(other human answers equal to the prediction) / 3)};
 *       the question's accuracy is the mean of the {@code acc_i} (with 10 answers: the mean of
 *       {@code min(1, #humans that said it / 3)} over the 10 subsets of 9).</li>
 * </ol>
 * The corpus accuracy is the mean over questions, as a fraction (the official script prints it ×100).
 *
 * <p>Deviation, for data that is not VQAv2: with a single reference answer the official formula always gives 0
 * (no other human agrees); here a single answer scores 1 when it equals the prediction after both are
 * normalized, else 0.
 */
public final class VqaAccuracy {
    private VqaAccuracy() {}

    private static final List<String> PUNCTUATION = List.of(";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+",
            "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!");
    /** A period not followed by a digit: the reference's lookbehind is written {@code (?!<=\d)}, a no-op lookahead. */
    private static final Pattern PERIOD = Pattern.compile("(?!<=\\d)(\\.)(?!\\d)");
    private static final Pattern COMMA_IN_NUMBER = Pattern.compile("(\\d)(,)(\\d)");
    /**
     * The reference passes {@code re.UNICODE} (= 32) as the {@code count} argument of {@code sub}, so only the first
     * 32 such periods are removed.
     */
    private static final int PERIODS_REMOVED = 32;
    private static final Set<String> ARTICLES = Set.of("a", "an", "the");
    private static final Map<String, String> NUMBER_WORDS = Map.ofEntries(Map.entry("none", "0"), Map.entry("zero", "0"),
            Map.entry("one", "1"), Map.entry("two", "2"), Map.entry("three", "3"), Map.entry("four", "4"),
            Map.entry("five", "5"), Map.entry("six", "6"), Map.entry("seven", "7"), Map.entry("eight", "8"),
            Map.entry("nine", "9"), Map.entry("ten", "10"));
    /**
     * The reference's contraction table, word → replacement, "|"-separated. Its keys with capitals ("Im", "Ive",
     * "Id've", "I'dve") are left out: they are looked up after lower-casing and can never match.
     */
    private static final Map<String, String> CONTRACTIONS = table(
            "aint ain't|arent aren't|cant can't|couldve could've|couldnt couldn't|couldn'tve couldn't've|"
            + "couldnt've couldn't've|didnt didn't|doesnt doesn't|dont don't|hadnt hadn't|hadnt've hadn't've|"
            + "hadn'tve hadn't've|hasnt hasn't|havent haven't|hed he'd|hed've he'd've|he'dve he'd've|hes he's|"
            + "howd how'd|howll how'll|hows how's|isnt isn't|itd it'd|itd've it'd've|it'dve it'd've|itll it'll|"
            + "let's let's|maam ma'am|mightnt mightn't|mightnt've mightn't've|mightn'tve mightn't've|mightve might've|"
            + "mustnt mustn't|mustve must've|neednt needn't|notve not've|oclock o'clock|oughtnt oughtn't|"
            + "ow's'at 'ow's'at|'ows'at 'ow's'at|'ow'sat 'ow's'at|shant shan't|shed've she'd've|she'dve she'd've|"
            + "she's she's|shouldve should've|shouldnt shouldn't|shouldnt've shouldn't've|shouldn'tve shouldn't've|"
            + "somebody'd somebodyd|somebodyd've somebody'd've|somebody'dve somebody'd've|somebodyll somebody'll|"
            + "somebodys somebody's|someoned someone'd|someoned've someone'd've|someone'dve someone'd've|"
            + "someonell someone'll|someones someone's|somethingd something'd|somethingd've something'd've|"
            + "something'dve something'd've|somethingll something'll|thats that's|thered there'd|"
            + "thered've there'd've|there'dve there'd've|therere there're|theres there's|theyd they'd|"
            + "theyd've they'd've|they'dve they'd've|theyll they'll|theyre they're|theyve they've|twas 'twas|"
            + "wasnt wasn't|wed've we'd've|we'dve we'd've|weve we've|werent weren't|whatll what'll|whatre what're|"
            + "whats what's|whatve what've|whens when's|whered where'd|wheres where's|whereve where've|whod who'd|"
            + "whod've who'd've|who'dve who'd've|wholl who'll|whos who's|whove who've|whyll why'll|whyre why're|"
            + "whys why's|wont won't|wouldve would've|wouldnt wouldn't|wouldnt've wouldn't've|"
            + "wouldn'tve wouldn't've|yall y'all|yall'll y'all'll|y'allll y'all'll|yall'd've y'all'd've|"
            + "y'alld've y'all'd've|y'all'dve y'all'd've|youd you'd|youd've you'd've|you'dve you'd've|youll you'll|"
            + "youre you're|youve you've");

    private static Map<String, String> table(String pairs) {
        Map<String, String> map = new HashMap<>();
        for (String pair : pairs.split("\\|")) {
            String[] kv = pair.split(" ");
            map.put(kv[0], kv[1]);
        }
        return Map.copyOf(map);
    }

    /**
     * The accuracy of {@code prediction} against the human {@code answers} (VQAv2 has 10 per question), in [0, 1].
     *
     * @throws IllegalArgumentException when there is no answer
     */
    public static double score(String prediction, List<String> answers) {
        if (answers.isEmpty()) throw new IllegalArgumentException("VQA accuracy needs at least one human answer");
        String predicted = clean(prediction);
        List<String> humans = new ArrayList<>(answers.size());
        for (String a : answers) humans.add(clean(a));
        if (humans.size() == 1) return normalize(predicted).equals(normalize(humans.get(0))) ? 1.0 : 0.0;
        if (new HashSet<>(humans).size() > 1) {
            humans.replaceAll(VqaAccuracy::normalize);
            predicted = normalize(predicted);
        }
        double sum = 0;
        for (int i = 0; i < humans.size(); i++) {
            int matching = 0;
            for (int j = 0; j < humans.size(); j++) {
                if (j != i && humans.get(j).equals(predicted)) matching++;
            }
            sum += Math.min(1.0, matching / 3.0);
        }
        return sum / humans.size();
    }

    /** Newlines and tabs to spaces, then stripped: what the reference does to every answer first. */
    private static String clean(String answer) {
        return PythonText.strip(answer.replace('\n', ' ').replace('\t', ' '));
    }

    /** The reference's {@code processDigitArticle(processPunctuation(answer))}. */
    public static String normalize(String answer) {
        return digitsArticlesContractions(punctuation(answer));
    }

    /**
     * {@code processPunctuation}: each punctuation mark is deleted when it touches a space somewhere in the answer
     * (or the answer has a comma between digits), else replaced by a space; then periods not followed by a digit go.
     */
    static String punctuation(String in) {
        String out = in;
        boolean numberWithComma = COMMA_IN_NUMBER.matcher(in).find();
        for (String p : PUNCTUATION) {
            if (in.contains(p + " ") || in.contains(" " + p) || numberWithComma) out = out.replace(p, "");
            else out = out.replace(p, " ");
        }
        Matcher m = PERIOD.matcher(out);
        StringBuilder b = new StringBuilder();
        int removed = 0;
        while (removed < PERIODS_REMOVED && m.find()) {
            m.appendReplacement(b, "");
            removed++;
        }
        m.appendTail(b);
        return b.toString();
    }

    /** {@code processDigitArticle}: lower-cased words, number words to digits, articles dropped, contractions restored. */
    static String digitsArticlesContractions(String in) {
        List<String> words = new ArrayList<>();
        for (String word : PythonText.split(in.toLowerCase(Locale.ROOT))) {
            String w = NUMBER_WORDS.getOrDefault(word, word);
            if (!ARTICLES.contains(w)) words.add(w);
        }
        words.replaceAll(w -> CONTRACTIONS.getOrDefault(w, w));
        return String.join(" ", words);
    }
}
