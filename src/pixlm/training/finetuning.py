"""Finetuning a pixel encoder for classification (GLUE), POS tagging and NER on the Trainer.

    from pixlm.training import FinetuneConfig, finetune
    finetune(FinetuneConfig(task="pos", model="runs/pixel", train="en_ewt/train.conllu",
                            validation="en_ewt/dev.conllu", test="en_ewt/test.conllu", output_dir="runs/pos"))

Early stopping on the validation metric keeps the best checkpoint; `all_results.json` holds the
validation and test scores; predictions are written in the input's format (CoNLL-U for POS,
CoNLL for NER, TSV for classification).
"""

from __future__ import annotations

import collections
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..data.processor import PixelProcessor
from ..files import written_whole
from .run import training_arguments, write_model_card, write_results
from .trainer import PixlmTrainer

logger = logging.getLogger(__name__)

TASKS = ("classify", "pos", "ner", "parse", "qa")
MODALITIES = ("pixels", "text", "pair")
PIXELGPT_TYPES = ("pixelgpt", "ernie-pixel")  # pixlm's and the released checkpoints' model_type
_HEADS = {"classify": "PixelForSequenceClassification", "pos": "PixelForTokenClassification",
          "ner": "PixelForTokenClassification", "parse": "PixelForBiaffineParsing", "qa": "PixelForQuestionAnswering"}
_PRIMARY = {"pos": "accuracy", "ner": "f1", "parse": "las", "qa": "f1"}


@dataclass
class FinetuneConfig:
    """What `finetune` needs. The model is a PIXEL checkpoint folder (pretrained or finetuned)
    or a preset name (tiny, small, base) to train from scratch."""

    task: str
    model: str
    train: str
    validation: str
    output_dir: str
    test: str | None = None
    glue_task: str | None = None  # classify on GLUE TSV; found in the path (e.g. .../SST-2/...) if not given
    text_columns: tuple[str, ...] = ("text",)  # classify on CSV/JSONL: one column, or two for pairs
    label_column: str = "label"
    ner_scheme: str = "IOB2"
    max_patches: int = 256
    max_tokens: int = 256  # PixelGPT's text and pair modalities: tokens per example
    layout: str = "words"  # pos and ner: words or bigrams
    epochs: float = 10.0
    max_steps: int = -1
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup_fraction: float = 0.1
    weight_decay: float = 0.0
    eval_steps: int = 200
    patience: int = 5  # evaluations without improvement before stopping
    pooling: str = "mean"
    modality: str = "pixels"  # PixelGPT: pixels, text (tokens), or pair (the rendered text, then its tokens)
    tokenizer: str | None = None  # text and pair modalities: a tokenizer folder (default: the model folder's)
    renderer: str | None = None  # a renderer folder, for a checkpoint released without one (PixelGPT)
    model_overrides: dict = field(default_factory=dict)
    seed: int = 42
    num_workers: int = 0
    report_to: list[str] = field(default_factory=list)
    progress: bool = True

    def validate(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}; got {self.task!r}")
        if self.modality not in MODALITIES:
            raise ValueError(f"modality must be one of {', '.join(MODALITIES)}; got {self.modality!r}")
        from ..data.hub import is_hub_name

        for name in ("train", "validation") + (("test",) if self.test else ()):
            path = getattr(self, name)
            if not is_hub_name(path) and not os.path.isfile(path):
                raise FileNotFoundError(f"{name} file {path!r} does not exist")


# -- data ---------------------------------------------------------------------------------------
def _glue_task(cfg: FinetuneConfig) -> str | None:
    from ..data.hub import GLUE_NAMES, is_hub_name, parse_hub_name
    from ..data.readers import GLUE_TASKS

    if cfg.glue_task:
        return cfg.glue_task
    if is_hub_name(cfg.train):
        name, config, _ = parse_hub_name(cfg.train)
        return GLUE_NAMES.get(config) if name == "glue" else None
    parts = os.path.normpath(os.path.abspath(cfg.train)).split(os.sep)
    found = [t for t in GLUE_TASKS if t in parts]
    return found[0] if found and cfg.train.endswith(".tsv") else None


