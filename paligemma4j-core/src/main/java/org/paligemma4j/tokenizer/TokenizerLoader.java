package org.paligemma4j.tokenizer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Finds and reads a tokenizer: a model directory ({@code tokenizer.model}, else {@code tokenizer.json}) or a
 * file, recognised by its content (gzip, JSON or SentencePiece protobuf), plus the added tokens of the
 * checkpoint files beside it.
 */
final class TokenizerLoader {
    private TokenizerLoader() {}

    private static final long MAX_FILE_BYTES = 1L << 30;
    private static final String[] FILE_NAMES = {"tokenizer.model", "tokenizer.json", "tokenizer.json.gz"};

    static Tokenizer load(Path path) throws IOException {
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString(), null, "no such file or directory");
        Path file = path;
        Path sidecarDir = null;
        if (Files.isDirectory(path)) {
            file = null;
            for (String name : FILE_NAMES) {
                if (Files.isRegularFile(path.resolve(name))) {
                    file = path.resolve(name);
                    break;
                }
            }
            if (file == null) {
                throw new NoSuchFileException(path.toString(), null, "directory has no tokenizer.model or tokenizer.json");
            }
            sidecarDir = path;
        } else if (Arrays.asList(FILE_NAMES).contains(String.valueOf(path.getFileName()))) {
            sidecarDir = path.toAbsolutePath().getParent();
        }
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new TokenizerFormatException(file + ": " + size + " bytes is too large for a tokenizer file");
        }
        byte[] data = Files.readAllBytes(file);
        Map<Integer, String> sidecar = sidecarDir == null ? Map.of() : SidecarTokens.read(sidecarDir);
        String source = file.toString();
        // Errors about the added tokens name the files they came from as well as the vocabulary's.
        String sidecarSource = source;
        if (sidecarDir != null) {
            java.util.List<String> files = new java.util.ArrayList<>();
            for (String name : new String[] {"added_tokens.json", "tokenizer_config.json"}) {
                if (Files.isRegularFile(sidecarDir.resolve(name))) files.add(sidecarDir.resolve(name).toString());
            }
            if (!files.isEmpty()) sidecarSource = source + " with the added tokens of " + String.join(" and ", files);
        }
        if (data.length >= 2 && (data[0] & 0xFF) == 0x1F && (data[1] & 0xFF) == 0x8B) {
            return fromHfJson(gunzip(data, source), sidecar, source, sidecarSource);
        }
        if (looksLikeJson(data)) return fromHfJson(data, sidecar, source, sidecarSource);
        return fromSentencePiece(data, sidecar, source, sidecarSource);
    }

    static Tokenizer fromSentencePiece(byte[] data, Map<Integer, String> sidecar, String source) throws TokenizerFormatException {
        return fromSentencePiece(data, sidecar, source, source);
    }

    static Tokenizer fromSentencePiece(byte[] data, Map<Integer, String> sidecar, String source, String sidecarSource)
            throws TokenizerFormatException {
        SentencePieceModelReader.Model m = SentencePieceModelReader.read(data, source);
        Extended v = extend(m.pieces(), m.types(), sidecar, sidecarSource);
        float[] scores = Arrays.copyOf(m.scores(), v.pieces.length);
        Vocabulary vocab = new Vocabulary(v.pieces, scores, v.types, sidecarSource);
        if (vocab.unkId() < 0) throw new TokenizerFormatException(source + ": no piece of type UNKNOWN (<unk>)");
        TextEncoder encoder = new SentencePieceEncoder(vocab, m.byteFallback(), m.escapeWhitespaces());
        return new Tokenizer(vocab, encoder, m.unkSurface(), idOf(vocab, m.bosPiece()), idOf(vocab, m.eosPiece()),
                idOf(vocab, m.padPiece()), "SentencePiece BPE " + source);
    }

    static Tokenizer fromHfJson(byte[] json, Map<Integer, String> sidecar, String source) throws TokenizerFormatException {
        return fromHfJson(json, sidecar, source, source);
    }

    static Tokenizer fromHfJson(byte[] json, Map<Integer, String> sidecar, String source, String sidecarSource)
            throws TokenizerFormatException {
        HfTokenizerJsonReader.Model m = HfTokenizerJsonReader.read(json, source);
        byte[][] utf8 = new byte[m.pieces().length][];
        for (int i = 0; i < utf8.length; i++) utf8[i] = m.pieces()[i].getBytes(StandardCharsets.UTF_8);
        Extended v = extend(utf8, m.types(), sidecar, sidecarSource);
        Vocabulary vocab = new Vocabulary(v.pieces, new float[v.pieces.length], v.types, sidecarSource);
        return new Tokenizer(vocab, m.encoder(vocab), " \u2047 ", idOf(vocab, "<bos>"), idOf(vocab, "<eos>"),
                idOf(vocab, "<pad>"), "Hugging Face tokenizer.json BPE " + source);
    }

    private record Extended(byte[][] pieces, PieceType[] types) {}

    /**
     * Appends the checkpoint's added tokens that lie past the vocabulary (PaliGemma's {@code <image>}) as CONTROL
     * tokens, and checks that those inside it name the same piece.
     */
    private static Extended extend(byte[][] pieces, PieceType[] types, Map<Integer, String> sidecar, String source)
            throws TokenizerFormatException {
        long largest = pieces.length;
        for (int id : sidecar.keySet()) largest = Math.max(largest, id + 1L);
        // Ids past the vocabulary must be filled by added tokens without gaps (checked below); a larger id is damage,
        // refused before tables that size are allocated.
        if (largest > (long) pieces.length + sidecar.size()) {
            throw new TokenizerFormatException(source + ": the checkpoint's added token id " + (largest - 1) + " lies past the "
                    + pieces.length + " pieces of the vocabulary and the " + sidecar.size() + " added tokens");
        }
        int size = (int) largest;
        byte[][] allPieces = Arrays.copyOf(pieces, size);
        PieceType[] allTypes = Arrays.copyOf(types, size);
        for (Map.Entry<Integer, String> e : sidecar.entrySet()) {
            int id = e.getKey();
            byte[] content = e.getValue().getBytes(StandardCharsets.UTF_8);
            if (id < pieces.length) {
                if (!Arrays.equals(pieces[id], content)) {
                    throw new TokenizerFormatException(source + ": the checkpoint's added token '" + e.getValue() + "' has id "
                            + id + ", but that piece is '" + new String(pieces[id], StandardCharsets.UTF_8) + "'");
                }
            } else {
                allPieces[id] = content;
                allTypes[id] = PieceType.CONTROL;
            }
        }
        for (int id = pieces.length; id < size; id++) {
            if (allPieces[id] == null) {
                throw new TokenizerFormatException(source + ": the checkpoint's added tokens leave id " + id
                        + " undefined (the vocabulary has " + pieces.length + " pieces)");
            }
        }
        return new Extended(allPieces, allTypes);
    }

    private static int idOf(Vocabulary vocab, String piece) {
        return piece == null || piece.isEmpty() ? -1 : vocab.idOf(piece);
    }

    private static boolean looksLikeJson(byte[] data) {
        for (byte b : data) {
            if (b == ' ' || b == '\n' || b == '\r' || b == '\t') continue;
            return b == '{';
        }
        return false;
    }

    private static byte[] gunzip(byte[] data, String source) throws TokenizerFormatException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(data))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(data.length * 4);
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                if (out.size() + (long) n > MAX_FILE_BYTES) {
                    throw new TokenizerFormatException(source + ": decompresses to more than " + MAX_FILE_BYTES + " bytes");
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (TokenizerFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new TokenizerFormatException(source + ": corrupt gzip data: " + e.getMessage(), e);
        }
    }
}
