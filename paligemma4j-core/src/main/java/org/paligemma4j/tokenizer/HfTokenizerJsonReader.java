package org.paligemma4j.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Reads a Hugging Face {@code tokenizer.json} whose model is BPE with byte fallback, as Gemma's are. The
 * vocabulary and the 580k merges are streamed; the small parts (added tokens, normalizer, pre-tokenizer) are read
 * as trees. Components outside what Gemma's files use are refused by name instead of being ignored.
 */
final class HfTokenizerJsonReader {
    private HfTokenizerJsonReader() {}

    /** An entry of {@code added_tokens}. */
    record AddedToken(int id, String content, boolean special, boolean normalized) {}

    /** The parsed file: the vocabulary by id (types derived as SentencePiece would have them) and what the encoder needs. */
    record Model(String[] pieces, PieceType[] types, List<AddedToken> addedTokens, List<UnaryOperator<String>> normalizer,
                 List<HfBpeEncoder.Split> preTokenizer, int[] mergeLeft, int[] mergeRight, int[] mergeResult,
                 boolean byteFallback, boolean fuseUnk, boolean ignoreMerges) {

        /** Builds the encoder over the final vocabulary (which may hold extra tokens appended after these). */
        HfBpeEncoder encoder(Vocabulary vocab) {
            PairRankMap ranks = new PairRankMap(mergeLeft.length);
            for (int r = 0; r < mergeLeft.length; r++) ranks.put(mergeLeft[r], mergeRight[r], r);
            return new HfBpeEncoder(vocab, trie(false), trie(true), normalizer, preTokenizer, ranks, mergeResult,
                    byteFallback, fuseUnk, ignoreMerges);
        }

        private PrefixTrie trie(boolean normalizedTokens) {
            List<AddedToken> chosen = addedTokens.stream().filter(t -> t.normalized() == normalizedTokens).toList();
            byte[][] strings = new byte[chosen.size()][];
            int[] ids = new int[chosen.size()];
            for (int i = 0; i < ids.length; i++) {
                strings[i] = chosen.get(i).content().getBytes(StandardCharsets.UTF_8);
                ids[i] = chosen.get(i).id();
            }
            return new PrefixTrie(strings, ids);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_MERGES = 1 << 24; // merge ranks are compared as floats, exact up to 2^24

    static Model read(byte[] json, String source) throws TokenizerFormatException {
        try (JsonParser p = JSON.createParser(json)) {
            return read(p, source);
        } catch (TokenizerFormatException e) {
            throw e;
        } catch (JsonProcessingException e) {
            throw new TokenizerFormatException(source + ": invalid JSON at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TokenizerFormatException(source + ": " + e.getMessage(), e);
        }
    }

    private static Model read(JsonParser p, String source) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) throw new TokenizerFormatException(source + ": not a JSON object");
        JsonNode addedTokens = null;
        JsonNode normalizer = null;
        JsonNode preTokenizer = null;
        BpeSection bpe = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            p.nextToken();
            switch (field) {
                case "added_tokens" -> addedTokens = p.readValueAsTree();
                case "normalizer" -> normalizer = p.readValueAsTree();
                case "pre_tokenizer" -> preTokenizer = p.readValueAsTree();
                case "model" -> bpe = readModel(p, source);
                default -> p.skipChildren();
            }
        }
        if (bpe == null) throw new TokenizerFormatException(source + ": no \"model\" section");

        Map<String, Integer> vocab = bpe.vocab;
        List<AddedToken> added = new ArrayList<>();
        long size = 0;
        for (int id : vocab.values()) size = Math.max(size, id + 1L);
        if (addedTokens != null && !addedTokens.isNull()) {
            for (JsonNode t : addedTokens) {
                AddedToken token = addedToken(t, source);
                for (String flag : new String[] {"lstrip", "rstrip", "single_word"}) {
                    if (t.path(flag).asBoolean(false)) {
                        throw new TokenizerFormatException(source + ": added token '" + token.content() + "' uses " + flag
                                + ", which is not supported");
                    }
                }
                added.add(token);
                size = Math.max(size, token.id() + 1L);
            }
        }
        // Every id below the largest must name a token (checked below), so a larger id is damage: refuse it before
        // allocating a table that size.
        if (size > (long) vocab.size() + added.size()) {
            throw new TokenizerFormatException(source + ": token id " + (size - 1) + " is larger than the "
                    + (vocab.size() + added.size()) + " tokens of model.vocab and added_tokens can number");
        }
        String[] pieces = new String[(int) size];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (pieces[e.getValue()] != null) {
                throw new TokenizerFormatException(source + ": model.vocab gives id " + e.getValue() + " to both '"
                        + pieces[e.getValue()] + "' and '" + e.getKey() + "'");
            }
            pieces[e.getValue()] = e.getKey();
        }
        PieceType[] types = new PieceType[pieces.length];
        for (int id = 0; id < size; id++) {
            if (pieces[id] != null) {
                types[id] = bpe.byteFallback && Vocabulary.byteValue(pieces[id]) >= 0 ? PieceType.BYTE : PieceType.NORMAL;
            }
        }
        for (AddedToken t : added) {
            if (pieces[t.id()] != null && !pieces[t.id()].equals(t.content())) {
                throw new TokenizerFormatException(source + ": added token '" + t.content() + "' has id " + t.id()
                        + ", which model.vocab gives to '" + pieces[t.id()] + "'");
            }
            pieces[t.id()] = t.content();
            types[t.id()] = t.special() ? PieceType.CONTROL : PieceType.USER_DEFINED;
        }
        for (int id = 0; id < size; id++) {
            if (pieces[id] == null) throw new TokenizerFormatException(source + ": no token has id " + id);
        }
        if (bpe.unkToken == null || !vocab.containsKey(bpe.unkToken)) {
            throw new TokenizerFormatException(source + ": model.unk_token " + (bpe.unkToken == null ? "is missing"
                    : "'" + bpe.unkToken + "' is not in model.vocab"));
        }
        types[vocab.get(bpe.unkToken)] = PieceType.UNKNOWN;