def read_examples(cfg: FinetuneConfig, path: str) -> list[dict]:
    """Examples of one file (or `hf:NAME[/CONFIG]:SPLIT` Hub dataset): {text_a, text_b, label}
    for classify, {words, tags} otherwise."""
    from ..data.hub import hub_examples, is_hub_name
    from ..data.readers import read_conll_ner, read_conllu, read_glue, read_table

    if is_hub_name(path):
        return hub_examples(path, cfg.task, list(cfg.text_columns), cfg.label_column)

    if cfg.task == "pos":
        return [{"words": s.words, "tags": [t.upos for t in s.tokens]} for s in read_conllu(path)]
    if cfg.task == "parse":
        return [{"words": s.words, "heads": [t.head or 0 for t in s.tokens], "rels": [t.deprel for t in s.tokens]}
                for s in read_conllu(path)]
    if cfg.task == "qa":
        from ..data.readers import read_squad

        return read_squad(path)
    if cfg.task == "ner":
        return [{"words": w, "tags": t} for w, t in read_conll_ner(path, cfg.ner_scheme)]
    glue = _glue_task(cfg)
    if glue:
        return read_glue(glue, path)
    columns = list(cfg.text_columns) + [cfg.label_column]
    rows = read_table(path, columns)
    b = cfg.text_columns[1] if len(cfg.text_columns) > 1 else None
    return [{"text_a": r[cfg.text_columns[0]], "text_b": r[b] if b else None, "label": r[cfg.label_column]} for r in rows]


def _labels(cfg: FinetuneConfig, train: list[dict]) -> list | None:
    """The label set (None for regression)."""
    from ..data.readers import GLUE_TASKS

    glue = _glue_task(cfg)
    if cfg.task == "classify":
        if glue and GLUE_TASKS[glue].regression:
            return None
        return sorted({str(e["label"]) for e in train})
    return sorted({t for e in train for t in _tags(cfg, e)})


def _tags(cfg: FinetuneConfig, example: dict) -> list[str]:
    """The word-level labels of an example: tags, or dependency relations for parsing."""
    return example["rels"] if cfg.task == "parse" else example["tags"]


def _add_unseen_labels(cfg: FinetuneConfig, name: str, examples: list[dict], known: list | None) -> list | None:
    """Labels of evaluation data that training never saw join the label set (the model never
    learns to predict them, so they count as errors), and the log says which."""
    if known is None:
        return None
    seen = {str(e["label"]) for e in examples if e.get("label") is not None} if cfg.task == "classify" else {
        t for e in examples for t in _tags(cfg, e)}
    unseen = sorted(seen - set(known))
    if unseen:
        logger.warning("the %s data has label(s) %s that training never has: they are kept, and count as errors", name, unseen)
    return known + unseen


# -- model --------------------------------------------------------------------------------------
_SUBWORD_HEADS = {"classify": "BertForSequenceClassification", "pos": "BertForTokenClassification",
                  "ner": "BertForTokenClassification"}


def _load_subword_model(cfg: FinetuneConfig, labels: list | None):
    """The subword baseline (a folder from `pixlm baseline create`) with the task's head."""
    import transformers

    if cfg.task not in _SUBWORD_HEADS:
        raise ValueError(f"the subword baseline covers {', '.join(_SUBWORD_HEADS)}; not {cfg.task!r}")
    kwargs = {"num_labels": 1 if labels is None else len(labels)}
    if labels is not None:
        kwargs.update(id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)})
    return getattr(transformers, _SUBWORD_HEADS[cfg.task]).from_pretrained(cfg.model, **kwargs)


def _load_model(cfg: FinetuneConfig, labels: list | None):
    from ..baselines.subword import is_subword_model
    from ..models import pixel

    if is_subword_model(cfg.model):
        return _load_subword_model(cfg, labels)

    head = getattr(pixel, _HEADS[cfg.task])
    num_labels = 1 if labels is None else len(labels)
    label_kwargs = {} if cfg.task == "qa" else {"num_labels": num_labels}
    if labels is not None:
        label_kwargs.update(id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)})
    if cfg.model in pixel.PRESETS:
        overrides = {"num_channels": 1, "max_patches": cfg.max_patches, "pooling": cfg.pooling, **cfg.model_overrides}
        return head(pixel.PixelConfig.from_preset(cfg.model, **overrides, **label_kwargs))
    from ..models.loading import local_folder

    if not os.path.isdir(cfg.model):
        cfg.model = local_folder(cfg.model)  # a model on the Hub, downloaded
    config_path = os.path.join(cfg.model, "config.json")
    if not os.path.isfile(config_path):
        raise FileNotFoundError(f"model {cfg.model!r} is neither a preset ({', '.join(pixel.PRESETS)}) nor a checkpoint folder")
    with open(config_path, encoding="utf-8") as f:
        saved = json.load(f)
    if saved.get("model_type") in PIXELGPT_TYPES:
        return _load_pixelgpt_classifier(cfg, label_kwargs)
    if cfg.modality != "pixels":
        raise ValueError(f"modality {cfg.modality!r} is PixelGPT's (text or pair); {cfg.model} is a "
                         f"{saved.get('model_type')!r} model, which reads pixels")
    architectures = saved.get("architectures") or []
    other_heads = {h.lower() for h in _HEADS.values() if h != _HEADS[cfg.task]}
    if architectures and architectures[0].lower() in other_heads:  # PIXEL's own code names them PIXELFor...
        raise ValueError(
            f"checkpoint {cfg.model} holds a {architectures[0]}, but task {cfg.task!r} needs {_HEADS[cfg.task]}; "
            "start from a pretrained PIXEL checkpoint or one finetuned for the same task"
        )
    return head.from_pretrained(cfg.model, pooling=cfg.pooling, **cfg.model_overrides, **label_kwargs)


