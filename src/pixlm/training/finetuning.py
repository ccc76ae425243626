"""Finetuning on the Trainer for any registered task (pixlm.training.tasks: classification and
regression, POS, NER, parsing, QA), from PIXEL, PixelGPT or the subword baseline.

    from pixlm.training import FinetuneConfig, finetune
    finetune(FinetuneConfig(task="pos", model="runs/pixel", train="en_ewt/train.conllu",
                            validation="en_ewt/dev.conllu", test="en_ewt/test.conllu", output_dir="runs/pos"))

Early stopping on the validation metric keeps the best checkpoint; `all_results.json` holds the
validation and test scores; predictions are written in the input's format (CoNLL-U for POS,
CoNLL for NER, TSV for classification).
"""

from __future__ import annotations

import collections
import logging
import os
import tempfile
import time
from dataclasses import asdict, replace

from transformers import AutoTokenizer, EarlyStoppingCallback, PrinterCallback

from ..baselines.subword import is_subword_model
from ..data import PairedClassificationCollator, TextClassificationCollator, check_renderer_fits
from ..data.hub import is_hub_name, load_hub_split
from ..data.processor import PixelProcessor
from ..files import check_writable
from ..models.loading import local_folder
from ..models.pixel import PRESETS
from ..render import RendererConfig, TextRenderer
from .config import FinetuneConfig
from .families import family_of
from .run import resume_checkpoint, seed_everything, sharding_arguments, training_arguments, write_model_card, write_results
from .tasks import FinetuneRun, Task, get_task
from .trainer import PixlmTrainer

logger = logging.getLogger(__name__)


# -- data ---------------------------------------------------------------------------------------
def read_examples(cfg: FinetuneConfig, path: str) -> list[dict]:
    """Examples of one file (or `hf:NAME[/CONFIG]:SPLIT` Hub dataset), as the task reads them:
    {text_a, text_b, label} for classify, {words, tags} for tagging, and so on."""

    task = get_task(cfg.task)
    if is_hub_name(path):
        return task.read_hub(load_hub_split(path), path, cfg)
    return task.read(path, cfg)


def _add_unseen_labels(task: Task, name: str, examples: list[dict], known: list | None) -> list | None:
    """Labels of evaluation data that training never saw join the label set (the model never
    learns to predict them, so they count as errors), and the log says which."""
    if known is None:
        return None
    unseen = sorted({str(label) for e in examples for label in task.example_labels(e)} - set(known))
    if unseen:
        logger.warning("the %s data has label(s) %s that training never has: they are kept, and count as errors", name, unseen)
    return known + unseen


# -- model --------------------------------------------------------------------------------------
def _load_model(cfg: FinetuneConfig, task: Task, labels: list | None):
    """The model to finetune: its family (PIXEL, PixelGPT, the subword baseline) knows how."""

    if not os.path.isdir(cfg.model) and cfg.model not in PRESETS:
        cfg.model = local_folder(cfg.model)  # a model on the Hub, downloaded
    return family_of(cfg.model).finetuning_model(task, cfg, task.label_kwargs(labels))


def _renderer(cfg: FinetuneConfig, task: Task, model_config):
    overrides = {"max_patches": min(cfg.max_patches, model_config.max_patches)}
    if cfg.max_patches > model_config.max_patches and cfg.max_patches != FinetuneConfig.max_patches:
        logger.warning("max_patches %d is more than the model's %d positions: texts get %d patches",
                       cfg.max_patches, model_config.max_patches, model_config.max_patches)
    if task.word_level:
        overrides["layout"] = cfg.layout
    source = cfg.renderer or (None if cfg.model in PRESETS else cfg.model)
    renderer = TextRenderer(RendererConfig.for_model(source, **overrides))
    check_renderer_fits(renderer.config, model_config.patch_size, model_config.num_channels, model_config.max_patches)
    return renderer


