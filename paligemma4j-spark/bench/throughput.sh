#!/usr/bin/env bash
# Captioning throughput: the Spark job on local[2] versus the same images through `paligemma generate --requests`
# in one process (the same continuous-batching engine, without Spark), so Spark's overhead is visible.
# A benchmark, not a test: it prints images per minute for both, measured in this run on this machine.
#
#   paligemma4j-spark/bench/throughput.sh [MODEL_DIR] [IMAGES] [MAX_NEW_TOKENS] [BATCH]
# Defaults: the tiny fixture model, 200 images (copies of the fixture images), 20 tokens, batch 8.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
model=${1:-$root/../shared/fixtures/paligemma-tiny}
count=${2:-200}
tokens=${3:-20}
batch=${4:-8}
fixtures=$root/../shared/fixtures/images
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/images"
sources=("$fixtures/shapes_text.png" "$fixtures/photo_like.jpg" "$fixtures/tiny_gray.png")
for ((i = 0; i < count; i++)); do
  src=${sources[$((i % 3))]}
  cp "$src" "$work/images/$(printf 'img%05d' "$i")_$(basename "$src")"
done
for f in "$work"/images/*; do printf '{"image": "%s", "prompt": "caption en"}\n' "$f"; done > "$work/requests.jsonl"

# Build both launchers first so that no build is timed.
"$root/bin/paligemma" --help >/dev/null
"$root/bin/paligemma-spark" --help >/dev/null

echo "machine: $(nproc) cores, $(uname -m); JDK: $("$root/bin/find-jdk.sh" >/dev/null 2>&1; . "$root/bin/find-jdk.sh"; "$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
echo "model: $model; $count images; $tokens new tokens; batch $batch"

t0=$(date +%s.%N)
"$root/bin/paligemma" generate --model "$model" --requests "$work/requests.jsonl" --max-new-tokens "$tokens" \
  --max-batch "$batch" --json > "$work/requests.out"
t1=$(date +%s.%N)
lines=$(wc -l < "$work/requests.out")
awk -v n="$lines" -v a="$t0" -v b="$t1" 'BEGIN { printf "generate --requests (one process): %d images in %.1f s wall (JVM start and model load included): %.0f images/min\n", n, b - a, n / (b - a) * 60 }'

t0=$(date +%s.%N)
summary=$("$root/bin/paligemma-spark" --master 'local[2]' --model "$model" --input "$work/images" --task caption \
  --max-new-tokens "$tokens" --batch-size "$batch" --output "$work/spark.jsonl")
t1=$(date +%s.%N)
echo "spark local[2]: $summary"
awk -v n="$count" -v a="$t0" -v b="$t1" 'BEGIN { printf "spark local[2]: %d images in %.1f s wall (JVM start, Spark start and model load included): %.0f images/min\n", n, b - a, n / (b - a) * 60 }'

# Same texts from both (the engine computes each request as if alone).
python3 - "$work/requests.out" "$work/spark.jsonl" <<'PY' || true
import json, sys
a = [json.loads(l)["text"] for l in open(sys.argv[1])]
b = [json.loads(l)["text"] for l in open(sys.argv[2])]
print("texts equal:", a == b, f"({len(a)} vs {len(b)})")
PY
