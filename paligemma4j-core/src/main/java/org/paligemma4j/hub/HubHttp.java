package org.paligemma4j.hub;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP side of the Hub client: requests with the token where it belongs, redirects followed by hand (so the
 * token never goes to another host, such as the storage host large files are redirected to), and response bodies
 * read with a stall timeout so a silent server cannot hang a download.
 */
final class HubHttp implements AutoCloseable {
    static final String USER_AGENT = "paligemma4j/0.1.0; java/" + Runtime.version().feature();
    private static final int MAX_REDIRECTS = 10;

    private final HubEnvironment env;
    private final HttpClient client;
    private final URI endpoint;

    HubHttp(HubEnvironment env) throws HubException {
        this.env = env;
        try {
            this.endpoint = URI.create(env.endpoint() + "/");
        } catch (IllegalArgumentException e) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, "HF_ENDPOINT '" + env.endpoint() + "' is not a URL", e);
        }
        if (!"http".equalsIgnoreCase(endpoint.getScheme()) && !"https".equalsIgnoreCase(endpoint.getScheme()) || endpoint.getHost() == null) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, "HF_ENDPOINT '" + env.endpoint() + "' is not an http(s) URL");
        }
        // Redirects are followed here, not by the client: the token must not follow a redirect to another host.
        this.client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(env.timeout())
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    HubEnvironment env() {
        return env;
    }

    /** {@code {endpoint}/api/models/owner/name/revision/{rev}}, the revision percent-encoded whole (a '/' too). */
    URI revisionUri(HubId id) {
        return uri(env.endpoint() + "/api/models/" + id.repoId() + "/revision/" + encode(id.revision()));
    }

    /** {@code {endpoint}/owner/name/resolve/{commit}/{file}}, each path segment of the file percent-encoded. */
    URI resolveUri(HubId id, String commit, String file) {
        StringBuilder b = new StringBuilder(env.endpoint()).append('/').append(id.repoId()).append("/resolve/").append(encode(commit));
        for (String segment : file.split("/", -1)) b.append('/').append(encode(segment));
        return uri(b.toString());
    }

    private static URI uri(String s) {
        return URI.create(s);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Whether {@code uri} is served by the Hub endpoint itself (same host and port), the only place the token goes. */
    boolean isEndpointHost(URI uri) {
        return uri.getHost() != null && uri.getHost().equalsIgnoreCase(endpoint.getHost()) && port(uri) == port(endpoint);
    }

    private static int port(URI uri) {
        if (uri.getPort() >= 0) return uri.getPort();
        return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    /** One response: status, headers, where it came from, and its body still to be read (or discarded). */
    final class Response implements AutoCloseable {
        final int status;
        final HttpHeaders headers;
        final URI uri;
        private final BodyStream body;

        Response(HttpResponse<Flow.Publisher<List<ByteBuffer>>> r, String what) {
            this.status = r.statusCode();
            this.headers = r.headers();
            this.uri = r.uri();
            this.body = new BodyStream(what, env.timeout().toMillis());
            r.body().subscribe(body);
        }

        String header(String name) {
            return headers.firstValue(name).map(String::strip).orElse(null);
        }

        /** A numeric header, or empty when absent; a value that is not a non-negative number is the server's fault. */
        OptionalLong longHeader(String name, String what) throws HubException {
            String v = header(name);
            if (v == null) return OptionalLong.empty();
            try {
                long n = Long.parseLong(v);
                if (n < 0) throw new NumberFormatException();
                return OptionalLong.of(n);
            } catch (NumberFormatException e) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": header " + name + " is '"
                        + HubCache.abbreviate(v) + "', not a size in bytes");
            }
        }

        BodyStream body() {
            return body;
        }

        /** The whole body, refused past {@code limit} bytes (API answers are small; a huge one is not the Hub). */
        byte[] readAll(int limit, String what) throws HubException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer b;
            while ((b = body.next()) != null) {
                if (out.size() + b.remaining() > limit) {
                    body.close();
                    throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": answer is larger than " + limit + " bytes");
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                out.writeBytes(chunk);
            }
            return out.toByteArray();
        }

        @Override
        public void close() {
            body.close();
        }
    }

    /**
     * Sends one request (no redirect followed) with the token when {@code uri} is the endpoint's host;
     * {@code extra} headers come in name/value pairs.
     */
    Response send(String method, URI uri, String what, String... extra) throws HubException {
        HttpRequest.Builder b;
        try {
            b = HttpRequest.newBuilder(uri).timeout(env.timeout()).header("User-Agent", USER_AGENT);
            if (env.token() != null && isEndpointHost(uri)) b.header("Authorization", "Bearer " + env.token());
            for (int i = 0; i + 1 < extra.length; i += 2) b.header(extra[i], extra[i + 1]);
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } catch (IllegalArgumentException e) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": cannot request '" + HubCache.abbreviate(uri.toString()) + "'", e);
        }
        try {
            return new Response(client.send(b.build(), HttpResponse.BodyHandlers.ofPublisher()), what);
        } catch (HttpTimeoutException e) {
            throw new HubException(HubException.Reason.NETWORK, what + ": no answer from " + hostOf(uri) + " within "
                    + env.timeout().toSeconds() + " s (HF_HUB_DOWNLOAD_TIMEOUT sets the limit)", e);
        } catch (ConnectException | UnresolvedAddressException e) {
            throw new HubException(HubException.Reason.NETWORK, what + ": cannot connect to " + hostOf(uri)
                    + " (offline? set HF_HUB_OFFLINE=1 to use only the cache, or HF_ENDPOINT for a mirror)", e);
        } catch (IOException e) {
            throw new HubException(HubException.Reason.NETWORK, what + ": " + hostOf(uri) + " broke the connection ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(HubException.Reason.NETWORK, what + ": interrupted", e);
        } catch (IllegalArgumentException | SecurityException e) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": " + hostOf(uri) + " answered something unreadable ("
                    + HubCache.abbreviate(String.valueOf(e.getMessage())) + ")", e);
        }
    }

    /**
     * Sends a request and follows redirects: all of them ({@code relativeOnly} false), or only those that stay on
     * the same host (the official client's rule for its HEAD: a redirect to the storage host is an answer, not a
     * hop). The token is sent only to the endpoint's host.
     */
    Response follow(String method, URI uri, String what, boolean relativeOnly, String... extra) throws HubException {
        URI current = uri;
        for (int hop = 0; ; hop++) {
            Response r = send(method, current, what, extra);
            if (!isRedirect(r.status)) return r;
            String location = r.header("Location");
            if (location == null || location.isEmpty()) {
                r.close();
                throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": HTTP " + r.status + " redirect without a Location header");
            }
            URI next = resolveLocation(current, location, what);
            if (relativeOnly && !isRelative(location)) return r;
            r.close();
            if (hop >= MAX_REDIRECTS) {
                throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": more than " + MAX_REDIRECTS + " redirects");
            }
            current = next;
        }
    }

    /** A Location without scheme or host ({@code /owner/new-name/...}): a hop on the same server. */
    private static boolean isRelative(String location) {
        String l = location.strip();
        return !l.startsWith("//") && !l.matches("(?s)^[A-Za-z][A-Za-z0-9+.-]*:.*");
    }

    static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    static URI resolveLocation(URI base, String location, String what) throws HubException {
        try {
            URI next = base.resolve(location.strip());
            String scheme = next.getScheme();
            if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https")) || next.getHost() == null) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
            return next;
        } catch (IllegalArgumentException e) {
            throw new HubException(HubException.Reason.BAD_RESPONSE, what + ": redirect to '" + HubCache.abbreviate(location)
                    + "', which is not an http(s) URL", e);
        }
    }

    static String hostOf(URI uri) {
        return uri.getPort() >= 0 ? uri.getHost() + ":" + uri.getPort() : String.valueOf(uri.getHost());
    }

    @Override
    public void close() {
        client.shutdownNow();
    }

    /**
     * A response body as a pull stream of buffers; waiting longer than the timeout for the next buffer ends the
     * transfer with an error instead of hanging.
     */
    static final class BodyStream implements Flow.Subscriber<List<ByteBuffer>>, AutoCloseable {
        private static final Object END = new Object();

        private record Failure(Throwable error) {}

        private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        private final String what;
        private final long timeoutMillis;
        private volatile Flow.Subscription subscription;
        private volatile boolean cancelled;
        private Iterator<ByteBuffer> current;
        private boolean done;

        BodyStream(String what, long timeoutMillis) {
            this.what = what;
            this.timeoutMillis = timeoutMillis;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (cancelled) s.cancel();
            else s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            queue.add(item);
        }

        @Override
        public void onError(Throwable t) {
            queue.add(new Failure(t));
        }

        @Override
        public void onComplete() {
            queue.add(END);
        }

        /** The next buffer with bytes, or null at the end of the body. */
        ByteBuffer next() throws HubException {
            while (true) {
                if (current != null) {
                    while (current.hasNext()) {
                        ByteBuffer b = current.next();
                        if (b.hasRemaining()) return b;
                    }
                    current = null;
                    subscription.request(1);
                }
                if (done) return null;
                Object item;
                try {
                    item = queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    close();
                    throw new HubException(HubException.Reason.NETWORK, what + ": interrupted", e);
                }
                if (item == null) {
                    close();
                    throw new HubException(HubException.Reason.NETWORK, String.format(Locale.ROOT,
                            "%s: the server sent nothing for %.0f s (HF_HUB_DOWNLOAD_TIMEOUT sets the limit)", what, timeoutMillis / 1000.0));
                }
                if (item == END) {
                    done = true;
                    return null;
                }
                if (item instanceof Failure f) {
                    done = true;
                    Throwable t = f.error();
                    throw new HubException(HubException.Reason.NETWORK, what + ": transfer broke off ("
                            + (t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage()) + ")", t);
                }
                @SuppressWarnings("unchecked")
                List<ByteBuffer> list = (List<ByteBuffer>) item;
                current = list.iterator();
            }
        }

        @Override
        public void close() {
            if (done) return;
            done = true;
            cancelled = true;
            Flow.Subscription s = subscription;
            if (s != null) s.cancel();
        }
    }
}
