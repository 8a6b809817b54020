package org.paligemma4j.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded mutations of a JSON document's structure, the complement of {@link Mutator}'s byte-level changes: a byte
 * flip mostly makes JSON unparseable, while loaders must also survive valid JSON with hostile values. Each mutant
 * changes one to three nodes: a value replaced by a boundary value (0, -1, 2^31, 2^63, 1e308, fractions, empty,
 * "/", "..", a long string, null, true, an empty object or array), a field deleted, or an array element dropped or
 * doubled. Same seed, same mutant: {@code new JsonMutator(seed).mutate(json)}.
 */
public final class JsonMutator {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final SplittableRandom random;

    public JsonMutator(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** A mutant of the JSON document {@code original} (returned unchanged when it is not JSON). */
    public byte[] mutate(byte[] original) {
        JsonNode root;
        try {
            root = JSON.readTree(original);
        } catch (IOException e) {
            return original.clone();
        }
        if (root == null || !root.isContainerNode()) return original.clone();
        int changes = 1 + random.nextInt(3);
        for (int i = 0; i < changes; i++) change(root);
        try {
            return JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One change at a random place: a container and one of its slots. */
    private void change(JsonNode root) {
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        JsonNode parent = containers.get(random.nextInt(containers.size()));
        int size = parent.size();
        if (size == 0) return;
        int slot = random.nextInt(size);
        int what = random.nextInt(10);
        if (parent instanceof ObjectNode o) {
            String key = new ArrayList<>(o.properties()).get(slot).getKey();
            if (what == 0) o.remove(key);
            else o.set(key, hostile(o.get(key)));
        } else if (parent instanceof ArrayNode a) {
            if (what == 0) a.remove(slot);
            else if (what == 1) a.insert(slot, a.get(slot).deepCopy());
            else a.set(slot, hostile(a.get(slot)));
        }
    }

    private static void collect(JsonNode node, List<JsonNode> out) {
        if (!node.isContainerNode()) return;
        out.add(node);
        for (JsonNode child : node) collect(child, out);
    }

    /** A value that loaders must refuse or survive; often of the same kind as {@code old}, sometimes not. */
    private JsonNode hostile(JsonNode old) {
        boolean sameKind = random.nextInt(3) > 0;
        if (sameKind && old.isNumber() || !sameKind && random.nextBoolean()) {
            return switch (random.nextInt(12)) {
                case 0 -> F.numberNode(0);
                case 1 -> F.numberNode(-1);
                case 2 -> F.numberNode(Integer.MAX_VALUE);
                case 3 -> F.numberNode(1L << 31);
                case 4 -> F.numberNode(Long.MAX_VALUE);
                case 5 -> F.numberNode(new BigInteger("123456789012345678901234567890"));
                case 6 -> F.numberNode(1e308);
                case 7 -> F.numberNode(-1e-300);
                case 8 -> F.numberNode(0.5);
                case 9 -> F.numberNode(1_000_000);
                case 10 -> F.numberNode(old.isNumber() ? old.asLong() + 1 : 7);
                default -> F.numberNode(old.isNumber() ? -old.asLong() : -7);
            };
        }
        if (sameKind && old.isTextual() || !sameKind && random.nextBoolean()) {
            return switch (random.nextInt(8)) {
                case 0 -> F.textNode("");
                case 1 -> F.textNode("/");
                case 2 -> F.textNode("..");
                case 3 -> F.textNode("../" + old.asText());
                case 4 -> F.textNode(old.asText() + "x");
                case 5 -> F.textNode("x".repeat(100_000));
                case 6 -> F.textNode("\u0000\uFFFF");
                default -> F.textNode("12");
            };
        }
        return switch (random.nextInt(6)) {
            case 0 -> F.nullNode();
            case 1 -> F.booleanNode(true);
            case 2 -> F.objectNode();
            case 3 -> F.arrayNode();
            case 4 -> F.arrayNode().add(old.deepCopy()).add(old.deepCopy());
            default -> old.isContainerNode() && !old.isEmpty() ? old.elements().next().deepCopy() : F.numberNode(1);
        };
    }
}
