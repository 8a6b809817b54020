package org.paligemma4j.tensor;

/**
 * Which keys a query may attend to. Every mask PaliGemma needs lets a query see one contiguous range of
 * key positions, so the attention kernel iterates exactly that range and never evaluates a masked score.
 */
public interface AttentionMask {
    /** First visible key position for the query at {@code position}. */
    int firstVisibleKey(int position);

    /** One past the last visible key position for the query at {@code position}. */
    int endVisibleKeys(int position);

    /** Every query sees every key of {@code length} tokens (SigLIP). */
    static AttentionMask full(int length) {
        return new AttentionMask() {
            @Override
            public int firstVisibleKey(int position) {
                return 0;
            }

            @Override
            public int endVisibleKeys(int position) {
                return length;
            }
        };
    }
}
