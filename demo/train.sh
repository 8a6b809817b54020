#!/usr/bin/env bash
# demo/train.sh: regenerates the synthetic scenes and trains the demo PaliGemma from scratch with the project's
# own trainer, in resumable pieces. Run it again after an interruption: it resumes from the last complete
# checkpoint (the trainer's resume is bit-for-bit, so pieces give the same model as one run).
#
#   demo/train.sh [WORK_DIR]      (default: $PALIGEMMA_DEMO_WORK or ~/.cache/paligemma4j/shapes-demo)
#
# Settings (environment; a resumed run must use the same ones, which run.env records and checks):
#   SEED (1)  SCENES (10000 training scenes)  VAL_SCENES (40, from seed SEED+1000000: never trained on)
#   SIZE (112: the model's input size)  STEPS (4200)  BATCH (32)  LR (5e-4)  WARMUP (200)  SAVE_EVERY (500)  THREADS (all cores)
#   STYLE (standard): how the scenes are drawn, `paligemma scenes --style` (standard or large)
#   INIT (none): a model directory to start from instead of a fresh initialisation, e.g. an earlier run's
#   WORK_DIR/run, to continue training it with a new schedule (and, with a larger SCENES, on more scenes).
#
# WORK_DIR gets train/ and val/ (paligemma scenes), init/ (paligemma init), run/ (the trainer's --out:
# checkpoint-N/, training_log.jsonl with loss per step and validation loss per SAVE_EVERY steps, and at the
# end the trained model) and run/metrics.jsonl: task metrics of every checkpoint on val/ (exact match per task,
# detection precision/recall at IoU 0.5), computed beside the training at low priority.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
pg="$root/bin/paligemma"
work=${1:-${PALIGEMMA_DEMO_WORK:-$HOME/.cache/paligemma4j/shapes-demo}}
SEED=${SEED:-1} SCENES=${SCENES:-10000} VAL_SCENES=${VAL_SCENES:-40} SIZE=${SIZE:-112}
STEPS=${STEPS:-4200} BATCH=${BATCH:-32} LR=${LR:-5e-4} WARMUP=${WARMUP:-200} SAVE_EVERY=${SAVE_EVERY:-500} INIT=${INIT:-}
STYLE=${STYLE:-standard}
if [ -n "$INIT" ] && [ ! -f "$INIT/model.safetensors" ]; then
  echo "train.sh: INIT=$INIT holds no model.safetensors (give a trained model directory, such as an earlier WORK_DIR/run)" >&2
  exit 2
fi
threads=()
if [ -n "${THREADS:-}" ]; then threads=(--threads "$THREADS"); fi

mkdir -p "$work"
settings="SEED=$SEED SCENES=$SCENES VAL_SCENES=$VAL_SCENES SIZE=$SIZE STEPS=$STEPS BATCH=$BATCH LR=$LR WARMUP=$WARMUP SAVE_EVERY=$SAVE_EVERY${INIT:+ INIT=$INIT}$([ "$STYLE" = standard ] || echo " STYLE=$STYLE") config=$(cksum < "$root/demo/config.json" | cut -d' ' -f1)"
if [ -f "$work/run.env" ] && [ "$(cat "$work/run.env")" != "$settings" ]; then
  echo "train.sh: $work was started with other settings:" >&2
  echo "  then: $(cat "$work/run.env")" >&2
  echo "  now:  $settings" >&2
  echo "use the same settings to resume, or another WORK_DIR" >&2
  exit 2
fi
echo "$settings" > "$work/run.env"

# 1. Data (deterministic: regenerated only when missing).
[ -f "$work/train/data.jsonl" ] || "$pg" scenes --count "$SCENES" --seed "$SEED" --size "$SIZE" --style "$STYLE" --out "$work/train"
[ -f "$work/val/data.jsonl" ] || "$pg" scenes --count "$VAL_SCENES" --seed $((SEED + 1000000)) --size "$SIZE" --style "$STYLE" --out "$work/val"

