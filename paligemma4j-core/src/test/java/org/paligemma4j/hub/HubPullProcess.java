package org.paligemma4j.hub;

import java.nio.file.Path;
import java.time.Duration;

/** A second process pulling a model, for the test of concurrent pulls across processes: args endpoint, cache, id. */
public final class HubPullProcess {
    private HubPullProcess() {}

    public static void main(String[] args) throws Exception {
        HubEnvironment env = new HubEnvironment(args[0], Path.of(args[1]), null, false, Duration.ofSeconds(10), 8);
        try (Hub hub = new Hub(env, DownloadProgress.console(System.out, false))) {
            hub.download(HubId.parse(args[2]));
        }
    }
}
