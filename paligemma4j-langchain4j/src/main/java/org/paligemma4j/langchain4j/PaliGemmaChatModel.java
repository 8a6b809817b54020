package org.paligemma4j.langchain4j;

import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;

/**
 * PaliGemma as a LangChain4j {@link ChatModel}, running in this JVM: send one {@code UserMessage} with an
 * {@code ImageContent} (base64 data or a {@code file:} URI) and the prompt as text, get PaliGemma's answer.
 *
 * <pre>{@code
 * try (PaliGemmaChatModel model = PaliGemmaChatModel.builder().modelLocation("google/paligemma2-3b-mix-224").build()) {
 *     ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from(
 *             ImageContent.from(Path.of("cat.jpg").toUri()), TextContent.from("caption en"))).build());
 *     System.out.println(r.aiMessage().text() + " " + r.tokenUsage() + " " + r.finishReason());
 * }
 * }</pre>
 *
 * The text is the library's for the same image, prompt and options. The request's {@code maxOutputTokens},
 * {@code temperature}, {@code topK}, {@code topP} and {@code stopSequences} are honoured; tools, JSON formats,
 * penalties, system messages and history are refused with {@code UnsupportedFeatureException}, requests without an
 * image or text with {@code InvalidRequestException}. Thread-safe: concurrent calls decode in one batch.
 * {@link #close()} stops the engine and closes the model if this object opened it.
 */
public final class PaliGemmaChatModel implements ChatModel, AutoCloseable {
    private final ChatRuntime runtime;

    private PaliGemmaChatModel(ChatRuntime runtime) {
        this.runtime = runtime;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link PaliGemmaChatModel}; see {@link PaliGemmaBuilder} for the settings. */
    public static final class Builder extends PaliGemmaBuilder<Builder> {
        private Builder() {}

        /** Opens the model (unless an open one was given): may take seconds for large checkpoints. */
        public PaliGemmaChatModel build() {
            return new PaliGemmaChatModel(runtime());
        }
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        ChatRuntime.Prepared p = runtime.prepare(request);
        return runtime.response(ChatRuntime.await(runtime.submit(p, null)));
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return runtime.defaults;
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    /** Typed detection and segmentation with this model (LangChain4j has no box type). */
    public PaliGemmaDetector detector() {
        return new PaliGemmaDetector(runtime);
    }

    @Override
    public void close() {
        runtime.close();
    }
}