def _load_pixelgpt_classifier(cfg: FinetuneConfig, label_kwargs: dict):
    """A PixelGPT-family checkpoint (pretrained or finetuned) with the classifier on its last
    attended position; PixelGPT finetunes for classification (and regression) only."""
    from transformers import AutoModelForSequenceClassification

    if cfg.task != "classify":
        raise ValueError(f"checkpoint {cfg.model} is a PixelGPT model, which finetunes for classify; not {cfg.task!r}")
    model = AutoModelForSequenceClassification.from_pretrained(cfg.model, **cfg.model_overrides, **label_kwargs)
    model.config.modality = cfg.modality  # saved with the model, so that evaluation feeds it the same way
    return model


def _renderer(cfg: FinetuneConfig, model_config):
    from ..data import check_renderer_fits
    from ..models import pixel
    from ..render import RendererConfig, TextRenderer

    overrides = {"max_patches": min(cfg.max_patches, model_config.max_patches)}
    if cfg.task in ("pos", "ner", "parse"):
        overrides["layout"] = cfg.layout
    source = cfg.renderer or (None if cfg.model in pixel.PRESETS else cfg.model)
    renderer = TextRenderer(RendererConfig.for_model(source, **overrides))
    check_renderer_fits(renderer.config, model_config.patch_size, model_config.num_channels, model_config.max_patches)
    return renderer


# -- metrics and predictions --------------------------------------------------------------------
def _word_predictions(logits: np.ndarray, label_ids: np.ndarray) -> list[list[int]]:
    """Per example, the predicted label of each labelled word (its first patch), in order."""
    preds = logits.argmax(-1)
    return [row[lab != -100].tolist() for row, lab in zip(preds, label_ids)]


def _metrics(cfg: FinetuneConfig, labels: list | None):
    from ..evaluation import entity_f1, glue_metrics

    glue = _glue_task(cfg)

    def compute(eval_pred) -> dict[str, float]:
        logits, label_ids = eval_pred.predictions, eval_pred.label_ids
        if cfg.task == "parse":
            from ..evaluation import attachment_scores

            trees = _decode_parses(logits)
            gold_heads, gold_rels = label_ids
            ph, pr, gh, gr = [], [], [], []
            for (heads, rels), g_h, g_r in zip(trees, gold_heads, gold_rels):
                keep = [k for k in range(len(heads)) if g_h[k] != -100]
                ph.append([heads[k] for k in keep])
                pr.append([labels[rels[k]] for k in keep])
                gh.append([int(g_h[k]) for k in keep])
                gr.append([labels[int(g_r[k])] for k in keep])
            return attachment_scores(ph, pr, gh, gr)
        if cfg.task == "classify":
            if labels is None:
                return glue_metrics(glue, logits.reshape(-1).tolist(), label_ids.reshape(-1).tolist())
            pred = [labels[i] for i in logits.argmax(-1)]
            gold = [labels[i] for i in label_ids]
            return glue_metrics(glue, pred, gold) if glue else {"accuracy": float(np.mean([p == g for p, g in zip(pred, gold)]))}
        words = _word_predictions(logits, label_ids)
        gold = [lab[lab != -100].tolist() for lab in label_ids]
        if cfg.task == "pos":
            right = sum(p == g for ws, gs in zip(words, gold) for p, g in zip(ws, gs))
            return {"accuracy": right / max(1, sum(len(g) for g in gold))}
        return entity_f1([[labels[i] for i in ws] for ws in words], [[labels[i] for i in gs] for gs in gold])

    return compute


def _primary(cfg: FinetuneConfig) -> str:
    if cfg.task != "classify":
        return _PRIMARY[cfg.task]
    return {"CoLA": "matthews_correlation", "STS-B": "pearson", "MRPC": "f1"}.get(_glue_task(cfg) or "", "accuracy")


