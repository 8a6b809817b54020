# Sourced by the project's scripts: sets JAVA_HOME to a JDK >= 25 or exits with advice.
# Order: $JAVA_HOME, then java on PATH, then the usual install folders.

paligemma_java_major() {
  # Prints the feature version of "$1/bin/java" (e.g. 25), or nothing.
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n 1)
  case "$v" in 1.*) v=${v#1.} ;; esac
  printf '%s' "${v%%.*}"
}

paligemma_find_jdk() {
  local candidates=() dir major
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v javac >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
  fi
  for dir in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/lib/jvm/* /Library/Java/JavaVirtualMachines/*/Contents/Home "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$dir" ] && candidates+=("$dir")
  done
  for dir in "${candidates[@]}"; do
    [ -x "$dir/bin/java" ] && [ -x "$dir/bin/javac" ] || continue
    major=$(paligemma_java_major "$dir")
    if [ -n "$major" ] && [ "$major" -ge 25 ] 2>/dev/null; then
      printf '%s' "$dir"
      return 0
    fi
  done
  return 1
}

if ! PALIGEMMA_JDK=$(paligemma_find_jdk); then
  cat >&2 <<'MSG'
paligemma4j needs a JDK 25 or newer (it uses the Vector API and the FFM API).
None was found in JAVA_HOME, on PATH or under /usr/lib/jvm.
Install one, for example Eclipse Temurin 25 (https://adoptium.net) or your
distribution's openjdk-25-jdk package, then set JAVA_HOME to it and try again.
MSG
  exit 3
fi
export JAVA_HOME="$PALIGEMMA_JDK"
