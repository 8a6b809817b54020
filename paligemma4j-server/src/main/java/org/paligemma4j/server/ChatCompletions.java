package org.paligemma4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.paligemma4j.generate.FinishReason;
import org.paligemma4j.generate.GenerationOptions;
import org.paligemma4j.generate.GenerationResult;
import org.paligemma4j.generate.TokenLogprob;
import org.paligemma4j.image.RgbImage;
import org.paligemma4j.tokenizer.Tokenizer;

/**
 * OpenAI Chat Completions over PaliGemma. PaliGemma is not a chat model: the request holds one user message
 * whose text part is the task prompt ("caption en", "detect cat") and whose {@code image_url} parts are the
 * images (all image tokens come first, in order). A system message, several turns or several choices are
 * refused with a 400 that says so.
 */
final class ChatCompletions {
    static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** A parsed request: what to run and how to answer. */
    record Request(List<RgbImage> images, String prompt, GenerationOptions options, boolean stream, boolean includeUsage,
                   boolean logprobs) {}

    private ChatCompletions() {}

    static Request parse(JsonNode root, ImageInput images, Generations generations, int maxImages) {
        if (!root.isObject()) throw ApiException.badRequest(null, "the body must be a JSON object");
        RequestFields.string(root, "model");
        Long n = RequestFields.integer(root, "n", Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (n != null && n != 1) {
            throw ApiException.badRequest("n", "'n' must be 1: this server returns one choice per request (send " + n + " requests instead)");
        }
        if (RequestFields.given(root, "tools") && !(root.get("tools").isArray() && root.get("tools").isEmpty())) {
            throw ApiException.badRequest("tools", "PaliGemma does not call tools: leave out 'tools'");
        }
        if (!RequestFields.given(root, "messages")) throw ApiException.badRequest("messages", "'messages' is required");
        JsonNode messages = root.get("messages");
        if (!messages.isArray()) throw ApiException.badRequest("messages", "'messages' must be an array, got " + RequestFields.kind(messages));
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            if (!m.isObject()) throw ApiException.badRequest("messages[" + i + "]", "each message must be an object, got " + RequestFields.kind(m));
            String role = RequestFields.string(m, "role");
            if ("system".equals(role) || "developer".equals(role)) {
                throw ApiException.badRequest("messages[" + i + "].role", "PaliGemma is not a chat model and takes no " + role
                        + " message: send one user message holding the task prompt (e.g. \"caption en\") and the image");
            }
        }
        if (messages.size() != 1) {
            throw ApiException.badRequest("messages", "PaliGemma is not a chat model: send exactly one user message (the task prompt and"
                    + " its image), not " + messages.size() + " messages");
        }
        JsonNode message = messages.get(0);
        String role = RequestFields.string(message, "role");
        if (!"user".equals(role)) {
            throw ApiException.badRequest("messages[0].role", "the message must have role 'user', got " + (role == null ? "none" : "'" + role + "'"));
        }
        List<RgbImage> pictures = new ArrayList<>();
        StringBuilder text = null;
        JsonNode content = message.get("content");
        if (content == null || content.isNull()) throw ApiException.badRequest("messages[0].content", "the message has no content");
        if (content.isTextual()) {
            throw ApiException.badRequest("messages[0].content", "missing image: PaliGemma needs an image; send the content as parts"
                    + " [{\"type\":\"text\",…},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,…\"}}]");
        }
        if (!content.isArray()) {
            throw ApiException.badRequest("messages[0].content", "the content must be an array of parts, got " + RequestFields.kind(content));
        }
        for (int i = 0; i < content.size(); i++) {
            String param = "messages[0].content[" + i + "]";
            JsonNode part = content.get(i);
            if (!part.isObject()) throw ApiException.badRequest(param, "each content part must be an object, got " + RequestFields.kind(part));
            String type = RequestFields.string(part, "type");
            if ("text".equals(type)) {
                String t = RequestFields.string(part, "text");
                if (t == null) throw ApiException.badRequest(param + ".text", "a text part needs 'text'");
                if (text != null) {
                    throw ApiException.badRequest(param, "send one text part: it is the task prompt (e.g. \"detect cat ; dog\")");
                }
                text = new StringBuilder(t);
            } else if ("image_url".equals(type)) {
                JsonNode image = part.get("image_url");
                String url;
                if (image != null && image.isTextual()) url = image.asText();
                else if (image != null && image.isObject()) url = RequestFields.string(image, "url");
                else url = null;
                if (url == null) throw ApiException.badRequest(param + ".image_url", "an image_url part needs 'image_url': {\"url\": \"data:image/...;base64,...\"}");
                if (pictures.size() == maxImages) {
                    throw ApiException.badRequest(param, "too many images: this server takes at most " + maxImages + " per request");
                }
                pictures.add(images.fromUrl(url, param + ".image_url.url"));
            } else {
                throw ApiException.badRequest(param + ".type", "content parts must be of type 'text' or 'image_url', got "
                        + (type == null ? "none" : "'" + type + "'"));
            }
        }
        if (pictures.isEmpty()) {
            throw ApiException.badRequest("messages[0].content", "missing image: PaliGemma needs at least one image_url part"
                    + " (a data:image/...;base64, URI)");
        }
        String prompt = text == null ? "" : text.toString();
        GenerationOptions options = generations.options(root, prompt, pictures.size(), List.of("max_completion_tokens", "max_tokens"));
        Boolean logprobs = RequestFields.bool(root, "logprobs");
        Long top = RequestFields.integer(root, "top_logprobs", 0, 20);
        if (top != null && !Boolean.TRUE.equals(logprobs)) {
            throw ApiException.badRequest("top_logprobs", "'top_logprobs' needs 'logprobs': true");
        }
        if (Boolean.TRUE.equals(logprobs)) options = options.withTopLogprobs(top == null ? 0 : top.intValue());
        Boolean stream = RequestFields.bool(root, "stream");
        boolean includeUsage = false;
        if (RequestFields.given(root, "stream_options")) {
            JsonNode so = root.get("stream_options");
            if (!so.isObject()) throw ApiException.badRequest("stream_options", "'stream_options' must be an object, got " + RequestFields.kind(so));
            includeUsage = Boolean.TRUE.equals(RequestFields.bool(so, "include_usage"));
        }
        return new Request(pictures, prompt, options, Boolean.TRUE.equals(stream), includeUsage, Boolean.TRUE.equals(logprobs));
    }