def _parse_predictions(max_patches: int):
    """What evaluation keeps of the parser's outputs: arc scores and each arc's best relation,
    over the batch's words only (PIXEL's scores cover every patch: far more than the words),
    the heads padded to one width so that batches concatenate."""
    import torch

    def keep(outputs, labels=None):
        arcs, rels, num_words = outputs
        w = max(int(num_words.max()), 1)
        pad = max_patches + 1 - (w + 1)
        arcs = torch.nn.functional.pad(arcs[:, :w, : w + 1], (0, pad), value=torch.finfo(arcs.dtype).min)
        return arcs, torch.nn.functional.pad(rels[:, :w, : w + 1].argmax(-1), (0, pad)), num_words

    return keep


def _decode_parses(predictions) -> list[tuple[list[int], list[int]]]:
    """(heads, relation ids) of each drawn word, decoded into a tree."""
    from ..evaluation.trees import decode_tree

    arcs, rel_pred, num_words = predictions
    out = []
    for a, r, n in zip(arcs, rel_pred, num_words):
        n = int(n)
        heads = decode_tree(np.asarray(a[:n, : n + 1], dtype=np.float64)) if n else []
        out.append((heads, [int(r[k, h]) for k, h in enumerate(heads)]))
    return out


def _parses(trainer, examples, labels) -> tuple[list[list[int]], list[list[str]]]:
    """Predicted heads and relations of every word; words the canvas cut off hang from the
    word before them with the most frequent relation (so each sentence stays a tree)."""
    fallback = collections.Counter(r for e in examples for r in e["rels"]).most_common(1)[0][0]
    all_heads, all_rels = [], []
    for e, (heads, rels) in zip(examples, _decode_parses(trainer.predict(examples).predictions)):
        missing = len(e["words"]) - len(heads)
        all_heads.append(heads + [len(heads) + k for k in range(missing)])
        all_rels.append([labels[i] for i in rels] + [fallback] * missing)
    return all_heads, all_rels


def most_frequent_tag(cfg: FinetuneConfig, train: list[dict]) -> str:
    """The tag (or relation) most frequent in the training examples."""
    counts = collections.Counter(t for e in train for t in _tags(cfg, e))
    if not counts:
        raise ValueError(f"training file {cfg.train} holds no tagged words")
    return counts.most_common(1)[0][0]


def _word_tags(cfg, trainer, examples, labels, fallback: str) -> list[list[str]]:
    """Predicted tag of every word; words the canvas cut off get `fallback`, the most frequent
    training tag."""
    out = trainer.predict(examples)
    words = _word_predictions(out.predictions, out.label_ids)
    tags = []
    for e, ws in zip(examples, words):
        predicted = [labels[i] for i in ws]
        tags.append(predicted + [fallback] * (len(e["words"]) - len(predicted)))
    return tags


