#!/usr/bin/env bash
# demo/eval.sh: the demo model's quality on scenes of a seed that training never used, unquantized and as q8 and q4.
#
#   demo/eval.sh [MODEL_DIR] [WORK_DIR]    (defaults: models/shapes-demo, ${TMPDIR:-/tmp}/shapes-demo-eval)
#
# Settings (environment): COUNT (500 scenes), SEED (2000001: training uses 1, validation 1000001), QUANTS ("q8 q4"),
# STYLE (standard: `paligemma scenes --style`, as the model was trained).
# Prints, as JSON lines: the task metrics of the model (scenes-score: exact match per task, detection precision
# and recall at IoU 0.5 with the right label, in percent), then per quantization its task metrics and eval's
# comparison (top-1 agreement over every generated position, teacher-forced; logit error; metric changes).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
pg="$root/bin/paligemma"
model=${1:-$root/models/shapes-demo}
work=${2:-${TMPDIR:-/tmp}/shapes-demo-eval}
COUNT=${COUNT:-500} SEED=${SEED:-2000001} QUANTS=${QUANTS:-q8 q4} STYLE=${STYLE:-standard}
[ -f "$model/config.json" ] || { echo "eval.sh: $model: no config.json (not a model directory)" >&2; exit 2; }
size=$(grep -o '"image_size" *: *[0-9]*' "$model/config.json" | head -1 | grep -o '[0-9]*$')
[ -n "$size" ] || { echo "eval.sh: $model/config.json: no image_size" >&2; exit 2; }

mkdir -p "$work"
[ -f "$work/data.jsonl" ] || "$pg" scenes --count "$COUNT" --seed "$SEED" --size "$size" --style "$STYLE" --out "$work" > /dev/null
first=
for q in $QUANTS; do
  "$pg" eval --model "$model" --data "$work/data.jsonl" --metric exact --compare-quant "$q" --max-new-tokens 48 \
      --predictions "$work/predictions-$q.jsonl" > "$work/eval-$q.json"
  if [ -z "$first" ]; then
    first=$q
    echo "{\"model\":\"unquantized\",\"scores\":$("$pg" scenes-score --data "$work" --predictions "$work/predictions-$q.jsonl")}"
  fi
  echo "{\"model\":\"$q\",\"scores\":$("$pg" scenes-score --data "$work" --predictions "$work/predictions-$q.jsonl" --quantized),\"eval\":$(cat "$work/eval-$q.json")}"
done