    static String newId() {
        return "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
    }

    /** OpenAI's finish reasons: a stop id or string is "stop"; the length limit and the time limit are "length". */
    static String finishReason(FinishReason reason) {
        return reason == FinishReason.STOP ? "stop" : "length";
    }

    static ObjectNode completion(String id, long created, String model, GenerationResult result, boolean logprobs, Tokenizer tokenizer) {
        ObjectNode o = JSON.objectNode();
        o.put("id", id);
        o.put("object", "chat.completion");
        o.put("created", created);
        o.put("model", model);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", result.text());
        message.putNull("refusal");
        if (logprobs) choice.set("logprobs", logprobs(result, tokenizer));
        else choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(result.finishReason()));
        o.set("usage", usage(result));
        return o;
    }

    static ObjectNode usage(GenerationResult result) {
        ObjectNode usage = JSON.objectNode();
        int completion = result.ids().length;
        usage.put("prompt_tokens", result.promptTokens());
        usage.put("completion_tokens", completion);
        usage.put("total_tokens", result.promptTokens() + completion);
        return usage;
    }

    /** A streamed chunk; {@code delta} null gives an empty delta. */
    static ObjectNode chunk(String id, long created, String model, ObjectNode delta, String finishReason, JsonNode logprobs) {
        ObjectNode o = JSON.objectNode();
        o.put("id", id);
        o.put("object", "chat.completion.chunk");
        o.put("created", created);
        o.put("model", model);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        choice.set("delta", delta == null ? JSON.objectNode() : delta);
        if (logprobs == null) choice.putNull("logprobs");
        else choice.set("logprobs", logprobs);
        if (finishReason == null) choice.putNull("finish_reason");
        else choice.put("finish_reason", finishReason);
        return o;
    }

    static ObjectNode usageChunk(String id, long created, String model, GenerationResult result) {
        ObjectNode o = JSON.objectNode();
        o.put("id", id);
        o.put("object", "chat.completion.chunk");
        o.put("created", created);
        o.put("model", model);
        o.putArray("choices");
        o.set("usage", usage(result));
        return o;
    }

    /** {@code {"content":[{"token","logprob","bytes","top_logprobs":[…]}],"refusal":null}}. */
    static ObjectNode logprobs(GenerationResult result, Tokenizer tokenizer) {
        ObjectNode o = JSON.objectNode();
        ArrayNode content = o.putArray("content");
        for (TokenLogprob t : result.logprobs()) {
            ObjectNode entry = tokenEntry(t.id(), t.logprob(), tokenizer);
            ArrayNode top = entry.putArray("top_logprobs");
            int[] ids = t.topIds();
            float[] values = t.topLogprobs();
            for (int i = 0; i < ids.length; i++) top.add(tokenEntry(ids[i], values[i], tokenizer));
            content.add(entry);
        }
        o.putNull("refusal");
        return o;
    }

    private static ObjectNode tokenEntry(int id, float logprob, Tokenizer tokenizer) {
        ObjectNode o = JSON.objectNode();
        byte[] bytes = tokenBytes(id, tokenizer);
        o.put("token", new String(bytes, StandardCharsets.UTF_8));
        o.put("logprob", logprob);
        ArrayNode b = o.putArray("bytes");
        for (byte x : bytes) b.add(x & 0xff);
        return o;
    }

    /** A token's text as UTF-8 bytes: SentencePiece's '▁' is a space, a byte piece {@code <0xNN>} is that byte. */
    static byte[] tokenBytes(int id, Tokenizer tokenizer) {
        String piece = tokenizer.pieceOf(id);
        if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
            try {
                return new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)};
            } catch (NumberFormatException notAByte) {
                // an ordinary piece that happens to look like one
            }
        }
        return piece.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
    }
}