# -- entry point --------------------------------------------------------------------------------
def finetune(cfg: FinetuneConfig) -> dict:
    """Finetune, keep the best checkpoint by the validation metric, score validation and test.

    Returns {validation: {...}, test: {...}, primary_metric, labels, output_dir, ...} and writes
    it to `<output_dir>/all_results.json`, with predictions beside it.
    """

    cfg.validate()
    sharding_arguments(cfg.fsdp, cfg.deepspeed)  # refused before any work where it cannot run
    task = get_task(cfg.task)
    seed_everything(cfg.seed, cfg.deterministic)
    check_writable(cfg.output_dir)
    train = read_examples(cfg, cfg.train)
    splits = {"validation": (cfg.validation, read_examples(cfg, cfg.validation))}
    if cfg.test:
        splits["test"] = (cfg.test, read_examples(cfg, cfg.test))
    labels = task.label_set(train, cfg)
    for name, (_, examples) in splits.items():
        labels = _add_unseen_labels(task, name, examples, labels)
    model = _load_model(cfg, task, labels)
    if cfg.learning_rate is None:  # a copy: the caller's config may serve another model
        cfg = replace(cfg, learning_rate=default_learning_rate(task, model.config))
        logger.warning("learning rate %g, the default for %s with a model %s wide (--lr to choose another)",
                       cfg.learning_rate, task.description, getattr(model.config, "hidden_size", "?"))
    cfg = _set_word_pooling(cfg, task, model)
    renderer, collator = _data_pipeline(cfg, task, model, labels)
    datasets = {name: task.dataset(examples, renderer, training=False) for name, (_, examples) in splits.items()}

    primary = task.primary_metric(cfg)
    validation = splits["validation"][1]
    training_examples = [*task.with_joined_copies(train, cfg.joined_copies, cfg.seed),
                         *task.shuffled_copies(train, cfg.shuffled_copies, cfg.seed),
                         *task.mixed_copies(train, cfg.mixed_copies, cfg.seed)]
    trainer = PixlmTrainer(
        model=model,
        args=_training_args(cfg, task, primary),
        train_dataset=task.dataset(training_examples, renderer, training=True),
        eval_dataset=datasets["validation"],
        data_collator=collator,
        compute_metrics=task.compute_metrics(labels, validation, datasets["validation"], cfg),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.patience)],
        pixel_processor=PixelProcessor(renderer, model.config.num_channels) if renderer else None,
        processing_class=getattr(collator, "tokenizer", None),  # text and pair modalities save their tokenizer
        preprocess_logits_for_metrics=task.keep_outputs(model.config),
        layer_lr_decay=cfg.layer_lr_decay,
    )
    started = time.perf_counter()
    resumed_from = resume_checkpoint(cfg.output_dir, cfg.resume)
    trainer.train(resume_from_checkpoint=resumed_from)
    train_seconds = time.perf_counter() - started
    trainer.remove_callback(EarlyStoppingCallback)  # the scoring below is not a training evaluation
    results = {
        "task": cfg.task,
        **task.details(cfg),
        "title": task.title(cfg),
        "primary_metric": primary,
        "labels": labels,
        "steps": trainer.state.global_step,
        "training_examples": len(training_examples),  # with --join-sentences, the joined copies too
        "resumed_from": resumed_from,
        "train_seconds": round(train_seconds, 1),  # training with its evaluations and checkpoints
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "output_dir": cfg.output_dir,
        "config": asdict(cfg),
    }
    run = FinetuneRun(cfg, trainer, labels, train)
    for name, (path, examples) in splits.items():
        if task.has_gold(examples):
            trainer.compute_metrics = task.compute_metrics(labels, examples, datasets[name], cfg)
            results[name] = _strip_prefix(trainer.evaluate(datasets[name], metric_key_prefix="eval" if name == "validation" else name))
        out_path = os.path.join(cfg.output_dir, f"predictions-{name}{task.prediction_extension(path)}")
        task.write_predictions(run, path, examples, datasets[name], out_path)
    trainer.save_model_atomically(cfg.output_dir)
    write_results(cfg.output_dir, results)
    _model_card(cfg, task, results)
    return results


PIXEL_BASE_WIDTH = 768


def default_learning_rate(task: Task, model_config) -> float:
    """The peak learning rate `finetune` uses when none is given: for models as wide as PIXEL-base
    or wider, PIXEL's own for the task (`task.pixel_learning_rate`, from its FINETUNING.md); for
    narrower ones the task's `small_model_learning_rate`, measured on the tiny preset
    (docs/results.md: rates like PIXEL's leave it far behind 1e-3 on tagging, and text
    classification needs 1e-4, where 1e-3 stays at the majority class)."""
    width = getattr(model_config, "hidden_size", PIXEL_BASE_WIDTH)
    return task.pixel_learning_rate if width >= PIXEL_BASE_WIDTH else task.small_model_learning_rate


