package org.paligemma4j.testing;

import java.nio.file.Path;

/**
 * Runs the {@link FakeHub} on its own, for trying {@code paligemma pull} or Python's {@code huggingface_hub}
 * against it by hand: arguments are {@code owner/name=DIR} pairs (a trailing {@code :gated} gates one); it prints
 * the endpoint and serves until standard input closes. {@code -Dfakehub.storageHost=127.0.0.2} puts the storage
 * port on another loopback address, for clients that tell hosts apart by name only.
 */
public final class FakeHubMain {
    private FakeHubMain() {}

    public static void main(String[] args) throws Exception {
        try (FakeHub hub = FakeHub.start(System.getProperty("fakehub.storageHost", "127.0.0.1"))) {
            for (String arg : args) {
                boolean gated = arg.endsWith(":gated");
                String spec = gated ? arg.substring(0, arg.length() - ":gated".length()) : arg;
                int eq = spec.indexOf('=');
                FakeHub.Repo repo = hub.addRepo(spec.substring(0, eq), Path.of(spec.substring(eq + 1)));
                if (gated) repo.gated();
                System.out.println(spec.substring(0, eq) + " commit " + repo.commit() + (gated ? " (gated, token " + FakeHub.TOKEN + ")" : ""));
            }
            System.out.println(hub.endpoint());
            System.out.flush();
            while (System.in.read() >= 0) {
                // serve until stdin closes
            }
            for (FakeHub.Request r : hub.requests()) System.err.println(r.server() + " " + r.method() + " " + r.path() + (r.range() == null ? "" : " " + r.range()));
        }
    }
}
