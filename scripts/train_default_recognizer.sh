#!/usr/bin/env bash
# Train the recognizer that ships with pixlm (src/pixlm/recognizers/default) for pixlm's default
# renderer, on one CPU thread (26 minutes on a quiet core here; the same weights bit for bit each
# time), and copy it into the package.
# Usage: scripts/train_default_recognizer.sh [RUN_DIR]    data from $PIXLM_DATA (default ../shared/data)
#
# Training text: the train splits of UD en_ewt and vi_vtb (the latter three times over, for its
# diacritics) and of the nine MasakhaNER languages (African Latin alphabets); Greek, Cyrillic and
# the rest of the charset come from the random words (15% of strips). The test splits of en_ewt
# and vi_vtb are never seen: benchmarks/recognizer.py scores on them.
set -euo pipefail
DATA=${PIXLM_DATA:-../shared/data}
RUN=${1:-runs/recognizer-default}
mkdir -p "$RUN/corpus"
sed -n 's/^# text *= *//p' "$DATA/ud/en_ewt/train.conllu" > "$RUN/corpus/en.txt"
sed -n 's/^# text *= *//p' "$DATA/ud/vi_vtb/train.conllu" > "$RUN/corpus/vi.txt"
for lang in yor ibo hau swa wol luo lug kin pcm; do
  awk 'NF==0{if(s!="")print s; s=""; next} $1!="-DOCSTART-"{s=(s==""?$1:s" "$1)} END{if(s!="")print s}' "$DATA/ner/$lang/train.txt"
done > "$RUN/corpus/masakha.txt"
C=$RUN/corpus
OMP_NUM_THREADS=1 pixlm read train --corpus "$C/en.txt,$C/vi.txt,$C/vi.txt,$C/vi.txt,$C/masakha.txt" \
    --output-dir "$RUN" --steps 4500 --batch-size 32 --hidden-size 192 --head-size 128 --num-layers 3 --lr 2e-3 \
    --validation-size 200 --logging-steps 100 --save-steps 500 --seed 42
OUT=src/pixlm/recognizers/default
mkdir -p "$OUT"
cp "$RUN"/{model.safetensors,config.json,text_renderer_config.json,all_results.json,README.md} "$OUT/"
echo "copied into $OUT"
