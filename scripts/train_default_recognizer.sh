#!/usr/bin/env bash
# Train the recognizer that ships with pixlm (src/pixlm/recognizers/default) for pixlm's default
# renderer, on one CPU thread (26 minutes on a quiet core here; the same weights bit for bit each
# time), and copy it into the package.
# Usage: scripts/train_default_recognizer.sh [RUN_DIR]    data from $PIXLM_DATA (default ../shared/data)
#
# Training text: scripts/recognizer_corpus.py (the train splits of UD en_ewt, vi_vtb three times
# over, and the nine MasakhaNER languages); Greek, Cyrillic and the rest of the charset come from
# the random words (15% of strips). The test splits of en_ewt and vi_vtb are never seen:
# benchmarks/recognizer.py scores on them. Other seeds: python scripts/figures.py run recognizer-cer-en.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${PIXLM_DATA:-../shared/data}
RUN=${1:-runs/recognizer-default}
mkdir -p "$RUN"
python "$HERE/recognizer_corpus.py" --data "$DATA" --output "$RUN/corpus.txt"
OMP_NUM_THREADS=1 pixlm read train --corpus "$RUN/corpus.txt" \
    --output-dir "$RUN" --steps 4500 --batch-size 32 --hidden-size 192 --head-size 128 --num-layers 3 --lr 2e-3 \
    --validation-size 200 --logging-steps 100 --save-steps 500 --seed 42
OUT=src/pixlm/recognizers/default
mkdir -p "$OUT"
cp "$RUN"/{model.safetensors,config.json,text_renderer_config.json,all_results.json,README.md} "$OUT/"
echo "copied into $OUT"