def _write_predictions(cfg, trainer, path: str, examples: list[dict], labels, out_path: str,
                       fallback: str | None = None) -> None:
    from ..data.hub import is_hub_name
    from ..data.readers import read_conll_ner, read_conllu, write_conll_ner, write_conllu

    if is_hub_name(path) and cfg.task in ("pos", "ner", "parse"):
        _write_hub_word_predictions(cfg, trainer, examples, labels, out_path, fallback)
    elif cfg.task == "pos":
        write_conllu(read_conllu(path), out_path, upos=_word_tags(cfg, trainer, examples, labels, fallback))
    elif cfg.task == "parse":
        heads, rels = _parses(trainer, examples, labels)
        write_conllu(read_conllu(path), out_path, heads=heads, deprels=rels)
    elif cfg.task == "ner":
        write_conll_ner(read_conll_ner(path, cfg.ner_scheme), _word_tags(cfg, trainer, examples, labels, fallback), out_path)
    else:
        logits = trainer.predict(examples).predictions
        values = logits.reshape(-1).tolist() if labels is None else [labels[i] for i in logits.argmax(-1)]
        with written_whole(out_path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write("index\tprediction\n")
            for k, v in enumerate(values):
                f.write(f"{k}\t{v}\n")


def _write_hub_word_predictions(cfg, trainer, examples: list[dict], labels, out_path: str, fallback: str | None) -> None:
    """Hub data has no file to copy: tags as CoNLL (word, gold, predicted), parses as bare CoNLL-U."""
    if cfg.task == "parse":
        heads, rels = _parses(trainer, examples, labels)
        with written_whole(out_path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            for e, hs, rs in zip(examples, heads, rels):
                for k, (w, h, r) in enumerate(zip(e["words"], hs, rs), 1):
                    f.write(f"{k}\t{w}\t_\t_\t_\t_\t{h}\t{r}\t_\t_\n")
                f.write("\n")
        return
    predictions = _word_tags(cfg, trainer, examples, labels, fallback)
    with written_whole(out_path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for e, tags in zip(examples, predictions):
            for w, gold, tag in zip(e["words"], e["tags"], tags):
                f.write(f"{w} {gold} {tag}\n")
            f.write("\n")


# -- entry point --------------------------------------------------------------------------------
def finetune(cfg: FinetuneConfig) -> dict:
    """Finetune, keep the best checkpoint by the validation metric, score validation and test.

    Returns {validation: {...}, test: {...}, primary_metric, labels, output_dir, ...} and writes
    it to `<output_dir>/all_results.json`, with predictions beside it.
    """
    from transformers import EarlyStoppingCallback, set_seed

    from ..data.hub import is_hub_name

    cfg.validate()
    set_seed(cfg.seed)
    os.makedirs(cfg.output_dir, exist_ok=True)
    if cfg.task == "qa":
        return _finetune_qa(cfg)
    train = read_examples(cfg, cfg.train)
    validation = read_examples(cfg, cfg.validation)
    test = read_examples(cfg, cfg.test) if cfg.test else None
    labels = _add_unseen_labels(cfg, "validation", validation, _labels(cfg, train))
    if test:
        labels = _add_unseen_labels(cfg, "test", test, labels)
    model = _load_model(cfg, labels)
    renderer, collator = _data_pipeline(cfg, model, labels)

    primary = _primary(cfg)
    args = _training_args(cfg, primary, group_by_length=True)
    trainer = PixlmTrainer(
        model=model,
        args=args,
        train_dataset=_with_lengths(train),
        eval_dataset=validation,
        data_collator=collator,
        compute_metrics=_metrics(cfg, labels),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.patience)],
        pixel_processor=PixelProcessor(renderer, model.config.num_channels) if renderer else None,
        processing_class=getattr(collator, "tokenizer", None),  # text and pair modalities save their tokenizer
        preprocess_logits_for_metrics=_parse_predictions(model.config.max_patches) if cfg.task == "parse" else None,
    )
    started = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - started
    trainer.remove_callback(EarlyStoppingCallback)  # the scoring below is not a training evaluation
    results = {
        "task": cfg.task,
        "glue_task": _glue_task(cfg),
        "primary_metric": primary,
        "labels": labels,
        "steps": trainer.state.global_step,
        "train_seconds": round(train_seconds, 1),  # training with its evaluations and checkpoints
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "validation": _strip_prefix(trainer.evaluate(validation, metric_key_prefix="eval")),
        "output_dir": cfg.output_dir,
        "config": asdict(cfg),
    }
    ext = {"pos": ".conllu", "parse": ".conllu", "ner": ".txt", "classify": ".tsv"}[cfg.task]
    if is_hub_name(cfg.validation) and cfg.task == "pos":
        ext = ".txt"  # word, gold and predicted tag: there is no CoNLL-U file to copy
    fallback = most_frequent_tag(cfg, train) if cfg.task in ("pos", "ner") else None
    _write_predictions(cfg, trainer, cfg.validation, validation, labels,
                       os.path.join(cfg.output_dir, "predictions-validation" + ext), fallback)
    if test is not None:
        has_gold = cfg.task != "classify" or all(e.get("label") is not None for e in test)
        if has_gold:
            results["test"] = _strip_prefix(trainer.evaluate(test, metric_key_prefix="test"))
        _write_predictions(cfg, trainer, cfg.test, test, labels, os.path.join(cfg.output_dir, "predictions-test" + ext),
                           fallback)
    trainer.save_model_atomically(cfg.output_dir)
    write_results(cfg.output_dir, results)
    _model_card(cfg, results)
    return results


_TASK_NAMES = {"classify": "text classification", "pos": "part-of-speech tagging", "ner": "named-entity recognition",
               "parse": "dependency parsing", "qa": "extractive question answering"}


def _model_card(cfg: FinetuneConfig, results: dict) -> None:
    task = _TASK_NAMES[cfg.task] + (f" ({results['glue_task']})" if results.get("glue_task") else "")
    scores = {f"validation {k}": v for k, v in results.get("validation", {}).items() if isinstance(v, float)
              and not k.endswith(("runtime", "per_second", "epoch"))}
    scores.update({f"test {k}": v for k, v in (results.get("test") or {}).items() if isinstance(v, float)
                   and not k.endswith(("runtime", "per_second", "epoch"))})
    write_model_card(
        cfg.output_dir, title=f"{task[0].upper()}{task[1:]} with pixels", family="pixel",
        summary=f"`{cfg.model}` finetuned with pixlm for {task}: the text is rendered to patches "
                f"(`text_renderer_config.json`) and the model reads the pixels; best checkpoint by validation "
                f"{results.get('primary_metric', '')}, after {results.get('steps')} steps.",
        data={"train": cfg.train, "validation": cfg.validation, "test": cfg.test}, base_model=cfg.model,
        metrics=scores, tags=(cfg.task,),
        usage=f"""from pixlm.training.finetuning import evaluate

scores = evaluate("{cfg.output_dir}", "{cfg.task}", "path/to/data")   # or pixlm evaluate --model ...""")


def _training_args(cfg: FinetuneConfig, primary: str, group_by_length: bool):
    extra = {"train_sampling_strategy": "group_by_length"} if group_by_length else {}
    return training_arguments(
        cfg.output_dir,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        warmup_steps=cfg.warmup_fraction,
        weight_decay=cfg.weight_decay,
        eval_strategy="steps",
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        save_steps=cfg.eval_steps,
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model=primary,
        greater_is_better=True,
        logging_steps=max(1, cfg.eval_steps // 4),
        seed=cfg.seed,
        dataloader_num_workers=cfg.num_workers,
        label_names=_label_names(cfg.task),
        report_to=cfg.report_to,
        disable_tqdm=not cfg.progress,
        **extra,  # batches of similar lengths: with dynamic length, little is padded
    )


def _finetune_qa(cfg: FinetuneConfig) -> dict:
    """Extractive QA: long contexts become overflow windows; answers are mapped back to text
    through the patches' character spans and scored with SQuAD's exact match and F1."""
    from transformers import EarlyStoppingCallback

    from ..data.qa import QACollator, best_answers, qa_features
    from ..evaluation import squad_scores

    train, validation = read_examples(cfg, cfg.train), read_examples(cfg, cfg.validation)
    test = read_examples(cfg, cfg.test) if cfg.test else None
    model = _load_model(cfg, None)
    renderer = _renderer(cfg, model.config)
    collator = QACollator(renderer.config.patch_size, model.config.num_channels, renderer.config.max_patches)
    val_features = qa_features(validation, renderer)

    def score(examples, features, predictions):
        answers = best_answers(examples, features, predictions[0], predictions[1])
        golds = {e["id"]: [a["text"] for a in e["answers"]] for e in examples}
        return answers, squad_scores(answers, golds)

    def compute(eval_pred):
        return score(validation, val_features, eval_pred.predictions)[1]

    trainer = PixlmTrainer(
        model=model, args=_training_args(cfg, "f1", group_by_length=False), train_dataset=qa_features(train, renderer),
        eval_dataset=val_features, data_collator=collator, compute_metrics=compute,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.patience)],
        pixel_processor=PixelProcessor(renderer, model.config.num_channels),
    )
    trainer.train()
    results = {"task": "qa", "primary_metric": "f1", "steps": trainer.state.global_step,
               "best_checkpoint": trainer.state.best_model_checkpoint, "output_dir": cfg.output_dir, "config": asdict(cfg)}
    for name, examples, features in [("validation", validation, val_features)] + (
            [("test", test, qa_features(test, renderer))] if test else []):
        answers, scores = score(examples, features, trainer.predict(features).predictions)
        results[name] = scores
        with written_whole(os.path.join(cfg.output_dir, f"predictions-{name}.json")) as tmp, \
                open(tmp, "w", encoding="utf-8") as f:
            json.dump(answers, f, indent=2, ensure_ascii=False)
    trainer.save_model_atomically(cfg.output_dir)
    write_results(cfg.output_dir, results)
    _model_card(cfg, results)
    return results


