#!/usr/bin/env bash
# Pixel-BERT on synthetic scenes: pretraining, VQA, retrieval and NLVR2, and the
# pretraining ablation of the paper's Table 6, on this machine's CPU. docs/results.md records them.
# Usage: scripts/pixelbert_results.sh [RUNS_DIR]
# Two streams of runs side by side, one thread each (OMP_NUM_THREADS=1): the main runs, and the
# ablation. Each run's all_results.json holds its held-out scores before and after, and its time.
set -euo pipefail
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
RUNS=${1:-runs/pixelbert}
mkdir -p "$RUNS"
PRE=(--steps 2000 --lr 3e-4 --save-steps 1000)
FT=(--lr 3e-4 --save-steps 1000)

vl() {  # vl NAME ARGS... -> $RUNS/NAME, skipped when done
    local name=$1; shift
    [ -f "$RUNS/$name/all_results.json" ] && return 0
    pixlm vl "$@" --output-dir "$RUNS/$name" > "$RUNS/$name.log" 2>&1
    echo "$(date +%T) $name done"
}

main_runs() {  # the goals: MLM pretraining for VQA, retrieval and NLVR2; MLM + ITM for matching
    vl pretrain-mlm pretrain --pretraining-tasks mlm "${PRE[@]}"
    vl vqa-mlm vqa --model "$RUNS/pretrain-mlm" --steps 3000 "${FT[@]}"
    vl retrieval-mlm retrieval --model "$RUNS/pretrain-mlm" --steps 1500 --batch-size 8 "${FT[@]}"
    vl nlvr2-mlm nlvr2 --model "$RUNS/pretrain-mlm" --steps 1500 "${FT[@]}"
    vl pretrain-both pretrain "${PRE[@]}"
    vl vqa-both vqa --model "$RUNS/pretrain-both" --steps 3000 "${FT[@]}"
}

table6() {  # what pretraining gives VQA: none, (MLM only, both: above), ITM only, both with pixel sampling
    vl vqa-none vqa --model tiny --steps 3000 "${FT[@]}"
    vl pretrain-itm pretrain --pretraining-tasks itm "${PRE[@]}"
    vl vqa-itm vqa --model "$RUNS/pretrain-itm" --steps 3000 "${FT[@]}"
    vl pretrain-both-sampled pretrain --pixel-sampling 2 "${PRE[@]}"
    vl vqa-both-sampled vqa --model "$RUNS/pretrain-both-sampled" --steps 3000 "${FT[@]}"
}

main_runs & main=$!
table6 & ablation=$!
wait "$main"
wait "$ablation"
for f in "$RUNS"/*/all_results.json; do
    python -c "import json, sys; r = json.load(open(sys.argv[1])); print(sys.argv[1], r['steps'], 'steps', round(r['train_seconds'] / 60, 1), 'min', r['before'], '->', r['validation'])" "$f"
done
