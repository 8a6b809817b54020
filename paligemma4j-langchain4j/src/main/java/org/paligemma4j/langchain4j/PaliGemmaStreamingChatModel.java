package org.paligemma4j.langchain4j;

import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import java.util.concurrent.LinkedBlockingQueue;
import org.paligemma4j.engine.Generation;
import org.paligemma4j.generate.GenerationResult;

/**
 * PaliGemma as a LangChain4j {@link StreamingChatModel}: the same requests as {@link PaliGemmaChatModel}, with
 * the text delivered piece by piece as it is generated ({@code onPartialResponse}), then the whole response with
 * token usage and finish reason ({@code onCompleteResponse}). The handler runs on a thread of its own per request
 * (never on the engine's, so a slow handler does not hold back other requests); {@code chat} returns at once.
 * A request the model cannot take reaches {@code onError} with the exception {@link PaliGemmaChatModel} would throw.
 */
public final class PaliGemmaStreamingChatModel implements StreamingChatModel, AutoCloseable {
    private final ChatRuntime runtime;

    private PaliGemmaStreamingChatModel(ChatRuntime runtime) {
        this.runtime = runtime;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link PaliGemmaStreamingChatModel}; see {@link PaliGemmaBuilder} for the settings. */
    public static final class Builder extends PaliGemmaBuilder<Builder> {
        private Builder() {}

        public PaliGemmaStreamingChatModel build() {
            return new PaliGemmaStreamingChatModel(runtime());
        }
    }

    /** What the engine's thread hands to the handler's thread: a piece of text, then the end. */
    private sealed interface Event permits Piece, Done, Failed {}

    private record Piece(String text) implements Event {}

    private record Done(GenerationResult result) implements Event {}

    private record Failed(Throwable error) implements Event {}

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        Thread.ofVirtual().name("paligemma-stream").start(() -> stream(request, handler));
    }

    private void stream(ChatRequest request, StreamingChatResponseHandler handler) {
        Generation g;
        LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        try {
            ChatRuntime.Prepared p = runtime.prepare(request);
            g = runtime.submit(p, (id, text) -> {
                if (!text.isEmpty()) events.add(new Piece(text));
            });
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        g.result().whenComplete((r, e) -> events.add(e == null ? new Done(r) : new Failed(e)));
        try {
            while (true) {
                switch (events.take()) {
                    case Piece piece -> handler.onPartialResponse(piece.text());
                    case Done done -> {
                        handler.onCompleteResponse(runtime.response(done.result()));
                        return;
                    }
                    case Failed failed -> {
                        Throwable cause = failed.error() instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : failed.error();
                        handler.onError(cause instanceof IllegalArgumentException ? new dev.langchain4j.exception.InvalidRequestException(cause.getMessage(), cause) : cause);
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            g.cancel();
            handler.onError(e);
        } catch (RuntimeException handlerFailed) {
            // The handler threw: the caller is gone or broken, so stop generating for it.
            g.cancel();
            handler.onError(handlerFailed);
        }
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return runtime.defaults;
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    /** Typed detection and segmentation with this model. */
    public PaliGemmaDetector detector() {
        return new PaliGemmaDetector(runtime);
    }

    @Override
    public void close() {
        runtime.close();
    }
}
