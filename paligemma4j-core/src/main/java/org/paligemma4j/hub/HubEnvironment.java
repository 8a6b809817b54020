package org.paligemma4j.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * Where the Hub is and where its cache lives, read from the same environment variables the official
 * {@code huggingface_hub} client reads, so both share one cache and one login:
 * <ul>
 *   <li>{@code HF_ENDPOINT}: the Hub or a mirror (default {@code https://huggingface.co});</li>
 *   <li>{@code HF_HOME}: default {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface};</li>
 *   <li>{@code HF_HUB_CACHE}: the model cache (default {@code $HF_HOME/hub});</li>
 *   <li>{@code HF_TOKEN}: the access token, else the file {@code HF_TOKEN_PATH} (default {@code $HF_HOME/token}),
 *       which {@code hf auth login} writes;</li>
 *   <li>{@code HF_HUB_OFFLINE=1}: never touch the network, read only the cache;</li>
 *   <li>{@code HF_HUB_DOWNLOAD_TIMEOUT}: seconds a connection may stay silent (default 10).</li>
 * </ul>
 * Immutable; {@code withX} methods return changed copies. The token never appears in {@link #toString()}.
 */
public record HubEnvironment(String endpoint, Path cacheDir, String token, boolean offline, Duration timeout, int maxWorkers) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    /** Parallel file downloads, as the official client's snapshot download uses. */
    public static final int DEFAULT_MAX_WORKERS = 8;

    public HubEnvironment {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(cacheDir, "cacheDir");
        Objects.requireNonNull(timeout, "timeout");
        endpoint = stripTrailingSlashes(endpoint);
        if (token != null && token.isBlank()) token = null;
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be positive");
        if (maxWorkers < 1) throw new IllegalArgumentException("maxWorkers must be at least 1");
    }

    /** Reads the process environment and the token file. */
    public static HubEnvironment fromSystem() {
        return from(System::getenv, Path.of(System.getProperty("user.home")));
    }

    /**
     * Reads the variables through {@code env} (null for unset) with {@code home} as {@code ~}; tests pass a map's
     * {@code get} here instead of touching the real environment.
     */
    public static HubEnvironment from(Function<String, String> env, Path home) {
        String xdg = nonBlank(env.apply("XDG_CACHE_HOME"));
        Path hfHome = expand(nonBlank(env.apply("HF_HOME")), home);
        if (hfHome == null) hfHome = (xdg != null ? expand(xdg, home) : home.resolve(".cache")).resolve("huggingface");
        Path cache = expand(firstNonBlank(env.apply("HF_HUB_CACHE"), env.apply("HUGGINGFACE_HUB_CACHE")), home);
        if (cache == null) cache = hfHome.resolve("hub");
        String endpoint = firstNonBlank(env.apply("HF_ENDPOINT"), DEFAULT_ENDPOINT);
        boolean offline = isTrue(env.apply("HF_HUB_OFFLINE")) || isTrue(env.apply("TRANSFORMERS_OFFLINE"));
        String token = firstNonBlank(env.apply("HF_TOKEN"), env.apply("HUGGING_FACE_HUB_TOKEN"));
        if (token == null) {
            Path tokenPath = expand(nonBlank(env.apply("HF_TOKEN_PATH")), home);
            token = readToken(tokenPath != null ? tokenPath : hfHome.resolve("token"));
        }
        Duration timeout = Duration.ofSeconds(10);
        String seconds = nonBlank(env.apply("HF_HUB_DOWNLOAD_TIMEOUT"));
        if (seconds != null) {
            try {
                double s = Double.parseDouble(seconds.trim());
                if (s > 0 && s < 1e6) timeout = Duration.ofMillis((long) Math.ceil(s * 1000));
            } catch (NumberFormatException ignored) {
                // The official client would fail on a malformed value; keeping the default is kinder.
            }
        }
        return new HubEnvironment(endpoint, cache, token == null ? null : token.strip(), offline, timeout, DEFAULT_MAX_WORKERS);
    }

    public HubEnvironment withEndpoint(String newEndpoint) {
        return new HubEnvironment(newEndpoint, cacheDir, token, offline, timeout, maxWorkers);
    }

    public HubEnvironment withCacheDir(Path newCacheDir) {
        return new HubEnvironment(endpoint, newCacheDir, token, offline, timeout, maxWorkers);
    }

    public HubEnvironment withToken(String newToken) {
        return new HubEnvironment(endpoint, cacheDir, newToken, offline, timeout, maxWorkers);
    }

    public HubEnvironment withOffline(boolean newOffline) {
        return new HubEnvironment(endpoint, cacheDir, token, newOffline, timeout, maxWorkers);
    }

    public HubEnvironment withTimeout(Duration newTimeout) {
        return new HubEnvironment(endpoint, cacheDir, token, offline, newTimeout, maxWorkers);
    }

    public HubEnvironment withMaxWorkers(int newMaxWorkers) {
        return new HubEnvironment(endpoint, cacheDir, token, offline, timeout, newMaxWorkers);
    }

    /** A model's page on the Hub, where its license is accepted: {@code https://huggingface.co/owner/name}. */
    public String modelPage(HubId id) {
        return endpoint + "/" + id.repoId();
    }

    @Override
    public String toString() {
        return "HubEnvironment[endpoint=" + endpoint + ", cacheDir=" + cacheDir + ", token=" + (token == null ? "none" : "set")
                + ", offline=" + offline + ", timeout=" + timeout + ", maxWorkers=" + maxWorkers + "]";
    }

    /** The official client's notion of a true flag: 1, ON, YES or TRUE in any case. */
    static boolean isTrue(String value) {
        if (value == null) return false;
        return switch (value.trim().toUpperCase(Locale.ROOT)) {
            case "1", "ON", "YES", "TRUE" -> true;
            default -> false;
        };
    }

    private static String readToken(Path file) {
        try {
            if (!Files.isRegularFile(file) || Files.size(file) > 64 * 1024) return null;
            return nonBlank(Files.readString(file, StandardCharsets.UTF_8).strip());
        } catch (IOException | RuntimeException e) {
            return null; // an unreadable token file means "not logged in", as for the official client
        }
    }

    private static Path expand(String path, Path home) {
        if (path == null) return null;
        if (path.equals("~")) return home;
        if (path.startsWith("~/")) return home.resolve(path.substring(2));
        return Path.of(path);
    }

    private static String nonBlank(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static String firstNonBlank(String a, String b) {
        return nonBlank(a) != null ? a : nonBlank(b);
    }

    private static String stripTrailingSlashes(String s) {
        String t = s.strip();
        while (t.endsWith("/")) t = t.substring(0, t.length() - 1);
        return t;
    }
}
