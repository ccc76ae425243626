#!/usr/bin/env bash
# PixelGPT, MonoGPT and DualGPT at CPU scale: the same tiny decoder pretrained with the
# three mixtures on SST-2's training sentences (labels unused), held-out next-patch loss, then
# SST-2 accuracy after finetuning; and a mono-layout model with binary targets whose generations
# are read back. docs/results.md records the figures.
# Usage: scripts/pixelgpt_results.sh [RUNS_DIR]      (one thread: OMP_NUM_THREADS=1 is set here)
set -euo pipefail
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
DATA=${PIXLM_DATA:-../shared/data}
RUNS=${1:-runs/pixelgpt}
mkdir -p "$RUNS"
tail -n +2 "$DATA/glue/SST-2/train.tsv" | cut -f1 > "$RUNS/sst2-sentences.txt"
[ -d "$RUNS/bpe" ] || pixlm tokenizer train --corpus "$RUNS/sst2-sentences.txt" --output-dir "$RUNS/bpe" --vocab-size 8000
COMMON=(--model-type pixelgpt --model tiny --corpus "$RUNS/sst2-sentences.txt" --tokenizer "$RUNS/bpe" --steps 1000
        --batch-size 32 --lr 1e-3 --eval-steps 250 --save-steps 500 --reconstruction-steps 0 --report-to none
        --model-arg num_channels=1 --renderer-arg max_patches=128 --max-tokens 64)

for variant in pixelgpt monogpt dualgpt; do
    if [ ! -f "$RUNS/$variant/all_results.json" ]; then
        pixlm pretrain "${COMMON[@]}" --mixture $variant --output-dir "$RUNS/$variant" > "$RUNS/$variant.log" 2>&1
    fi
    if [ ! -f "$RUNS/$variant-sst2/all_results.json" ]; then
        pixlm finetune --task classify --model "$RUNS/$variant" --train "$DATA/glue/SST-2/train.tsv" \
            --validation "$DATA/glue/SST-2/dev.tsv" --output-dir "$RUNS/$variant-sst2" --steps 1500 --eval-steps 250 \
            --patience 4 --lr 5e-4 --max-patches 128 > "$RUNS/$variant-sst2.log" 2>&1
    fi
    echo "$(date +%T) $variant done"
done

# Reading generations back: mono layout, binary pixel targets, Python's documentation topics.
# The last 200 sentences are never trained on; the reading is scored there.
python scripts/stdlib_split.py --output "$RUNS/stdlib-train.txt" --held-out "$RUNS/stdlib-held-out.txt"
if [ ! -f "$RUNS/mono-binary/all_results.json" ]; then
    pixlm pretrain --model-type pixelgpt --model tiny --corpus "$RUNS/stdlib-train.txt" --validation "$RUNS/stdlib-held-out.txt" --steps 2000 --batch-size 32 --lr 1e-3 \
        --eval-steps 500 --save-steps 1000 --reconstruction-steps 1000 --report-to none --model-arg num_channels=1 \
        --model-arg pixel_target=binary --renderer-arg max_patches=128 --renderer-arg layout=mono \
        --output-dir "$RUNS/mono-binary" > "$RUNS/mono-binary.log" 2>&1
fi
python scripts/pixelgpt_read_eval.py "$RUNS/mono-binary" "$RUNS/stdlib-held-out.txt" --output "$RUNS/read-eval.json"
echo "$(date +%T) mono-binary done"