def text_length(example: dict) -> int:
    """Characters to render: what the strip's length grows with."""
    if "words" in example:
        return sum(len(w) + 1 for w in example["words"])
    return len(example["text_a"]) + len(example.get("text_b") or "")


def _with_lengths(examples: list[dict]):
    """A datasets.Dataset with a `length` column, which the Trainer groups batches by."""
    import datasets

    return datasets.Dataset.from_list([{**e, "length": text_length(e)} for e in examples])


def _data_pipeline(cfg: FinetuneConfig, model, labels: list | None):
    """(renderer, collator) for a pixel model; (None, a tokenizing collator) for the subword baseline."""
    from ..baselines.subword import is_subword_model
    from ..data.collators import SubwordCollator

    label2id = None if labels is None else {label: i for i, label in enumerate(labels)}
    if is_subword_model(cfg.model):
        from transformers import AutoTokenizer

        return None, SubwordCollator(AutoTokenizer.from_pretrained(cfg.model), cfg.task, label2id)
    modality = getattr(model.config, "modality", cfg.modality)
    if modality == "text":
        from ..data import TextClassificationCollator

        return None, TextClassificationCollator(_tokenizer(cfg), label2id, cfg.max_tokens)
    renderer = _renderer(cfg, model.config)
    if modality == "pair":
        from ..data import PairedClassificationCollator

        return renderer, PairedClassificationCollator(renderer, model.config.num_channels, _tokenizer(cfg), label2id,
                                                      cfg.max_tokens)
    return renderer, _collator(cfg.task, renderer, model.config.num_channels, labels, cfg.layout)


