package org.paligemma4j.cli;

import java.util.concurrent.Callable;
import org.paligemma4j.hub.Hub;
import org.paligemma4j.hub.HubId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code paligemma pull owner/name[@rev]}: download a model into the shared Hugging Face cache. */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download a model from the Hugging Face Hub into the shared cache (HF_HUB_CACHE, else $HF_HOME/hub, "
                + "else ~/.cache/huggingface/hub), verifying every file, and print its snapshot folder.",
                "Files already cached (by this tool or by Python's huggingface_hub) are not downloaded again. "
                        + "Gated models need their license accepted on the model's page and HF_TOKEN (or 'hf auth login').",
                "Exit code 0 only when every file is verified."})
final class PullCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ID", description = "owner/name or owner/name@revision (branch, tag or commit).")
    String id;

    @Override
    public Integer call() throws Exception {
        HubId hubId = HubModels.parseId(id, spec);
        try (Hub hub = HubModels.hub()) {
            // Offline, a pull succeeds only when the model is cached already.
            java.nio.file.Path dir = hub.environment().offline() ? hub.cachedSnapshot(hubId) : hub.download(hubId).dir();
            System.out.println(dir);
        }
        return 0;
    }
}
