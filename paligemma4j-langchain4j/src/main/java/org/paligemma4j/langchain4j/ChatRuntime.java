package org.paligemma4j.langchain4j;

import dev.langchain4j.data.image.Image;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.ChatResponseMetadata;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.io.IOException;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.engine.Engine;
import org.paligemma4j.engine.EngineOptions;
import org.paligemma4j.engine.Generation;
import org.paligemma4j.engine.GenerationRequest;
import org.paligemma4j.engine.QueueFullException;
import org.paligemma4j.generate.GenerationListener;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;

/**
 * The translation between LangChain4j's requests and the library, shared by the blocking and the streaming model:
 * one user message with its image(s) and text becomes a PaliGemma prompt; requests run through one
 * continuous-batching engine, so concurrent chats decode together.
 */
final class ChatRuntime implements AutoCloseable {
    final PaliGemma model;
    private final boolean ownsModel;
    final String modelName;
    final Engine engine;
    final ChatRequestParameters defaults;
    private final long seed;
    private final boolean severalImages;
    final Path maskDecoder;

    ChatRuntime(PaliGemma model, boolean ownsModel, String modelName, PaliGemmaBuilder<?> b) {
        this.model = model;
        this.ownsModel = ownsModel;
        this.modelName = modelName;
        this.defaults = ChatRequestParameters.builder().modelName(modelName).maxOutputTokens(b.maxTokens)
                .temperature(b.temperature).topK(b.topK).topP(b.topP).build();
        this.seed = b.seed;
        this.severalImages = b.severalImages;
        this.maskDecoder = b.maskDecoder;
        options(defaults); // a bad default fails at build time
        this.engine = Engine.start(model, EngineOptions.defaults().withMaxBatch(b.maxBatch));
    }

    /** A request ready for the engine. */
    record Prepared(List<RgbImage> images, String prompt, GenerationOptions options) {}

