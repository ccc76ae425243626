#!/usr/bin/env bash
# Pixel-BERT on synthetic scenes (issue #6): pretraining, VQA, retrieval and NLVR2, and the
# pretraining ablation of the paper's Table 6, on this machine's CPU. docs/results.md records them.
# Usage: scripts/pixelbert_results.sh [RUNS_DIR]     (one thread: OMP_NUM_THREADS=1 is set here)
set -euo pipefail
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
RUNS=${1:-runs/pixelbert}
mkdir -p "$RUNS"
PRE=(--steps 2500 --lr 1e-3 --save-steps 1000)
FT=(--lr 5e-4 --save-steps 1000)

vl() {  # vl NAME ARGS... -> $RUNS/NAME, skipped when done
    local name=$1; shift
    [ -f "$RUNS/$name/results.json" ] && return 0
    pixlm vl "$@" --output-dir "$RUNS/$name" > "$RUNS/$name.log" 2>&1
    echo "$(date +%T) $name done"
}

vl pretrain-both pretrain "${PRE[@]}"
vl vqa-both vqa --model "$RUNS/pretrain-both" --steps 800 "${FT[@]}"
vl retrieval-both retrieval --model "$RUNS/pretrain-both" --steps 600 --batch-size 8 "${FT[@]}"
vl nlvr2-both nlvr2 --model "$RUNS/pretrain-both" --steps 800 "${FT[@]}"
# Table 6 at this scale: what pretraining gives VQA.
vl vqa-none vqa --model tiny --steps 800 "${FT[@]}"
vl pretrain-mlm pretrain --pretraining-tasks mlm "${PRE[@]}"
vl vqa-mlm vqa --model "$RUNS/pretrain-mlm" --steps 800 "${FT[@]}"
vl pretrain-itm pretrain --pretraining-tasks itm "${PRE[@]}"
vl vqa-itm vqa --model "$RUNS/pretrain-itm" --steps 800 "${FT[@]}"
vl pretrain-both-sampled pretrain --pixel-sampling 2 "${PRE[@]}"
vl vqa-both-sampled vqa --model "$RUNS/pretrain-both-sampled" --steps 800 "${FT[@]}"
