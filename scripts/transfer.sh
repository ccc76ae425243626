#!/usr/bin/env bash
# Does pixlm's pretraining transfer? Pretrain once on the English training text of the shared
# data, then finetune the pretrained model and the same model from scratch with one command each
# (same steps, batch, learning rate, 128 patches as in pretraining) on UPOS en_ewt, UPOS vi_vtb,
# NER MasakhaNER pcm and SST-2;
# against a subword BERT pretrained with MLM on the same text for the same minutes, on UPOS
# en_ewt clean and under the orthographic attacks. docs/results.md records the figures.
#
# Usage: scripts/transfer.sh RUNS_DIR [STAGE ...]
#   stages (default all, in this order): corpus pixel subword pretrained scratch subword-pos attacks
#   (pixel/subword pretrain; pretrained/scratch finetune the pixel models on $TASKS; subword-pos
#   finetunes the pretrained subword model on UPOS en_ewt; attacks scores the en_ewt taggers)
# Env: PIXLM_DATA (default ../shared/data); TASKS (default en-pos vi-pos pcm-ner sst2);
# PIXEL_STEPS and SUBWORD_STEPS, the pretraining steps (docs/results.md gives the ones that fill
# the minutes budget on its machine); FINETUNE_STEPS, the tagging tasks' finetuning steps (default
# 1,500; other values name the runs NAME-TASK-STEPS); SEED, the finetuning seed (default 42; others
# name the runs ...-sSEED); WORD_POOLING, the taggers' --word-pooling (default first, PIXEL's
# tagger, with which docs/results.md's tables were made; mean is pixlm's default for tiny
# models). Run with OMP_NUM_THREADS=1, one core per run, to compare minutes with the figures
# there; two stages can run side by side on two cores. Every step is
# skipped when its results are there, so an interrupted run continues.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${PIXLM_DATA:-../shared/data}
RUNS=${1:?usage: scripts/transfer.sh RUNS_DIR [STAGE ...]}; shift
STAGES=${*:-corpus pixel subword pretrained scratch subword-pos attacks}
TASKS=${TASKS:-en-pos vi-pos pcm-ner sst2}
PIXEL_STEPS=${PIXEL_STEPS:-6400}
SUBWORD_STEPS=${SUBWORD_STEPS:-4800}
FINETUNE_STEPS=${FINETUNE_STEPS:-1500}
WORD_POOLING=${WORD_POOLING:-first}
STEPS_SUFFIX=$([ "$FINETUNE_STEPS" = 1500 ] || echo "-$FINETUNE_STEPS")
SEED=${SEED:-42}
SEED_SUFFIX=$([ "$SEED" = 42 ] || echo "-s$SEED")
EVAL_STEPS=$(( FINETUNE_STEPS / 15 ))  # 15 evaluations a run, early stopping after 5 without gain
mkdir -p "$RUNS"

timed() {  # timed NAME COMMAND... -> runs it (resuming, unless NAME.done says it finished), logs and times it
    local name=$1; shift
    [ -f "$RUNS/$name.done" ] && return 0
    local start=$SECONDS
    "$@" >> "$RUNS/$name.log" 2>&1
    echo "$name: $(( (SECONDS - start) / 60 )) min" | tee -a "$RUNS/times.txt"
    touch "$RUNS/$name.done"
}

finetune() {  # finetune NAME MODEL TASK
    local name=$1 model=$2 task=$3 args
    case $task in
      en-pos) args=(--task pos --train $DATA/ud/en_ewt/train.conllu --validation $DATA/ud/en_ewt/dev.conllu
                    --test $DATA/ud/en_ewt/test.conllu --steps $FINETUNE_STEPS --eval-steps $EVAL_STEPS --patience 5 --lr 1e-3 --max-patches 128 --word-pooling $WORD_POOLING) ;;
      vi-pos) args=(--task pos --train $DATA/ud/vi_vtb/train.conllu --validation $DATA/ud/vi_vtb/dev.conllu
                    --test $DATA/ud/vi_vtb/test.conllu --steps $FINETUNE_STEPS --eval-steps $EVAL_STEPS --patience 5 --lr 1e-3 --max-patches 128 --word-pooling $WORD_POOLING) ;;
      pcm-ner) args=(--task ner --train $DATA/ner/pcm/train.txt --validation $DATA/ner/pcm/dev.txt
                     --test $DATA/ner/pcm/test.txt --steps $FINETUNE_STEPS --eval-steps $EVAL_STEPS --patience 5 --lr 1e-3 --max-patches 128 --word-pooling $WORD_POOLING) ;;
      sst2) args=(--task classify --train $DATA/glue/SST-2/train.tsv --validation $DATA/glue/SST-2/dev.tsv
                  --steps 3000 --eval-steps 250 --patience 12 --lr 1e-4 --max-patches 128) ;;  # at 1e-3 it stays at the majority class
    esac
    local run=$name-$task
    [ "$task" = sst2 ] || run=$run$STEPS_SUFFIX  # SST-2 keeps its own steps
    run=$run$SEED_SUFFIX
    timed "$run" pixlm finetune --model "$model" --output-dir "$RUNS/$run" --seed "$SEED" "${args[@]}"
}

for stage in $STAGES; do
  case $stage in
    corpus)
      [ -f "$RUNS/en-train.txt" ] || python "$HERE/english_corpus.py" --data "$DATA" --output "$RUNS/en-train.txt" \
          --held-out "$RUNS/en-held-out.txt" ;;
    pixel)
      timed pixel-pretrained pixlm pretrain --recipe cpu-reader --corpus "$RUNS/en-train.txt" \
          --validation "$RUNS/en-held-out.txt" --output-dir "$RUNS/pixel-pretrained" --steps "$PIXEL_STEPS" \
          --eval-steps 800 --save-steps 800 --reconstruction-steps 1600 ;;
    subword)
      [ -d "$RUNS/bert-en" ] || pixlm baseline create --corpus "$RUNS/en-train.txt" --output-dir "$RUNS/bert-en" --preset tiny
      timed bert-en-pretrained pixlm baseline pretrain --model "$RUNS/bert-en" --corpus "$RUNS/en-train.txt" \
          --output-dir "$RUNS/bert-en-pretrained" --steps "$SUBWORD_STEPS" ;;
    pretrained) for task in $TASKS; do finetune pretrained "$RUNS/pixel-pretrained" $task; done ;;
    scratch) for task in $TASKS; do finetune scratch tiny $task; done ;;
    subword-pos) finetune subword-pretrained "$RUNS/bert-en-pretrained" en-pos ;;
    attacks)
      for name in pretrained scratch subword-pretrained; do
        [ -f "$RUNS/attacks-$name$STEPS_SUFFIX$SEED_SUFFIX.json" ] || pixlm evaluate --model "$RUNS/$name-en-pos$STEPS_SUFFIX$SEED_SUFFIX" --task pos \
            --data $DATA/ud/en_ewt/test.conllu --attack all --severity 0.5 --output "$RUNS/attacks-$name$STEPS_SUFFIX$SEED_SUFFIX.json"
      done ;;
    *) echo "unknown stage $stage (corpus pixel subword pretrained scratch subword-pos attacks)" >&2; exit 2 ;;
  esac
done