def _tokenizer(cfg: FinetuneConfig):
    """The tokenizer of PixelGPT's text and pair modalities: --tokenizer, else the model
    folder's; without a padding token, the end-of-text token pads (as PixelGPT's scripts do)."""
    from transformers import AutoTokenizer

    source = cfg.tokenizer or cfg.model
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as e:
        raise ValueError(f"modality {cfg.modality!r} needs a tokenizer: {source} has none that transformers can load "
                         f"({e}); give one with --tokenizer") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _collator(task: str, renderer, num_channels: int, labels: list | None, layout: str):
    from ..data import PixelClassificationCollator, PixelParsingCollator, PixelTokenClassificationCollator

    label2id = None if labels is None else {label: i for i, label in enumerate(labels)}
    if task == "classify":
        return PixelClassificationCollator(renderer, num_channels, label2id)
    if task == "parse":
        return PixelParsingCollator(renderer, num_channels, label2id, layout)
    return PixelTokenClassificationCollator(renderer, num_channels, label2id, layout)


def _label_names(task: str) -> list[str]:
    return {"parse": ["arc_labels", "rel_labels"], "qa": ["start_positions", "end_positions"]}.get(task, ["labels"])


def _strip_prefix(metrics: dict) -> dict:
    """{"eval_accuracy": x, "epoch": e} -> {"accuracy": x, "epoch": e}."""
    return {(k.split("_", 1)[1] if k.startswith(("eval_", "test_")) else k): v for k, v in metrics.items()}


def most_frequent_tag_baseline(train: list[dict], evaluation: list[dict]) -> float:
    """Accuracy of tagging each word with its most frequent training tag (the overall most
    frequent tag for unseen words): the simple baseline for POS."""
    by_word: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    overall: collections.Counter = collections.Counter()
    for e in train:
        for w, t in zip(e["words"], e["tags"]):
            by_word[w][t] += 1
            overall[t] += 1
    default = overall.most_common(1)[0][0]
    right = total = 0
    for e in evaluation:
        for w, t in zip(e["words"], e["tags"]):
            guess = by_word[w].most_common(1)[0][0] if w in by_word else default
            right += guess == t
            total += 1
    return right / total