    /**
     * The images and prompt of a request's one user message.
     *
     * @throws InvalidRequestException     no message, no image, no text, an image that cannot be read
     * @throws UnsupportedFeatureException what PaliGemma cannot do: tools, JSON output, system or earlier messages,
     *                                     several images (unless allowed), remote image URLs, audio/video/PDF
     */
    Prepared prepare(ChatRequest request) {
        ChatRequestParameters p = request.parameters();
        if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty()) {
            throw new UnsupportedFeatureException("PaliGemma does not call tools");
        }
        if (p.responseFormat() != null && !ResponseFormat.TEXT.equals(p.responseFormat())) {
            throw new UnsupportedFeatureException("PaliGemma answers in plain text: JSON response formats are not supported");
        }
        if (p.frequencyPenalty() != null || p.presencePenalty() != null) {
            throw new UnsupportedFeatureException("PaliGemma's decoder has no frequency or presence penalty");
        }
        List<ChatMessage> messages = request.messages();
        if (messages.isEmpty()) throw new InvalidRequestException("the request has no message: send one UserMessage with an image and text");
        if (messages.size() > 1 || !(messages.getFirst() instanceof UserMessage user)) {
            throw new UnsupportedFeatureException("PaliGemma answers one UserMessage (an image and a prompt), without system"
                    + " messages or conversation history; got " + describe(messages));
        }
        List<RgbImage> images = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (Content c : user.contents()) {
            switch (c) {
                case ImageContent i -> images.add(image(i, images.size() + 1));
                case TextContent t -> texts.add(t.text());
                default -> throw new UnsupportedFeatureException("PaliGemma reads images and text, not " + c.type().name().toLowerCase(Locale.ROOT) + " content");
            }
        }
        if (images.isEmpty()) {
            throw new InvalidRequestException("PaliGemma needs an image: add an ImageContent (base64 data or a file: URI) to the UserMessage");
        }
        if (images.size() > 1 && !severalImages) {
            throw new UnsupportedFeatureException("the message has " + images.size() + " images but PaliGemma takes one per prompt"
                    + " (the builder's severalImages(true) allows more)");
        }
        String prompt = String.join(" ", texts).strip();
        if (prompt.isEmpty()) {
            throw new InvalidRequestException("the message has no text: PaliGemma needs a prompt such as \"caption en\" or \"answer en what is this?\"");
        }
        GenerationOptions options = options(p);
        try {
            model.checkLength(model.prompt(prompt, null, images.size()).ids().length, options.maxNewTokens());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(e.getMessage(), e);
        }
        return new Prepared(images, prompt, options);
    }

    /** Generation options from LangChain4j's parameters: greedy unless a temperature above 0, top-k or top-p asks for sampling. */
    GenerationOptions options(ChatRequestParameters p) {
        int max = p.maxOutputTokens() == null ? defaults.maxOutputTokens() : p.maxOutputTokens();
        try {
            GenerationOptions o = GenerationOptions.defaults().withMaxNewTokens(max);
            if (p.stopSequences() != null && !p.stopSequences().isEmpty()) o = o.withStopStrings(p.stopSequences());
            Double t = p.temperature();
            boolean sample = (t != null && t > 0) || p.topK() != null || p.topP() != null;
            if (t != null && t < 0) throw new IllegalArgumentException("temperature must not be negative, got " + t);
            if (!sample) return o;
            return o.withSampling(t == null || t == 0 ? 1.0 : t, p.topK() == null ? 0 : p.topK(), p.topP() == null ? 1.0 : p.topP(), seed);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(e.getMessage(), e);
        }
    }

    /** Submits to the engine, waiting while its queue is full. */
    Generation submit(Prepared p, GenerationListener listener) {
        while (true) {
            try {
                return engine.submit(new GenerationRequest(p.images(), p.prompt(), p.options()), listener);
            } catch (QueueFullException full) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new dev.langchain4j.exception.LangChain4jException("interrupted while waiting for the model", e);
                }
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException(e.getMessage(), e);
            }
        }
    }

    /** Waits for a generation; a failure becomes a LangChain4j exception. */
    static GenerationResult await(Generation g) {
        try {
            return g.await();
        } catch (InterruptedException e) {
            g.cancel();
            Thread.currentThread().interrupt();
            throw new dev.langchain4j.exception.LangChain4jException("interrupted while waiting for the model", e);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(e.getMessage(), e);
        }
    }

    ChatResponse response(GenerationResult r) {
        return ChatResponse.builder()
                .aiMessage(dev.langchain4j.data.message.AiMessage.from(r.text()))
                .metadata(ChatResponseMetadata.builder()
                        .modelName(modelName)
                        .tokenUsage(new TokenUsage(r.promptTokens(), r.ids().length))
                        .finishReason(finishReason(r.finishReason()))
                        .build())
                .build();
    }

    static FinishReason finishReason(org.paligemma4j.generate.FinishReason reason) {
        return switch (reason) {
            case STOP -> FinishReason.STOP;
            case LENGTH -> FinishReason.LENGTH;
            case CANCELLED, TIMEOUT, SHUTDOWN -> FinishReason.OTHER;
        };
    }

    /** An image from base64 data (or a {@code data:} URI) or a local file ({@code file:} URI or a plain path). */
    static RgbImage image(ImageContent content, int number) {
        Image image = content.image();
        String name = "image " + number;
        try {
            if (image.base64Data() != null) return ImageLoader.decode(base64(image.base64Data(), name), name, ImageLoader.DEFAULT_MAX_PIXELS);
            URI url = image.url();
            if (url == null) throw new InvalidRequestException(name + " has neither base64 data nor a URL");
            String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
            switch (scheme) {
                case "file", "" -> {
                    Path file = scheme.isEmpty() ? Path.of(url.getPath()) : Path.of(url);
                    return ImageLoader.load(file);
                }
                case "data" -> {
                    String s = url.getSchemeSpecificPart();
                    int comma = s.indexOf(',');
                    if (comma < 0 || !s.substring(0, comma).endsWith(";base64")) {
                        throw new InvalidRequestException(name + ": only base64 data: URIs are read");
                    }
                    return ImageLoader.decode(base64(s.substring(comma + 1), name), name, ImageLoader.DEFAULT_MAX_PIXELS);
                }
                default -> throw new UnsupportedFeatureException(name + ": remote image URLs (" + scheme + ":) are not fetched: the model runs"
                        + " in-process and reads no network; download the image and pass its bytes as base64 or a file: URI");
            }
        } catch (NoSuchFileException e) {
            throw new InvalidRequestException(e.getFile() + ": no such file", e);
        } catch (IOException e) {
            throw new InvalidRequestException(e.getMessage(), e);
        }
    }

    private static byte[] base64(String data, String name) {
        try {
            return Base64.getMimeDecoder().decode(data);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(name + ": the base64 data is not valid base64 (" + e.getMessage() + ")", e);
        }
    }

    private static String describe(List<ChatMessage> messages) {
        List<String> types = new ArrayList<>();
        for (ChatMessage m : messages) types.add(m.type().name());
        return messages.size() + " messages " + types;
    }

    @Override
    public void close() {
        engine.close();
        if (ownsModel) model.close();
    }
}