# 2. The initial checkpoint: fresh, or a copy of INIT's model and files (not its checkpoints or logs).
if [ ! -f "$work/init/model.safetensors" ]; then
  if [ -n "$INIT" ]; then
    mkdir -p "$work/init.partial"
    cp "$INIT"/*.json "$INIT/tokenizer.model" "$work/init.partial/"
    cp "$INIT/model.safetensors" "$work/init.partial/model.safetensors"
    mv "$work/init.partial" "$work/init"
  else
    "$pg" init --config "$root/demo/config.json" --seed "$SEED" --out "$work/init"
  fi
fi

# 3. Task metrics of a set of weights on val/: generate every prompt, score against the targets.
evaluate() { # STEP WEIGHTS.safetensors
  local dir="$work/eval-$1"
  mkdir -p "$dir"
  for f in "$work"/init/*.json "$work/init/tokenizer.model"; do ln -sf "$f" "$dir/"; done
  ln -sf "$2" "$dir/model.safetensors"
  "$pg" generate --model "$dir" --requests "$work/val/requests.jsonl" --json --max-new-tokens 40 "${threads[@]}" \
      > "$dir/answers.jsonl" 2> "$dir/generate.log" \
    && "$pg" scenes-score --data "$work/val" --predictions "$dir/answers.jsonl" --step "$1" >> "$work/run/metrics.jsonl"
  rm -rf "$dir"
}
complete_checkpoints() {
  for c in "$work"/run/checkpoint-*; do
    if [ -f "$c/trainer_state.json" ]; then echo "${c##*-}"; fi
  done | sort -n
}
watch_checkpoints() { # evaluates each complete checkpoint once, while the training runs
  while true; do
    for step in $(complete_checkpoints); do
      grep -q "\"step\":$step," "$work/run/metrics.jsonl" 2>/dev/null || evaluate "$step" "$work/run/checkpoint-$step/parameters.safetensors"
    done
    sleep 20
  done
}

mkdir -p "$work/run"
if [ -f "$work/run/model.safetensors" ]; then
  echo "train.sh: $work/run already holds the trained model (training_log.jsonl, metrics.jsonl)"
  tail -1 "$work/run/metrics.jsonl" 2>/dev/null || true
  exit 0
fi
resume=()
last=$(complete_checkpoints | tail -1)
if [ -n "$last" ]; then resume=(--resume "$work/run/checkpoint-$last"); echo "train.sh: resuming from step $last"; fi

export -f evaluate complete_checkpoints watch_checkpoints
export pg work SIZE
# Its own process group (setsid), so that stopping it also stops the generate it may be running.
setsid nice -n 19 bash -c "$(declare -p threads); watch_checkpoints" &
watcher=$!
stop_watcher() { kill -- -"$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true; }
trap stop_watcher EXIT

# 4. Training: every part of the model, cosine schedule, gradient clipping.
uptime
"$pg" train --model "$work/init" --data "$work/train/data.jsonl" --val "$work/val/data.jsonl" --val-every "$SAVE_EVERY" \
    --full --optimizer adamw --lr "$LR" --schedule cosine --warmup-steps "$WARMUP" --weight-decay 0.01 --max-grad-norm 1.0 \
    --batch-size "$BATCH" --steps "$STEPS" --seed "$SEED" --save-every "$SAVE_EVERY" "${resume[@]}" "${threads[@]}" \
    --out "$work/run"
uptime
stop_watcher
evaluate "$STEPS" "$work/run/model.safetensors"
tail -1 "$work/run/metrics.jsonl"

# 5. The model as committed: its weights as bf16 (half of float32's size, within the 8 MB budget) beside the Hub's
#    files, in WORK_DIR/shapes-demo; copy that folder to models/shapes-demo to publish a retrained model.
rm -rf "$work/shapes-demo"
"$pg" convert --model "$work/run" --out "$work/shapes-demo" --dtype bf16
rm -f "$work/shapes-demo"/training_log.* "$work/shapes-demo"/loss_curve.png "$work/shapes-demo"/metrics.jsonl
echo "train.sh: the model to publish is $work/shapes-demo (demo/eval.sh $work/shapes-demo measures it)"
