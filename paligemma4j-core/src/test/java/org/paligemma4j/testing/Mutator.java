package org.paligemma4j.testing;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded mutations of a real file's bytes, for tests that every loader either reads a damaged input or
 * refuses it with its own error: bit flips, overwritten bytes (often with boundary values such as 0xFF or
 * 0x7F that turn lengths and offsets into huge numbers), truncation, extension with junk, deletion and
 * duplication of a run, and splicing in a run from a second real file. The same seed gives the same
 * mutant, so a failure names a reproducible case: {@code new Mutator(seed).mutate(original, donor)}.
 */
public final class Mutator {
    /** The kinds of change; {@link #mutate} picks one to three of them per mutant. */
    public enum Kind { FLIP_BITS, OVERWRITE, BOUNDARY_BYTES, TRUNCATE, EXTEND, DELETE_RUN, DUPLICATE_RUN, SPLICE }

    private static final byte[] BOUNDARY = {0, (byte) 0xFF, (byte) 0x7F, (byte) 0x80, 1, '"', '{', '[', ',', ':', '-', '9'};

    private final SplittableRandom random;
    private Kind lastKind;

    public Mutator(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** The kind of the last change {@link #mutate} applied (for reports counting kinds). */
    public Kind lastKind() {
        return lastKind;
    }

    /** A mutant of {@code original}; {@code donor} (may be null) supplies the runs that SPLICE copies in. */
    public byte[] mutate(byte[] original, byte[] donor) {
        byte[] out = original.clone();
        int changes = 1 + random.nextInt(3);
        for (int i = 0; i < changes; i++) out = apply(Kind.values()[random.nextInt(Kind.values().length)], out, donor);
        return out;
    }

    /** One change of the given kind. */
    public byte[] apply(Kind kind, byte[] in, byte[] donor) {
        lastKind = kind;
        if (in.length == 0) return kind == Kind.EXTEND || kind == Kind.SPLICE ? junk(1 + random.nextInt(64)) : in;
        return switch (kind) {
            case FLIP_BITS -> {
                byte[] out = in.clone();
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips; i++) out[position(in)] ^= (byte) (1 << random.nextInt(8));
                yield out;
            }
            case OVERWRITE -> {
                byte[] out = in.clone();
                int at = position(in);
                int n = Math.min(out.length - at, 1 + random.nextInt(16));
                for (int i = 0; i < n; i++) out[at + i] = (byte) random.nextInt(256);
                yield out;
            }
            case BOUNDARY_BYTES -> {
                byte[] out = in.clone();
                int at = position(in);
                int n = Math.min(out.length - at, 1 + random.nextInt(8));
                byte b = BOUNDARY[random.nextInt(BOUNDARY.length)];
                for (int i = 0; i < n; i++) out[at + i] = b;
                yield out;
            }
            case TRUNCATE -> Arrays.copyOf(in, position(in));
            case EXTEND -> concat(in, junk(1 + random.nextInt(4096)));
            case DELETE_RUN -> {
                int at = position(in);
                int n = Math.min(in.length - at, 1 + random.nextInt(256));
                yield concat(Arrays.copyOf(in, at), Arrays.copyOfRange(in, at + n, in.length));
            }
            case DUPLICATE_RUN -> {
                int at = position(in);
                int n = Math.min(in.length - at, 1 + random.nextInt(256));
                byte[] run = Arrays.copyOfRange(in, at, at + n);
                yield concat(concat(Arrays.copyOf(in, at + n), run), Arrays.copyOfRange(in, at + n, in.length));
            }
            case SPLICE -> {
                byte[] source = donor == null || donor.length == 0 ? in : donor;
                int from = position(source);
                int n = Math.min(source.length - from, 1 + random.nextInt(512));
                int at = position(in);
                int end = Math.min(in.length, at + random.nextInt(512));
                yield concat(concat(Arrays.copyOf(in, at), Arrays.copyOfRange(source, from, from + n)),
                        Arrays.copyOfRange(in, end, in.length));
            }
        };
    }

    /** Positions favour the start of a file, where headers, lengths and offsets live. */
    private int position(byte[] in) {
        int limit = random.nextBoolean() ? Math.min(in.length, 256) : in.length;
        return random.nextInt(limit);
    }

    private byte[] junk(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) random.nextInt(256);
        return b;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