def default_word_pooling(model_config) -> str:
    """How `finetune` has a PIXEL tagger read a word when not told: from its first patch, as
    PIXEL's heads do, for models as wide as PIXEL-base or wider (its published figures); from the
    mean of the word's patches for narrower ones (docs/results.md: on the tiny preset UPOS
    en_ewt, vi_vtb and MasakhaNER pcm gain 1.3-7.1 points, pretrained or not)."""
    width = getattr(model_config, "hidden_size", PIXEL_BASE_WIDTH)
    return "first" if width >= PIXEL_BASE_WIDTH else "mean"


def _set_word_pooling(cfg: FinetuneConfig, task: Task, model) -> FinetuneConfig:
    """A PIXEL tagger's model config takes --word-pooling (else a --model-arg, else the default
    for its width); returns the config with the choice recorded."""
    if not hasattr(model.config, "word_pooling") or task.head != "PixelForTokenClassification":
        return cfg
    chosen = cfg.word_pooling or cfg.model_overrides.get("word_pooling")
    if chosen is None:
        chosen = default_word_pooling(model.config)
        logger.warning("word pooling %r, the default for a model %s wide (--word-pooling to choose)", chosen,
                       getattr(model.config, "hidden_size", "?"))
    model.config.word_pooling = chosen  # read at each forward pass; saved with the model
    return replace(cfg, word_pooling=chosen)


def _model_card(cfg: FinetuneConfig, task: Task, results: dict) -> None:
    title = results["title"]
    scores = {f"validation {k}": v for k, v in results.get("validation", {}).items() if isinstance(v, float)
              and not k.endswith(("runtime", "per_second", "epoch"))}
    scores.update({f"test {k}": v for k, v in (results.get("test") or {}).items() if isinstance(v, float)
                   and not k.endswith(("runtime", "per_second", "epoch"))})
    write_model_card(
        cfg.output_dir, title=f"{title[0].upper()}{title[1:]} with pixels", family="pixel",
        summary=f"`{cfg.model}` finetuned with pixlm for {title}: the text is rendered to patches "
                f"(`text_renderer_config.json`) and the model reads the pixels; best checkpoint by validation "
                f"{results.get('primary_metric', '')}, after {results.get('steps')} steps.",
        data={"train": cfg.train, "validation": cfg.validation, "test": cfg.test}, base_model=cfg.model,
        metrics=scores, tags=(task.name,),
        usage=f"""from pixlm.training.finetuning import evaluate

scores = evaluate("{cfg.output_dir}", "{task.name}", "path/to/data")   # or pixlm evaluate --model ...""")


def _training_args(cfg: FinetuneConfig, task: Task, primary: str):
    # Batches of similar lengths: with dynamic length, little is padded.
    extra = {"train_sampling_strategy": "group_by_length"} if task.group_by_length else {}
    extra.update(sharding_arguments(cfg.fsdp, cfg.deepspeed))
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
        full_determinism=cfg.deterministic,
        dataloader_num_workers=cfg.num_workers,
        label_names=list(task.label_names),
        report_to=cfg.report_to,
        disable_tqdm=not cfg.progress,
        **extra,
    )


def _data_pipeline(cfg: FinetuneConfig, task: Task, model, labels: list | None):
    """(renderer, collator) for a pixel model; (None, a tokenizing collator) for the subword baseline."""

    label2id = None if labels is None else {label: i for i, label in enumerate(labels)}
    if is_subword_model(cfg.model):
        return None, task.subword_collator(AutoTokenizer.from_pretrained(cfg.model), label2id, cfg)
    modality = getattr(model.config, "modality", cfg.modality)
    if modality == "text":
        return None, TextClassificationCollator(_tokenizer(cfg), label2id, cfg.max_tokens)
    renderer = _renderer(cfg, task, model.config)
    if modality == "pair":
        return renderer, PairedClassificationCollator(renderer, model.config.num_channels, _tokenizer(cfg), label2id,
                                                      cfg.max_tokens)
    return renderer, task.collator(renderer, model.config.num_channels, label2id, cfg)


