package org.paligemma4j.hub;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model on the Hugging Face Hub: {@code owner/name} and a revision (a branch, a tag or a commit hash;
 * {@code main} when none is given), written {@code owner/name@revision}.
 *
 * @param owner    user or organisation, e.g. {@code google}
 * @param name     repository name, e.g. {@code paligemma2-3b-mix-224}
 * @param revision branch, tag or commit; never null
 */
public record HubId(String owner, String name, String revision) {
    /** The revision the Hub serves when none is named. */
    public static final String DEFAULT_REVISION = "main";

    // The Hub's own rule for repository ids: letters, digits, '-', '_' and '.', at most 96 characters,
    // no '--' or '..' (the cache folder name joins owner and name with '--').
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?");
    private static final Pattern ID = Pattern.compile("(" + PART + ")/(" + PART + ")(?:@(.+))?");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public HubId {
        if (!isPart(owner) || !isPart(name)) {
            throw new IllegalArgumentException("'" + owner + "/" + name + "' is not a Hub model id (owner/name: letters, digits, '-', '_', '.')");
        }
        if (revision == null) revision = DEFAULT_REVISION;
        String problem = revisionProblem(revision);
        if (problem != null) throw new IllegalArgumentException("revision '" + revision + "' " + problem);
    }

    /** Parses {@code owner/name} or {@code owner/name@revision}. */
    public static HubId parse(String text) {
        Matcher m = text == null ? null : ID.matcher(text);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a Hub model id: expected owner/name or owner/name@revision");
        }
        return new HubId(m.group(1), m.group(2), m.group(3));
    }

    /** Whether {@code text} has the shape {@code owner/name[@revision]} (it may still name a local path too). */
    public static boolean looksLikeHubId(String text) {
        if (text == null) return false;
        Matcher m = ID.matcher(text);
        if (!m.matches()) return false;
        return isPart(m.group(1)) && isPart(m.group(2)) && (m.group(3) == null || revisionProblem(m.group(3)) == null);
    }

    /** {@code owner/name}, as the Hub's URLs spell the repository. */
    public String repoId() {
        return owner + "/" + name;
    }

    /** The repository's folder in the shared cache: {@code models--owner--name}. */
    public String cacheFolderName() {
        return "models--" + owner + "--" + name;
    }

    /** Whether the revision is a full commit hash (no lookup needed to pin it). */
    public boolean isCommit() {
        return COMMIT.matcher(revision).matches();
    }

    public HubId withRevision(String newRevision) {
        return new HubId(owner, name, newRevision);
    }

    static boolean isCommitHash(String text) {
        return text != null && COMMIT.matcher(text).matches();
    }

    private static boolean isPart(String part) {
        return part != null && PART.matcher(part).matches() && !part.contains("--") && !part.contains("..");
    }

    /** Revisions become file names under refs/ (branches may hold '/', like refs/pr/1), so no path tricks. */
    private static String revisionProblem(String revision) {
        if (revision.isEmpty()) return "is empty";
        if (revision.length() > 255) return "is too long";
        if (revision.startsWith("/") || revision.endsWith("/") || revision.contains("\\")) return "is not a branch, tag or commit";
        for (String part : revision.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) return "is not a branch, tag or commit";
        }
        for (int i = 0; i < revision.length(); i++) {
            char c = revision.charAt(i);
            if (c < 0x20 || c == 0x7f) return "holds a control character";
        }
        return null;
    }

    @Override
    public String toString() {
        return revision.equals(DEFAULT_REVISION) ? repoId() : repoId() + "@" + revision;
    }
}