# -- evaluation of a finetuned model ------------------------------------------------------------
def evaluate(
    model_dir: str,
    task: str,
    path: str,
    *,
    attack: str | None = None,
    severity: float = 0.0,
    seed: int = 0,
    noise_dir: str | None = None,
    glue_task: str | None = None,
    text_columns: tuple[str, ...] = ("text",),
    label_column: str = "label",
    ner_scheme: str = "IOB2",
    batch_size: int = 32,
    max_patches: int | None = None,
    pooling: str | None = None,
) -> dict:
    """Score a finetuned checkpoint (a folder, or a model on the Hugging Face Hub) on a file,
    optionally with `attack` applied to `severity` of the words of each example (word-level
    tasks keep their alignment). `max_patches`: patches per text, by default those of the
    renderer saved with the model (PIXEL's scripts finetuned with 256 for word-level tasks:
    give that for its published checkpoints, whose renderer config says 529). `pooling`: how a
    classifier pools (as saved by pixlm; PIXEL did not save it: give the one it was finetuned
    with, e.g. "cls")."""
    import tempfile

    from transformers import PrinterCallback

    from ..evaluation.attacks import WORD_PRESERVING, attack_text, attack_words
    from ..models import pixel
    from ..models.loading import local_folder

    model_dir = local_folder(model_dir)
    cfg = FinetuneConfig(task=task, model=model_dir, train=path, validation=path, output_dir="",
                         glue_task=glue_task, text_columns=text_columns, label_column=label_column, ner_scheme=ner_scheme)
    cfg.validate()
    examples = read_examples(cfg, path)
    if attack:
        if task != "classify" and attack not in WORD_PRESERVING:
            raise ValueError(f"attack {attack!r} changes the number of words; task {task!r} needs one of {', '.join(WORD_PRESERVING)}")
        for k, e in enumerate(examples):
            if task == "classify":
                e["text_a"] = attack_text(e["text_a"], attack, severity, seed + 2 * k, noise_dir)
                if e.get("text_b"):
                    e["text_b"] = attack_text(e["text_b"], attack, severity, seed + 2 * k + 1, noise_dir)
            else:
                e["words"] = attack_words(list(e["words"]), attack, severity, seed + k, noise_dir)
    from ..baselines.subword import is_subword_model

    subword = is_subword_model(model_dir)
    heads = _SUBWORD_HEADS if subword else _HEADS
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        saved = json.load(f)
    architectures = saved.get("architectures") or []
    if task not in heads:
        raise ValueError(f"task {task!r} is not one this model kind covers ({', '.join(heads)})")
    gpt = saved.get("model_type") in PIXELGPT_TYPES
    if architectures and architectures[0].lower() != heads[task].lower() and not (
            gpt and task == "classify" and architectures[0].endswith("ForSequenceClassification")):
        needs = "PixelGPTForSequenceClassification's task, classify" if gpt else heads[task]
        raise ValueError(f"checkpoint {model_dir} holds a {architectures[0]}, but task {task!r} needs {needs}")
    if subword:
        import transformers

        model = getattr(transformers, heads[task]).from_pretrained(model_dir)
    elif gpt:
        from transformers import AutoModelForSequenceClassification

        model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    else:
        options = {"pooling": pooling} if pooling and task == "classify" else {}
        model = getattr(pixel, heads[task]).from_pretrained(model_dir, **options)
    regression = task == "classify" and model.config.num_labels == 1
    labels = None if regression else [model.config.id2label[i] for i in range(model.config.num_labels)]
    labels = _add_unseen_labels(cfg, "evaluation", examples, labels)
    layout = cfg.layout
    patches = getattr(model.config, "max_patches", cfg.max_patches)
    if not subword and os.path.isfile(os.path.join(model_dir, "text_renderer_config.json")):
        from ..render import RendererConfig

        saved = RendererConfig.from_pretrained(model_dir)  # as the model was finetuned
        layout, patches = saved.layout, min(saved.max_patches, patches)
    if max_patches is not None:
        patches = max_patches
    pipeline_cfg = FinetuneConfig(**{**asdict(cfg), "layout": layout if layout in ("words", "bigrams") else cfg.layout,
                                     "max_patches": patches})
    _, collator = _data_pipeline(pipeline_cfg, model, labels)
    with tempfile.TemporaryDirectory() as tmp:
        args = training_arguments(tmp, per_device_eval_batch_size=batch_size, label_names=_label_names(task),
                                  disable_tqdm=True)
        trainer = PixlmTrainer(model=model, args=args, data_collator=collator, compute_metrics=_metrics(cfg, labels),
                               preprocess_logits_for_metrics=_parse_predictions(model.config.max_patches) if task == "parse" else None)
        trainer.remove_callback(PrinterCallback)  # the caller prints the scores (a table, for several)
        metrics = _strip_prefix(trainer.evaluate(examples, metric_key_prefix="eval"))
    return {"attack": attack, "severity": severity if attack else 0.0, "examples": len(examples), **metrics}


def robustness_table(model_dir: str, task: str, path: str, attacks, severities, **kwargs) -> tuple[list[dict], str]:
    """`evaluate` clean and under every attack at every severity; rows and a Markdown table with
    each score's change relative to the clean one."""
    primary = _primary(FinetuneConfig(task=task, model=model_dir, train=path, validation=path, output_dir="",
                                      glue_task=kwargs.get("glue_task")))
    clean = evaluate(model_dir, task, path, **kwargs)
    rows = [clean]
    for attack in attacks:
        for severity in severities:
            rows.append(evaluate(model_dir, task, path, attack=attack, severity=severity, **kwargs))
    base = clean[primary]
    lines = [f"| attack | severity | {primary} | relative change |", "|---|---|---|---|"]
    for r in rows:
        change = (r[primary] - base) / base if base else float("nan")
        lines.append(f"| {r['attack'] or 'clean'} | {r['severity']:g} | {r[primary]:.4f} | {100 * change:+.1f}% |")
    return rows, "\n".join(lines)
