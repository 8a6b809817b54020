package org.paligemma4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.tasks.DetectResult;
import org.paligemma4j.tasks.PaliGemmaTasks;
import org.paligemma4j.testing.Fixtures;

/** The chat models driven through LangChain4j's own API, against the library on the tiny fixture model. */
class PaliGemmaChatModelTest {
    static final Path MODEL = Fixtures.path("paligemma-tiny");
    static final Path PNG = Fixtures.path("images", "shapes_text.png");
    static final Path JPEG = Fixtures.path("images", "photo_like.jpg");
    static final int TOKENS = 20;

    static PaliGemma library;
    static PaliGemmaChatModel chat;
    static PaliGemmaStreamingChatModel streaming;

    @BeforeAll
    static void open() throws IOException {
        library = PaliGemma.open(MODEL);
        chat = PaliGemmaChatModel.builder().modelLocation(MODEL.toString()).maxTokens(TOKENS).build();
        streaming = PaliGemmaStreamingChatModel.builder().model(library).maxTokens(TOKENS).build();
    }

    @AfterAll
    static void close() {
        if (chat != null) chat.close();
        if (streaming != null) streaming.close();
        if (library != null) library.close();
    }

    static GenerationResult expected(Path image, String prompt, GenerationOptions options) throws IOException {
        return library.generate(List.of(ImageLoader.load(image)), prompt, options, null);
    }

    static ImageContent base64(Path image, String mime) throws IOException {
        return ImageContent.from(Base64.getEncoder().encodeToString(Files.readAllBytes(image)), mime);
    }

    @Test
    void chatWithBase64ImageGivesTheLibrarysTextTokenUsageAndFinishReason() throws IOException {
        ChatResponse r = chat.chat(ChatRequest.builder()
                .messages(UserMessage.from(base64(PNG, "image/png"), TextContent.from("caption en"))).build());
        GenerationResult want = expected(PNG, "caption en", GenerationOptions.defaults().withMaxNewTokens(TOKENS));
        assertEquals(want.text(), r.aiMessage().text());
        assertEquals(want.promptTokens(), r.tokenUsage().inputTokenCount());
        assertEquals(TOKENS, r.tokenUsage().outputTokenCount());
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals("paligemma-tiny", r.metadata().modelName());
    }

    @Test
    void quantizationOpensTheModelInThatFormat() throws IOException {
        try (PaliGemmaChatModel q8 = PaliGemmaChatModel.builder().modelLocation(MODEL.toString()).quantization("q8").maxTokens(TOKENS).build();
             PaliGemma quantized = PaliGemma.open(MODEL, org.paligemma4j.tensor.WeightFormat.Q8)) {
            ChatResponse r = q8.chat(ChatRequest.builder()
                    .messages(UserMessage.from(base64(PNG, "image/png"), TextContent.from("caption en"))).build());
            GenerationResult want = quantized.generate(List.of(ImageLoader.load(PNG)), "caption en",
                    GenerationOptions.defaults().withMaxNewTokens(TOKENS), null);
            assertEquals(want.text(), r.aiMessage().text());
        }
        assertThrows(IllegalArgumentException.class, () -> PaliGemmaChatModel.builder().quantization("q3"));
    }

    @Test
    void fileUriImageAndRequestParametersAreHonoured() throws IOException {
        ChatResponse r = chat.chat(ChatRequest.builder()
                .messages(UserMessage.from(TextContent.from("answer en what is this?"), ImageContent.from(JPEG.toUri())))
                .maxOutputTokens(7).temperature(0.8).topK(40).build());
        // LangChain4j's requests carry no seed: the builder's (0) is used, as the library's default seed.
        GenerationResult want = expected(JPEG, "answer en what is this?",
                GenerationOptions.defaults().withMaxNewTokens(7).withSampling(0.8, 40, 1.0, 0));
        assertEquals(want.text(), r.aiMessage().text());
        assertEquals(7, r.tokenUsage().outputTokenCount());
    }

