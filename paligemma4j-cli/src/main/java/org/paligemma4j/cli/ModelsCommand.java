package org.paligemma4j.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.paligemma4j.hub.HubCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code paligemma models}: what the shared Hugging Face cache holds. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the models in the shared Hugging Face cache with their revisions (commit, branches and tags) and sizes.")
final class ModelsCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print one JSON array.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        HubCache cache = new HubCache(HubModels.hubEnvironment().cacheDir());
        List<HubCache.CachedModel> models = cache.list();
        if (json) {
            StringBuilder b = new StringBuilder("[");
            for (HubCache.CachedModel m : models) {
                if (b.length() > 1) b.append(',');
                b.append("{\"id\":\"").append(Json.escape(m.repoId())).append("\",\"path\":\"").append(Json.escape(m.dir().toString()))
                        .append("\",\"size_bytes\":").append(m.sizeBytes()).append(",\"revisions\":[");
                boolean first = true;
                for (HubCache.CachedRevision r : m.revisions()) {
                    b.append(first ? "" : ",").append("{\"commit\":\"").append(Json.escape(r.commit())).append("\",\"refs\":[");
                    for (int i = 0; i < r.refs().size(); i++) b.append(i == 0 ? "" : ",").append('"').append(Json.escape(r.refs().get(i))).append('"');
                    b.append("],\"files\":").append(r.files()).append(",\"size_bytes\":").append(r.sizeBytes()).append('}');
                    first = false;
                }
                b.append("]}");
            }
            System.out.println(b.append(']'));
            return 0;
        }
        if (models.isEmpty()) {
            System.out.println("no models in " + cache.root());
            return 0;
        }
        System.out.println("cache: " + cache.root());
        for (HubCache.CachedModel m : models) {
            System.out.printf(Locale.ROOT, "%s  %s%n", m.repoId(), size(m.sizeBytes()));
            for (HubCache.CachedRevision r : m.revisions()) {
                System.out.printf(Locale.ROOT, "  %s  %-12s %4d files  %s%n", r.commit(),
                        r.refs().isEmpty() ? "-" : String.join(",", r.refs()), r.files(), size(r.sizeBytes()));
            }
        }
        return 0;
    }

    static String size(long bytes) {
        if (bytes < 1000) return bytes + " B";
        if (bytes < 1_000_000) return String.format(Locale.ROOT, "%.1f kB", bytes / 1e3);
        if (bytes < 1_000_000_000) return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }
}
