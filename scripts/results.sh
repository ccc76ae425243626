#!/usr/bin/env bash
# Finetuning results on this machine's CPU (docs/results.md records the figures).
# Usage: scripts/results.sh [RUNS_DIR] [TASK ...]   tasks: vi-pos pcm-ner sst2 mrpc conll-ner en-parse
# Data from $PIXLM_DATA (default ../shared/data). Every model is the tiny preset from scratch;
# the subword baseline is a tiny BERT with a WordPiece vocabulary trained on the same training text.
set -euo pipefail
DATA=${PIXLM_DATA:-../shared/data}
RUNS=${1:-runs/results}; shift || true
TASKS=${*:-vi-pos pcm-ner sst2 mrpc conll-ner en-parse}
mkdir -p "$RUNS"

conllu_text() { sed -n 's/^# text *= *//p' "$1"; }
conll_text() { awk 'NF==0{if(s!="")print s; s=""; next} $1!="-DOCSTART-"{s=(s==""?$1:s" "$1)} END{if(s!="")print s}' "$1"; }
glue_text() { tail -n +2 "$1" | cut -f"$2" | tr '\t' '\n'; }

subword() {  # subword NAME CORPUS_FILE -> a fresh tiny BERT with its own WordPiece vocabulary
    [ -d "$RUNS/$1-bert" ] || pixlm baseline create --corpus "$2" --output-dir "$RUNS/$1-bert" --preset tiny
}

run() {  # run NAME MODEL ARGS... -> $RUNS/NAME with all_results.json, skipped when done
    local name=$1 model=$2; shift 2
    [ -f "$RUNS/$name/all_results.json" ] && return 0
    pixlm finetune --model "$model" --output-dir "$RUNS/$name" --seed 42 "$@" > "$RUNS/$name.log" 2>&1
}

for task in $TASKS; do
  case $task in
    vi-pos)
      A=(--task pos --train $DATA/ud/vi_vtb/train.conllu --validation $DATA/ud/vi_vtb/dev.conllu
         --test $DATA/ud/vi_vtb/test.conllu --steps 1500 --eval-steps 100 --patience 5 --lr 1e-3 --max-patches 128)
      run vi-pos-pixel tiny "${A[@]}" --word-pooling first  # PIXEL's tagger, as docs/results.md's table was made
      conllu_text $DATA/ud/vi_vtb/train.conllu > "$RUNS/vi.txt"; subword vi "$RUNS/vi.txt"
      run vi-pos-subword "$RUNS/vi-bert" "${A[@]}" ;;
    pcm-ner)
      A=(--task ner --train $DATA/ner/pcm/train.txt --validation $DATA/ner/pcm/dev.txt
         --test $DATA/ner/pcm/test.txt --steps 1500 --eval-steps 100 --patience 5 --lr 1e-3 --max-patches 192)
      run pcm-ner-pixel tiny "${A[@]}" --word-pooling first
      conll_text $DATA/ner/pcm/train.txt > "$RUNS/pcm.txt"; subword pcm "$RUNS/pcm.txt"
      run pcm-ner-subword "$RUNS/pcm-bert" "${A[@]}" ;;
    sst2)
      A=(--task classify --train $DATA/glue/SST-2/train.tsv --validation $DATA/glue/SST-2/dev.tsv
         --steps 3000 --eval-steps 250 --patience 4 --lr 1e-3 --max-patches 128)
      run sst2-pixel tiny "${A[@]}"
      glue_text $DATA/glue/SST-2/train.tsv 1 > "$RUNS/sst2.txt"; subword sst2 "$RUNS/sst2.txt"
      run sst2-subword "$RUNS/sst2-bert" "${A[@]}" ;;
    mrpc)
      A=(--task classify --train $DATA/glue/MRPC/train.tsv --validation $DATA/glue/MRPC/dev.tsv
         --steps 1500 --eval-steps 100 --patience 5 --lr 1e-3 --max-patches 256)
      run mrpc-pixel tiny "${A[@]}"
      glue_text $DATA/glue/MRPC/train.tsv 4,5 > "$RUNS/mrpc.txt"; subword mrpc "$RUNS/mrpc.txt"
      run mrpc-subword "$RUNS/mrpc-bert" "${A[@]}" ;;
    conll-ner)
      A=(--task ner --train $DATA/ner/conll2003_en/train.txt --validation $DATA/ner/conll2003_en/dev.txt
         --test $DATA/ner/conll2003_en/test.txt --steps 3000 --eval-steps 250 --patience 4 --lr 1e-3 --max-patches 256)
      run conll-ner-pixel tiny "${A[@]}" --word-pooling first
      conll_text $DATA/ner/conll2003_en/train.txt > "$RUNS/conll.txt"; subword conll "$RUNS/conll.txt"
      run conll-ner-subword "$RUNS/conll-bert" "${A[@]}" ;;
    en-parse)
      run en-parse-pixel tiny --task parse --train $DATA/ud/en_ewt/train.conllu --validation $DATA/ud/en_ewt/dev.conllu \
          --test $DATA/ud/en_ewt/test.conllu --steps 3000 --eval-steps 250 --patience 4 --lr 1e-3 --max-patches 128 ;;
    *) echo "unknown task $task" >&2; exit 2 ;;
  esac
  echo "$(date +%T) $task done"
done
