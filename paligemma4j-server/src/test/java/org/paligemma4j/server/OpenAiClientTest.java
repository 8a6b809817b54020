package org.paligemma4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.models.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.generate.FinishReason;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.image.ImageLoader;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.testing.Fixtures;

/**
 * A client no one here wrote: the official OpenAI Java library talks to the running server on the tiny fixture
 * model, and its answers equal {@link PaliGemma#generate} run alone for the same image, prompt and settings.
 */
class OpenAiClientTest {
    static PaliGemma model;
    static PaliGemmaServer server;
    static OpenAIClient client;
    static final String KEY = "test-key-123";

    @BeforeAll
    static void start() throws Exception {
        model = PaliGemma.open(Fixtures.path("paligemma-tiny"));
        server = PaliGemmaServer.start(ServerOptions.defaults("paligemma-tiny").withPort(0).withApiKey(KEY), model);
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey(KEY).maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (server != null) server.close();
        if (model != null) model.close();
    }

    static Path image(String name) {
        return Fixtures.path("images", name);
    }

    static ChatCompletionCreateParams.Builder params(String prompt, Path... images) throws Exception {
        List<ChatCompletionContentPart> parts = new ArrayList<>();
        parts.add(ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text(prompt).build()));
        for (Path p : images) {
            parts.add(ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                    .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder().url(TestClient.dataUri(p)).build()).build()));
        }
        return ChatCompletionCreateParams.builder().model("paligemma-tiny").addUserMessageOfArrayOfContentParts(parts);
    }

    static GenerationResult alone(String prompt, GenerationOptions options, Path... images) throws Exception {
        List<RgbImage> decoded = new ArrayList<>();
        for (Path p : images) decoded.add(ImageLoader.load(p));
        return model.generate(decoded, prompt, options, null);
    }

    @Test
    void nonStreamingGreedyAnswerEqualsGenerateAlone() throws Exception {
        ChatCompletion c = client.chat().completions().create(params("caption en", image("shapes_text.png"))
                .maxCompletionTokens(24).temperature(0.0).build());
        GenerationResult expected = alone("caption en", GenerationOptions.defaults().withMaxNewTokens(24), image("shapes_text.png"));
        assertEquals(expected.text(), c.choices().getFirst().message().content().orElseThrow());
        assertEquals(expected.finishReason() == FinishReason.STOP ? "stop" : "length", c.choices().getFirst().finishReason().asString());
        var usage = c.usage().orElseThrow();
        assertEquals(expected.promptTokens(), usage.promptTokens());
        assertEquals(expected.ids().length, usage.completionTokens());
        assertEquals(usage.promptTokens() + usage.completionTokens(), usage.totalTokens());
        assertEquals("chat.completion", c._object_().toString());
    }

    @Test
    void streamedChunksAddUpToGenerateAlone() throws Exception {
        GenerationResult expected = alone("detect cat", GenerationOptions.defaults().withMaxNewTokens(30), image("photo_like.jpg"));
        StringBuilder text = new StringBuilder();
        List<String> finishReasons = new ArrayList<>();
        long[] usageTokens = {-1};
        int chunks = 0;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params("detect cat", image("photo_like.jpg"))
                .maxCompletionTokens(30).streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                chunks++;
                for (var choice : chunk.choices()) {
                    choice.delta().content().ifPresent(text::append);
                    choice.finishReason().ifPresent(r -> finishReasons.add(r.asString()));
                }
                chunk.usage().ifPresent(u -> usageTokens[0] = u.completionTokens());
            }
        }
        assertEquals(expected.text(), text.toString());
        assertEquals(List.of(expected.finishReason() == FinishReason.STOP ? "stop" : "length"), finishReasons);
        assertEquals(expected.ids().length, usageTokens[0]);
        assertTrue(chunks > 3, "the answer should arrive in several chunks, got " + chunks);
    }

    @Test
    void seededSamplingEqualsGenerateAloneWithTheSameSeed() throws Exception {
        ChatCompletion c = client.chat().completions().create(params("caption es", image("tiny_gray.png"))
                .maxCompletionTokens(20).temperature(0.8).topP(0.9).seed(1234).build());
        GenerationResult expected = alone("caption es", GenerationOptions.defaults().withMaxNewTokens(20).withSampling(0.8, 0, 0.9, 1234),
                image("tiny_gray.png"));
        assertEquals(expected.text(), c.choices().getFirst().message().content().orElseThrow());
    }

    @Test
    void twoImagesInOneMessageEqualGenerateAloneWithBoth() throws Exception {
        ChatCompletion c = client.chat().completions().create(params("caption en", image("shapes_text.png"), image("photo_like.jpg"))
                .maxCompletionTokens(16).build());
        GenerationResult expected = alone("caption en", GenerationOptions.defaults().withMaxNewTokens(16),
                image("shapes_text.png"), image("photo_like.jpg"));
        assertEquals(expected.text(), c.choices().getFirst().message().content().orElseThrow());
        assertEquals(expected.promptTokens(), c.usage().orElseThrow().promptTokens());
    }

    @Test
    void logprobsAreTheModelsLogprobs() throws Exception {
        ChatCompletion c = client.chat().completions().create(params("ocr", image("shapes_text.png"))
                .maxCompletionTokens(8).logprobs(true).topLogprobs(3).build());
        GenerationResult expected = alone("ocr", GenerationOptions.defaults().withMaxNewTokens(8).withTopLogprobs(3), image("shapes_text.png"));
        var content = c.choices().getFirst().logprobs().orElseThrow().content().orElseThrow();
        assertEquals(expected.logprobs().size(), content.size());
        for (int i = 0; i < content.size(); i++) {
            assertEquals(expected.logprobs().get(i).logprob(), content.get(i).logprob(), 1e-6);
            assertEquals(3, content.get(i).topLogprobs().size());
            assertEquals(expected.logprobs().get(i).topLogprobs()[0], content.get(i).topLogprobs().getFirst().logprob(), 1e-6);
        }
    }

    @Test
    void stopStringEndsTheAnswerBeforeIt() throws Exception {
        GenerationResult full = alone("caption en", GenerationOptions.defaults().withMaxNewTokens(24), image("shapes_text.png"));
        String stop = full.text().substring(full.text().length() / 2, full.text().length() / 2 + 3);
        ChatCompletion c = client.chat().completions().create(params("caption en", image("shapes_text.png"))
                .maxCompletionTokens(24).stop(stop).build());
        GenerationResult expected = alone("caption en", GenerationOptions.defaults().withMaxNewTokens(24).withStopStrings(List.of(stop)),
                image("shapes_text.png"));
        assertEquals(expected.text(), c.choices().getFirst().message().content().orElseThrow());
        assertEquals("stop", c.choices().getFirst().finishReason().asString());
    }

    @Test
    void modelsListTheServedModel() {
        List<Model> models = client.models().list().data();
        assertEquals(1, models.size());
        assertEquals("paligemma-tiny", models.getFirst().id());
    }
}
