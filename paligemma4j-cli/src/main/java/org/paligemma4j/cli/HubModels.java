package org.paligemma4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import org.paligemma4j.hub.DownloadProgress;
import org.paligemma4j.hub.Hub;
import org.paligemma4j.hub.HubEnvironment;
import org.paligemma4j.hub.HubId;

/**
 * Where the commands meet the Hugging Face Hub: a {@code --model} value that is no existing path but reads
 * {@code owner/name[@revision]} is a Hub id, resolved to its snapshot folder in the shared cache (downloaded
 * first when missing; only from the cache with {@code HF_HUB_OFFLINE=1}).
 */
final class HubModels {
    /** The environment the Hub settings are read from; tests replace it instead of touching the real one. */
    static Function<String, String> environment = System::getenv;

    private HubModels() {}

    static HubEnvironment hubEnvironment() {
        return HubEnvironment.from(environment, Path.of(System.getProperty("user.home")));
    }

    static Hub hub() {
        return new Hub(hubEnvironment(), DownloadProgress.console(System.err));
    }

    /** {@code model} unchanged when it exists or is no Hub id; else the Hub id's snapshot folder. */
    static Path resolveIfHubId(Path model) {
        if (model == null || Files.exists(model)) return model;
        String text = model.toString();
        if (!HubId.looksLikeHubId(text)) return model;
        try (Hub hub = hub()) {
            return hub.locate(text);
        } catch (IOException e) {
            throw new CliException(e.getMessage());
        }
    }

    /** Parses a command's ID argument; a malformed one is a usage error. */
    static HubId parseId(String text, picocli.CommandLine.Model.CommandSpec spec) {
        try {
            return HubId.parse(text);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
