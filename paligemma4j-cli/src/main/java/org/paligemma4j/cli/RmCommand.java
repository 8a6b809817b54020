package org.paligemma4j.cli;

import java.util.concurrent.Callable;
import org.paligemma4j.hub.HubCache;
import org.paligemma4j.hub.HubId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code paligemma rm owner/name}: delete a model from the shared Hugging Face cache. */
@Command(name = "rm", mixinStandardHelpOptions = true,
        description = "Remove a model (all its revisions and files) from the shared Hugging Face cache.")
final class RmCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ID", description = "owner/name of a cached model.")
    String id;

    @Override
    public Integer call() throws Exception {
        HubId hubId = HubModels.parseId(id, spec);
        if (id.contains("@")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "rm removes a whole model: give owner/name without @revision");
        }
        HubCache cache = new HubCache(HubModels.hubEnvironment().cacheDir());
        long bytes = cache.list().stream().filter(m -> m.repoId().equals(hubId.repoId())).mapToLong(HubCache.CachedModel::sizeBytes).sum();
        if (!cache.remove(hubId)) throw new CliException(hubId.repoId() + " is not in the cache at " + cache.root());
        System.out.println("removed " + hubId.repoId() + " (" + ModelsCommand.size(bytes) + ") from " + cache.root());
        return 0;
    }
}
