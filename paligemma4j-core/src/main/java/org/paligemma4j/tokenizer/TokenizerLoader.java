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
        if (data.length >= 2 && (data[0] & 0xFF) == 0x1F && (data[1] & 0xFF) == 0x8B) {
            return fromHfJson(gunzip(data, source), sidecar, source);
        }
        if (looksLikeJson(data)) return fromHfJson(data, sidecar, source);
        return fromSentencePiece(data, sidecar, source);
    }

    static Tokenizer fromSentencePiece(byte[] data, Map<Integer, String> sidecar, String source) throws TokenizerFormatException {
        SentencePieceModelReader.Model m = SentencePieceModelReader.read(data, source);
        Extended v = extend(m.pieces(), m.types(), sidecar, source);
        float[] scores = Arrays.copyOf(m.scores(), v.pieces.length);
        Vocabulary vocab = new Vocabulary(v.pieces, scores, v.types, source);
        if (vocab.unkId() < 0) throw new TokenizerFormatException(source + ": no piece of type UNKNOWN (<unk>)");
        TextEncoder encoder = new SentencePieceEncoder(vocab, m.byteFallback(), m.escapeWhitespaces());
        return new Tokenizer(vocab, encoder, m.unkSurface(), idOf(vocab, m.bosPiece()), idOf(vocab, m.eosPiece()),
                idOf(vocab, m.padPiece()), "SentencePiece BPE " + source);
    }

    static Tokenizer fromHfJson(byte[] json, Map<Integer, String> sidecar, String source) throws TokenizerFormatException {
        HfTokenizerJsonReader.Model m = HfTokenizerJsonReader.read(json, source);
        byte[][] utf8 = new byte[m.pieces().length][];
        for (int i = 0; i < utf8.length; i++) utf8[i] = m.pieces()[i].getBytes(StandardCharsets.UTF_8);
        Extended v = extend(utf8, m.types(), sidecar, source);
        Vocabulary vocab = new Vocabulary(v.pieces, new float[v.pieces.length], v.types, source);
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
        int size = pieces.length;
        for (int id : sidecar.keySet()) size = Math.max(size, id + 1);
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