    @Test
    void streamingDeliversTheLibrarysTextPieceByPieceThenTheWholeResponse() throws Exception {
        List<String> pieces = new ArrayList<>();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat(ChatRequest.builder().messages(UserMessage.from(base64(JPEG, "image/jpeg"), TextContent.from("ocr"))).build(),
                new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String text) {
                        pieces.add(text);
                    }

                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        done.complete(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });
        ChatResponse r = done.get(60, TimeUnit.SECONDS);
        String want = expected(JPEG, "ocr", GenerationOptions.defaults().withMaxNewTokens(TOKENS)).text();
        assertEquals(want, r.aiMessage().text());
        assertEquals(want, String.join("", pieces));
        assertTrue(pieces.size() > 1, "streamed in pieces: " + pieces);
        assertEquals(FinishReason.LENGTH, r.finishReason());
    }

    @Test
    void stopSequencesEndTheTextBeforeThemWithFinishReasonStop() throws IOException {
        String full = expected(PNG, "caption en", GenerationOptions.defaults().withMaxNewTokens(TOKENS)).text();
        String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
        ChatResponse r = chat.chat(ChatRequest.builder().messages(UserMessage.from(ImageContent.from(PNG.toUri()),
                TextContent.from("caption en"))).stopSequences(List.of(stop)).build());
        GenerationResult want = expected(PNG, "caption en", GenerationOptions.defaults().withMaxNewTokens(TOKENS).withStopStrings(List.of(stop)));
        assertEquals(want.text(), r.aiMessage().text());
        assertFalse(r.aiMessage().text().contains(stop));
        assertEquals(FinishReason.STOP, r.finishReason());
    }

    @Test
    void concurrentChatsDecodeTogetherAndEachGetsItsOwnText() throws Exception {
        Path[] images = {PNG, JPEG, Fixtures.path("images", "tiny_gray.png")};
        String[] prompts = {"caption en", "ocr", "answer en what is this?", "caption de", "detect house", "caption fr"};
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) {
            Path image = images[i % images.length];
            String prompt = prompts[i];
            answers.add(CompletableFuture.supplyAsync(() -> chat.chat(UserMessage.from(ImageContent.from(image.toUri()),
                    TextContent.from(prompt))).aiMessage().text()));
        }
        for (int i = 0; i < prompts.length; i++) {
            String want = expected(images[i % images.length], prompts[i], GenerationOptions.defaults().withMaxNewTokens(TOKENS)).text();
            assertEquals(want, answers.get(i).get(60, TimeUnit.SECONDS), prompts[i]);
        }
    }

    @Test
    void severalImagesWhenAllowedGiveTheLibrarysMultiImageText() throws IOException {
        try (PaliGemmaChatModel several = PaliGemmaChatModel.builder().model(library).maxTokens(TOKENS).severalImages(true).build()) {
            ChatResponse r = several.chat(UserMessage.from(ImageContent.from(PNG.toUri()), ImageContent.from(JPEG.toUri()),
                    TextContent.from("caption en")));
            GenerationResult want = library.generate(List.of(ImageLoader.load(PNG), ImageLoader.load(JPEG)), "caption en",
                    GenerationOptions.defaults().withMaxNewTokens(TOKENS), null);
            assertEquals(want.text(), r.aiMessage().text());
            assertEquals(want.promptTokens(), r.tokenUsage().inputTokenCount());
        }
        // A model given to the builder stays open when the chat model closes: it still generates.
        assertEquals(expected(PNG, "ocr", GenerationOptions.defaults().withMaxNewTokens(3)).text(),
                library.generate(List.of(ImageLoader.load(PNG)), "ocr", GenerationOptions.defaults().withMaxNewTokens(3), null).text());
    }

    @Test
    void wrongInputsGiveLangChain4jExceptionsThatSayWhatIsWrong() throws IOException {
        var noImage = assertThrows(InvalidRequestException.class, () -> chat.chat(UserMessage.from("caption en")));
        assertTrue(noImage.getMessage().contains("needs an image"), noImage.getMessage());

        var twoImages = assertThrows(UnsupportedFeatureException.class, () -> chat.chat(UserMessage.from(
                base64(PNG, "image/png"), base64(JPEG, "image/jpeg"), TextContent.from("caption en"))));
        assertTrue(twoImages.getMessage().contains("2 images"), twoImages.getMessage());

        var remote = assertThrows(UnsupportedFeatureException.class, () -> chat.chat(UserMessage.from(
                ImageContent.from("https://example.com/cat.jpg"), TextContent.from("caption en"))));
        assertTrue(remote.getMessage().contains("remote image URLs"), remote.getMessage());

        var noText = assertThrows(InvalidRequestException.class, () -> chat.chat(UserMessage.from(base64(PNG, "image/png"))));
        assertTrue(noText.getMessage().contains("no text"), noText.getMessage());

        var notAnImage = assertThrows(InvalidRequestException.class, () -> chat.chat(UserMessage.from(
                ImageContent.from(Base64.getEncoder().encodeToString("hello".getBytes()), "image/png"), TextContent.from("ocr"))));
        assertTrue(notAnImage.getMessage().contains("image 1"), notAnImage.getMessage());

        var missing = assertThrows(InvalidRequestException.class, () -> chat.chat(UserMessage.from(
                ImageContent.from(MODEL.resolve("no-such.png").toUri()), TextContent.from("ocr"))));
        assertTrue(missing.getMessage().contains("no-such.png: no such file"), missing.getMessage());

        var system = assertThrows(UnsupportedFeatureException.class, () -> chat.chat(SystemMessage.from("be brief"),
                UserMessage.from(base64(PNG, "image/png"), TextContent.from("caption en"))));
        assertTrue(system.getMessage().contains("one UserMessage"), system.getMessage());

        var bad = assertThrows(ModelNotFoundException.class,
                () -> PaliGemmaChatModel.builder().modelLocation(MODEL.resolve("missing").toString()).build());
        assertTrue(bad.getMessage().contains("missing"), bad.getMessage());
    }

    @Test
    void streamingReportsWrongInputsToOnError() throws Exception {
        CompletableFuture<Throwable> error = new CompletableFuture<>();
        streaming.chat(ChatRequest.builder().messages(UserMessage.from(ImageContent.from("http://example.com/a.png"),
                TextContent.from("ocr"))).build(), new StreamingChatResponseHandler() {
                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        error.complete(null);
                    }

                    @Override
                    public void onError(Throwable e) {
                        error.complete(e);
                    }
                });
        Throwable e = error.get(30, TimeUnit.SECONDS);
        assertInstanceOf(UnsupportedFeatureException.class, e);
        assertTrue(e.getMessage().contains("remote image URLs"), e.getMessage());
    }

    @Test
    void detectorReturnsTheLibrarysTypedObjects() throws IOException {
        DetectResult got = chat.detector().detect(ImageContent.from(PNG.toUri()), "house");
        DetectResult want = PaliGemmaTasks.of(library).withOptions(GenerationOptions.defaults().withMaxNewTokens(TOKENS))
                .detect(ImageLoader.load(PNG), "house");
        assertEquals(want.prompt(), got.prompt());
        assertEquals(want.text(), got.text());
        assertEquals(want.objects(), got.objects());
        assertFalse(got.objects().isEmpty(), "the fixture output holds an object");
        assertThrows(InvalidRequestException.class, () -> chat.detector().detect(ImageContent.from(PNG.toUri()), " ; "));
    }
}