        int merges = bpe.mergeLeft.size();
        if (merges > MAX_MERGES) throw new TokenizerFormatException(source + ": more than " + MAX_MERGES + " merges");
        int[] left = new int[merges];
        int[] right = new int[merges];
        int[] result = new int[merges];
        for (int r = 0; r < merges; r++) {
            String a = bpe.mergeLeft.get(r);
            String b = bpe.mergeRight.get(r);
            left[r] = vocabId(vocab, a, r, source);
            right[r] = vocabId(vocab, b, r, source);
            result[r] = vocabId(vocab, a + b, r, source);
        }
        return new Model(pieces, types, List.copyOf(added), normalizer(normalizer, source), preTokenizer(preTokenizer, source),
                left, right, result, bpe.byteFallback, bpe.fuseUnk, bpe.ignoreMerges);
    }

    private static int vocabId(Map<String, Integer> vocab, String token, int rank, String source)
            throws TokenizerFormatException {
        Integer id = vocab.get(token);
        if (id == null) throw new TokenizerFormatException(source + ": merge " + rank + " uses '" + token + "', which is not in model.vocab");
        return id;
    }

    private static AddedToken addedToken(JsonNode t, String source) throws TokenizerFormatException {
        if (!t.path("id").canConvertToInt() || t.path("id").asInt() < 0 || !t.path("content").isTextual()
                || t.path("content").asText().isEmpty()) {
            throw new TokenizerFormatException(source + ": malformed entry in added_tokens: " + t);
        }
        return new AddedToken(t.get("id").asInt(), t.get("content").asText(), t.path("special").asBoolean(false),
                t.path("normalized").asBoolean(false));
    }

    private static final class BpeSection {
        final Map<String, Integer> vocab = new HashMap<>();
        final List<String> mergeLeft = new ArrayList<>();
        final List<String> mergeRight = new ArrayList<>();
        String unkToken;
        boolean byteFallback;
        boolean fuseUnk;
        boolean ignoreMerges;
    }

    private static BpeSection readModel(JsonParser p, String source) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) throw new TokenizerFormatException(source + ": \"model\" is not an object");
        BpeSection m = new BpeSection();
        String type = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "type" -> type = p.getValueAsString();
                case "unk_token" -> m.unkToken = value == JsonToken.VALUE_NULL ? null : p.getValueAsString();
                case "byte_fallback" -> m.byteFallback = p.getValueAsBoolean();
                case "fuse_unk" -> m.fuseUnk = p.getValueAsBoolean();
                case "ignore_merges" -> m.ignoreMerges = p.getValueAsBoolean();
                case "dropout" -> {
                    if (value != JsonToken.VALUE_NULL && p.getValueAsDouble() != 0.0) {
                        throw new TokenizerFormatException(source + ": BPE dropout is not supported");
                    }
                }
                case "continuing_subword_prefix", "end_of_word_suffix" -> {
                    if (value != JsonToken.VALUE_NULL && !p.getValueAsString("").isEmpty()) {
                        throw new TokenizerFormatException(source + ": model." + field + " is not supported");
                    }
                }
                case "vocab" -> readVocab(p, m.vocab, source);
                case "merges" -> readMerges(p, m, source);
                default -> p.skipChildren();
            }
        }
        if (type != null && !type.equals("BPE")) {
            throw new TokenizerFormatException(source + ": model type '" + type + "' is not supported; only BPE is");
        }
        return m;
    }

    private static void readVocab(JsonParser p, Map<String, Integer> vocab, String source) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) throw new TokenizerFormatException(source + ": model.vocab is not an object");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String token = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getIntValue() < 0) {
                throw new TokenizerFormatException(source + ": model.vocab['" + token + "'] is not a non-negative integer id");
            }
            if (token.isEmpty()) throw new TokenizerFormatException(source + ": model.vocab has an empty token");
            vocab.put(token, p.getIntValue());
        }
    }

    /** Merges are "a b" strings (split at the single space) or, in newer files, ["a", "b"] arrays. */
    private static void readMerges(JsonParser p, BpeSection m, String source) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) throw new TokenizerFormatException(source + ": model.merges is not an array");
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            int rank = m.mergeLeft.size();
            if (t == JsonToken.VALUE_STRING) {
                String[] parts = p.getText().split(" ", -1);
                if (parts.length != 2) {
                    throw new TokenizerFormatException(source + ": merge " + rank + " '" + p.getText() + "' is not two tokens separated by one space");
                }
                m.mergeLeft.add(parts[0]);
                m.mergeRight.add(parts[1]);
            } else if (t == JsonToken.START_ARRAY) {
                JsonToken a = p.nextToken();
                String left = p.getText();
                JsonToken b = p.nextToken();
                String right = p.getText();
                if (a != JsonToken.VALUE_STRING || b != JsonToken.VALUE_STRING || p.nextToken() != JsonToken.END_ARRAY) {
                    throw new TokenizerFormatException(source + ": merge " + rank + " is not a pair of strings");
                }
                m.mergeLeft.add(left);
                m.mergeRight.add(right);
            } else {
                throw new TokenizerFormatException(source + ": merge " + rank + " is neither a string nor an array");
            }
        }
    }

    private static List<UnaryOperator<String>> normalizer(JsonNode n, String source) throws TokenizerFormatException {
        List<UnaryOperator<String>> steps = new ArrayList<>();
        addNormalizer(n, steps, source);
        return List.copyOf(steps);
    }

    private static void addNormalizer(JsonNode n, List<UnaryOperator<String>> steps, String source) throws TokenizerFormatException {
        if (n == null || n.isNull()) return;
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> {
                for (JsonNode child : n.path("normalizers")) addNormalizer(child, steps, source);
            }
            case "Replace" -> {
                JsonNode pattern = n.path("pattern");
                if (!pattern.path("String").isTextual() || pattern.get("String").asText().isEmpty()) {
                    throw new TokenizerFormatException(source + ": normalizer Replace with pattern " + pattern
                            + " is not supported (only a literal string)");
                }
                String from = pattern.get("String").asText();
                String to = n.path("content").asText();
                steps.add(s -> s.replace(from, to));
            }
            case "Prepend" -> {
                String prefix = n.path("prepend").asText();
                steps.add(s -> s.isEmpty() ? s : prefix + s);
            }
            default -> throw new TokenizerFormatException(source + ": normalizer '" + type + "' is not supported");
        }
    }

    private static List<HfBpeEncoder.Split> preTokenizer(JsonNode n, String source) throws TokenizerFormatException {
        List<HfBpeEncoder.Split> splits = new ArrayList<>();
        addPreTokenizer(n, splits, source);
        return List.copyOf(splits);
    }

    private static void addPreTokenizer(JsonNode n, List<HfBpeEncoder.Split> splits, String source) throws TokenizerFormatException {
        if (n == null || n.isNull()) return;
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> {
                for (JsonNode child : n.path("pretokenizers")) addPreTokenizer(child, splits, source);
            }
            case "Split" -> {
                JsonNode pattern = n.path("pattern");
                String behavior = n.path("behavior").asText();
                if (!pattern.path("String").isTextual() || pattern.get("String").asText().isEmpty()
                        || n.path("invert").asBoolean(false)
                        || !List.of("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous").contains(behavior)) {
                    throw new TokenizerFormatException(source + ": pre_tokenizer " + n
                            + " is not supported (only Split on a literal string, not inverted)");
                }
                splits.add(new HfBpeEncoder.Split(pattern.get("String").asText(), behavior));
            }
            default -> throw new TokenizerFormatException(source + ": pre_tokenizer '" + type + "' is not supported");
        }
    }
}