def _tokenizer(cfg: FinetuneConfig):
    """The tokenizer of PixelGPT's text and pair modalities: --tokenizer, else the model
    folder's; without a padding token, the end-of-text token pads (as PixelGPT's scripts do)."""

    source = cfg.tokenizer or cfg.model
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as e:
        raise ValueError(f"modality {cfg.modality!r} needs a tokenizer: {source} has none that transformers can load "
                         f"({e}); give one with --tokenizer") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _strip_prefix(metrics: dict) -> dict:
    """{"eval_accuracy": x, "epoch": e} -> {"accuracy": x, "epoch": e}."""
    return {(k.split("_", 1)[1] if k.startswith(("eval_", "test_")) else k): v for k, v in metrics.items()}


def most_frequent_tags(train: list[dict]) -> tuple[dict[str, str], str]:
    """Each training word's most frequent tag, and the most frequent tag overall (for words
    never seen), from examples {words, tags}."""
    by_word: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    overall: collections.Counter = collections.Counter()
    for e in train:
        for w, t in zip(e["words"], e["tags"]):
            by_word[w][t] += 1
            overall[t] += 1
    return {w: c.most_common(1)[0][0] for w, c in by_word.items()}, overall.most_common(1)[0][0]


def most_frequent_tag_baseline(train: list[dict], evaluation: list[dict]) -> float:
    """Accuracy of tagging each word with its most frequent training tag (the overall most
    frequent tag for unseen words): the simple baseline for POS."""
    lexicon, default = most_frequent_tags(train)
    right = total = 0
    for e in evaluation:
        for w, t in zip(e["words"], e["tags"]):
            right += lexicon.get(w, default) == t
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


    model_dir = local_folder(model_dir)
    cfg = FinetuneConfig(task=task, model=model_dir, train=path, validation=path, output_dir="",
                         glue_task=glue_task, text_columns=text_columns, label_column=label_column, ner_scheme=ner_scheme)
    cfg.validate()
    spec = get_task(task)
    examples = read_examples(cfg, path)
    if attack:
        examples = [spec.attack(e, attack, severity, seed, k, noise_dir) for k, e in enumerate(examples)]
    options = {"pooling": pooling} if pooling and spec.pooled else {}
    model = family_of(model_dir).finetuned_model(spec, model_dir, **options)
    labels = _add_unseen_labels(spec, "evaluation", examples, spec.labels_of(model.config))
    layout = cfg.layout
    patches = getattr(model.config, "max_patches", cfg.max_patches)
    if os.path.isfile(os.path.join(model_dir, "text_renderer_config.json")):
        saved = RendererConfig.from_pretrained(model_dir)  # as the model was finetuned
        layout, patches = saved.layout, min(saved.max_patches, patches)
    if max_patches is not None:
        patches = max_patches
    pipeline_cfg = replace(cfg, layout=layout if spec.word_level else cfg.layout, max_patches=patches)
    renderer, collator = _data_pipeline(pipeline_cfg, spec, model, labels)
    dataset = spec.dataset(examples, renderer, training=False)
    with tempfile.TemporaryDirectory() as tmp:
        args = training_arguments(tmp, per_device_eval_batch_size=batch_size, label_names=list(spec.label_names),
                                  disable_tqdm=True)
        trainer = PixlmTrainer(model=model, args=args, data_collator=collator,
                               compute_metrics=spec.compute_metrics(labels, examples, dataset, cfg),
                               preprocess_logits_for_metrics=spec.keep_outputs(model.config))
        trainer.remove_callback(PrinterCallback)  # the caller prints the scores (a table, for several)
        metrics = _strip_prefix(trainer.evaluate(dataset, metric_key_prefix="eval"))
    return {"attack": attack, "severity": severity if attack else 0.0, "examples": len(examples), **metrics}


def robustness_table(model_dir: str, task: str, path: str, attacks, severities, **kwargs) -> tuple[list[dict], str]:
    """`evaluate` clean and under every attack at every severity; rows and a Markdown table with
    each score's change relative to the clean one."""
    primary = get_task(task).primary_metric(FinetuneConfig(task=task, model=model_dir, train=path, validation=path,
                                                           output_dir="", glue_task=kwargs.get("glue_task")))
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
