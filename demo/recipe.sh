#!/usr/bin/env bash
# demo/recipe.sh: the whole training of the demo model, from a fresh initialisation, in the three phases it was
# trained in (each a demo/train.sh run, so each resumes after an interruption; run this again to go on):
#
#   demo/recipe.sh [WORK_DIR]     (default: $PALIGEMMA_DEMO_WORK or ~/.cache/paligemma4j/shapes-demo-recipe)
#
#   1. WORK_DIR/phase1: from scratch, 12,000 steps of 32 on 30,000 scenes of seed 1, lr 5e-4 (cosine).
#   2. WORK_DIR/phase2: phase 1's model continued for 12,000 steps on 60,000 scenes of seed 1 (the first 30,000
#      are phase 1's), a fresh cosine schedule from lr 3e-4.
#   3. WORK_DIR/phase3: phase 2's model continued for 12,000 steps on 60,000 scenes of seed 1 drawn in the large
#      style (bigger objects and words: the standard style's small objects and words were its captions' main
#      errors), a fresh cosine schedule from lr 3e-4.
#
# About 2 h 20 min per phase on 2 cores (0.6–0.7 s per step). The model to publish ends up in
# WORK_DIR/phase3/shapes-demo; STYLE=large demo/eval.sh measures it on 500 scenes that training never saw.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
work=${1:-${PALIGEMMA_DEMO_WORK:-$HOME/.cache/paligemma4j/shapes-demo-recipe}}
mkdir -p "$work"
work=$(cd "$work" && pwd)
# Every setting explicit, so that nothing in the caller's environment changes the recipe (THREADS only changes speed).
common=(SEED=1 VAL_SCENES=40 SIZE=112 BATCH=32 WARMUP=200 SAVE_EVERY=1000 STYLE=standard)
env "${common[@]}" SCENES=30000 STEPS=12000 LR=5e-4 INIT= "$root/demo/train.sh" "$work/phase1"
env "${common[@]}" SCENES=60000 STEPS=12000 LR=3e-4 INIT="$work/phase1/run" "$root/demo/train.sh" "$work/phase2"
env "${common[@]}" STYLE=large SCENES=60000 STEPS=12000 LR=3e-4 INIT="$work/phase2/run" "$root/demo/train.sh" "$work/phase3"
echo "recipe.sh: the model to publish is $work/phase3/shapes-demo"
