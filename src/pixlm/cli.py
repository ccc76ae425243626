"""The `pixlm` command. Thin: it parses arguments and calls the same functions a user would."""

from __future__ import annotations

import argparse
import os
import sys

EPILOG = "Run `pixlm COMMAND --help` for the options of each command."


def _renderer_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("renderer")
    g.add_argument("--config", metavar="PATH",
                   help="a text_renderer_config.json (or a model folder holding one) to start from; "
                        "the flags below override it")
    g.add_argument("--layout", choices=["continuous", "words", "bigrams", "mono"],
                   help="continuous: PIXEL's layout, patch boundaries fall anywhere (default); words: each word "
                        "starts a new patch; bigrams: two characters per patch, each word on a new patch; "
                        "mono: one fixed-width cell per character")
    g.add_argument("--rgb", action="store_true", default=None, help="render in colour (emoji in colour); grayscale otherwise")
    g.add_argument("--font", action="append", metavar="PATH", dest="fonts",
                   help="a font file or folder that heads the fallback chain (repeatable), "
                        "for instance PIXEL's GoNotoCurrent.ttf")
    g.add_argument("--backend", choices=["skia", "pango"], help="drawing backend (default skia; pango needs pixlm[pango])")
    g.add_argument("--max-patches", type=int, metavar="N", help="patches on the canvas (default 529)")
    g.add_argument("--patch-size", type=int, metavar="PX", help="patch size and strip height in pixels (default 16)")
    g.add_argument("--font-size", type=float, metavar="PT", help="font size in points (default 8)")
    g.add_argument("--dpi", type=int, help="dots per inch the font size is taken at (default 120)")


def _build_renderer(args):
    from .render import RendererConfig, TextRenderer

    base = RendererConfig.from_pretrained(args.config).to_dict() if args.config else {}
    overrides = {
        "layout": args.layout, "rgb": args.rgb, "fonts": args.fonts, "backend": args.backend,
        "max_patches": args.max_patches, "patch_size": args.patch_size,
        "font_size": args.font_size, "dpi": args.dpi,
    }
    base.update({k: v for k, v in overrides.items() if v is not None})
    return TextRenderer(RendererConfig(**base))


def _add_render(sub) -> None:
    p = sub.add_parser(
        "render",
        help="render text to PNG images or an Arrow dataset",
        description="Render one text, a text file line by line, or the built-in multi-script sample.",
        epilog="Examples:\n  pixlm render 'Hello world' -o hello.png --grid --wrap 40\n"
               "  pixlm render --sample -o renders/\n"
               "  pixlm render --input corpus.txt --output corpus.arrow --workers 2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("text", nargs="?", help="the text to render (omit with --input or --sample)")
    p.add_argument("--pair", metavar="TEXT", help="a second text: rendered after a black separator patch")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="output: a .png for one text; a folder (PNGs) or a .arrow file with --input; "
                        "a folder with --sample (default: render.png, or renders/)")
    p.add_argument("--input", metavar="FILE", help="render this UTF-8 text file line by line (empty lines skipped)")
    p.add_argument("--sample", action="store_true", help="render the built-in multi-script sample, one PNG per script")
    p.add_argument("--limit", type=int, metavar="N", help="with --input: only the first N lines")
    p.add_argument("--workers", type=int, default=0, metavar="N", help="with --input: worker processes (default 0: this process)")
    v = p.add_argument_group("picture")
    v.add_argument("--grid", action="store_true", help="overlay the patch grid in red")
    v.add_argument("--wrap", type=int, metavar="N", help="wrap the strip into rows of N patches, so a person can read it")
    v.add_argument("--full", action="store_true", help="show the whole canvas, not only up to the end patch")
    v.add_argument("--scale", type=int, default=1, metavar="K", help="enlarge each pixel K times (default 1)")
    _renderer_options(p)
    p.set_defaults(func=_cmd_render)


def _cmd_render(args) -> int:
    import os

    from .render import export
    from .viz import save_png, strip_image

    given = [bool(args.text), bool(args.input), bool(args.sample)]
    if sum(given) != 1:
        raise ValueError("give exactly one of TEXT, --input FILE or --sample (see pixlm render --help)")
    renderer = _build_renderer(args)
    if args.sample:
        out = args.output or "renders"
        report = export.samples_to_pngs(renderer, out, grid=args.grid, scale=max(args.scale, 2))
        for name, info in report.items():
            if name != "all":
                print(f"{name:12s} {info['num_patches']:4d} patches  {info['missing_glyphs']} missing glyphs  {info['path']}")
        print(f"all scripts: {report['all']['path']}")
        return 0
    if args.input:
        lines = export.read_lines(args.input, args.limit)
        out = args.output or "renders"
        if out.endswith(".arrow"):
            n = export.lines_to_arrow(renderer, lines, out, num_workers=args.workers)
            print(f"wrote {n} rows to {out} (load with datasets.Dataset.from_file)")
        else:
            paths = export.lines_to_pngs(renderer, lines, out, num_workers=args.workers,
                                         grid=args.grid, wrap=args.wrap, full=args.full)
            print(f"wrote {len(paths)} PNGs to {os.path.abspath(out)}")
        return 0
    r = renderer(args.text, args.pair)
    img = strip_image(r.pixel_values, renderer.config.patch_size, grid=args.grid, wrap=args.wrap,
                      num_patches=None if args.full else r.num_patches, scale=args.scale)
    path = save_png(img, args.output or "render.png")
    note = " (truncated)" if r.truncated else ""
    print(f"{path}: {r.num_text_patches} text patches + end patch{note}; {r.missing_glyphs} missing glyphs")
    return 0


def _parse_assignments(items: list[str] | None, flag: str) -> dict:
    """KEY=VALUE strings to a dict, values read as JSON when they parse (numbers, booleans)."""
    import json

    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"{flag} takes KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _add_pretrain(sub) -> None:
    p = sub.add_parser(
        "pretrain",
        help="pretrain PIXEL (masked patches) or PixelGPT/MonoGPT/DualGPT (next patch and token) on a text corpus",
        description="Pretrain with transformers' Trainer: PIXEL (default) or, with --model-type pixelgpt, the causal "
                    "decoder on a --mixture of pixel, text and paired batches. Runs under torchrun for several "
                    "processes, resumes from the last checkpoint in --output-dir, logs to TensorBoard.",
        epilog="Example:\n  pixlm pretrain --corpus wiki.txt --output-dir runs/pixel-small --model small --steps 100000\n"
               "  torchrun --nproc_per_node 8 -m pixlm pretrain --corpus wiki.txt --output-dir runs/pixel --model base\n"
               "  pixlm pretrain --model-type pixelgpt --mixture dualgpt --tokenizer runs/bpe --corpus wiki.txt --output-dir runs/dual",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d = p.add_argument_group("data")
    d.add_argument("--corpus", required=True, metavar="PATH|NAME",
                   help="text corpus: a .txt (one text per line), .jsonl, .parquet or .csv file or a folder of them, "
                        "a pre-rendered .arrow file from `pixlm render`, or a datasets name (needs a connection)")
    d.add_argument("--validation", metavar="PATH", help="held-out corpus (default: --validation-size texts taken from --corpus)")
    d.add_argument("--validation-size", type=int, default=256, metavar="N", help="held-out texts taken from the corpus (default 256)")
    d.add_argument("--text-column", default="text", help="column holding the text in jsonl/parquet/csv (default text)")
    d.add_argument("--streaming", action="store_true", help="stream the corpus instead of loading it (large corpora)")
    d.add_argument("--workers", type=int, default=0, metavar="N", help="DataLoader worker processes; rendering runs in them (default 0)")
    m = p.add_argument_group("model")
    m.add_argument("--model-type", choices=["pixel", "pixelgpt"], default="pixel",
                   help="pixel: PIXEL, masked patches (default); pixelgpt: the causal decoder of PixelGPT, "
                        "MonoGPT and DualGPT (see --mixture)")
    m.add_argument("--model", default="tiny", metavar="PRESET|DIR",
                   help="a preset (pixel: tiny, small, base; pixelgpt: tiny, small, 350m) or a checkpoint folder "
                        "to continue from (default tiny)")
    m.add_argument("--model-arg", action="append", metavar="KEY=VALUE",
                   help="override a config field, e.g. num_channels=1, mask_ratio=0.4 or pixel_target=binary (repeatable)")
    m.add_argument("--mixture", default="pixelgpt", metavar="SPEC",
                   help="pixelgpt: kinds of batch and their shares, e.g. pixels=0.5,text=0.25,paired=0.25, or a "
                        "variant: pixelgpt (pixels only, default), monogpt (pixels=0.5,text=0.5), dualgpt "
                        "(pixels=0.5,text=0.25,paired=0.25)")
    m.add_argument("--tokenizer", metavar="DIR",
                   help="pixelgpt with text or paired batches: a tokenizer folder (pixlm tokenizer train makes one)")
    m.add_argument("--max-tokens", type=int, default=256, metavar="N", help="pixelgpt: tokens per text (default 256)")
    m.add_argument("--renderer", metavar="PATH", help="a text_renderer_config.json or a folder holding one")
    m.add_argument("--renderer-arg", action="append", metavar="KEY=VALUE",
                   help="override a RendererConfig field, e.g. max_patches=256 (repeatable)")
    m.add_argument("--random-masking", action="store_true", help="mask random patches instead of PIXEL's spans")
    t = p.add_argument_group("training")
    t.add_argument("--output-dir", required=True, metavar="DIR", help="checkpoints, logs, figures and the final model go here")
    t.add_argument("--steps", type=int, default=1000, metavar="N", help="optimizer steps (default 1000)")
    t.add_argument("--batch-size", type=int, default=32, metavar="N", help="texts per device per step (default 32)")
    t.add_argument("--grad-accum", type=int, default=1, metavar="N", help="gradient accumulation steps (default 1)")
    t.add_argument("--lr", type=float, metavar="LR", help="peak learning rate (default PIXEL's 1.5e-4 x total batch / 256)")
    t.add_argument("--min-lr", type=float, default=1e-5, metavar="LR", help="learning rate at the end of the cosine decay (default 1e-5)")
    t.add_argument("--warmup", type=float, default=0.05, metavar="FRACTION", help="share of steps spent warming up (default 0.05)")
    t.add_argument("--weight-decay", type=float, default=0.05, help="AdamW weight decay (default 0.05)")
    t.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto",
                   help="auto: bf16 on GPUs that support it, else fp32 (default auto)")
    t.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    t.add_argument("--logging-steps", type=int, default=10, metavar="N", help="log the loss every N steps (default 10)")
    t.add_argument("--eval-steps", type=int, default=100, metavar="N", help="held-out loss every N steps (default 100)")
    t.add_argument("--save-steps", type=int, default=500, metavar="N", help="checkpoint every N steps (default 500)")
    t.add_argument("--save-total-limit", type=int, default=3, metavar="N", help="keep the N newest checkpoints (default 3)")
    t.add_argument("--reconstruction-steps", type=int, default=500, metavar="N",
                   help="write reconstruction figures every N steps (default 500; 0: start and end only)")
    t.add_argument("--no-resume", action="store_true", help="start afresh even if --output-dir holds checkpoints")
    t.add_argument("--resume-from", metavar="CHECKPOINT", help="resume from this checkpoint folder")
    t.add_argument("--report-to", nargs="*", default=["tensorboard"], metavar="TOOL",
                   help="where to log (default tensorboard; none: nowhere)")
    p.set_defaults(func=_cmd_pretrain)


def _print_results(results: dict) -> None:
    a, b = results.get("initial_eval_loss"), results.get("final_eval_loss")
    kind = "next-patch" if results.get("config", {}).get("model_type") == "pixelgpt" else "masked-patch"
    if a is not None and b is not None:
        print(f"held-out {kind} loss: {a:.4f} at step 0 -> {b:.4f} at step {results['steps']} "
              f"({100 * (a - b) / a:.1f}% lower)")
    print(f"model and renderer config: {results['output_dir']}")
    if results.get("loss_curve"):
        print(f"loss curve: {results['loss_curve']}")
    shots = results.get("reconstructions") or []
    if shots:
        label = "generations" if kind == "next-patch" else "reconstructions"
        print(f"{label}: {shots[0]} (start), {shots[-1]} (end)")


def _cmd_pretrain(args) -> int:
    from .training import PretrainConfig, pretrain

    report = [] if args.report_to in ([], ["none"]) else args.report_to
    cfg = PretrainConfig(
        corpus=args.corpus, output_dir=args.output_dir, validation=args.validation, validation_size=args.validation_size,
        model=args.model, model_overrides=_parse_assignments(args.model_arg, "--model-arg"), renderer=args.renderer,
        renderer_overrides=_parse_assignments(args.renderer_arg, "--renderer-arg"), text_column=args.text_column,
        streaming=args.streaming, max_steps=args.steps, batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum, learning_rate=args.lr, min_learning_rate=args.min_lr,
        warmup_fraction=args.warmup, weight_decay=args.weight_decay, span_masking=not args.random_masking,
        seed=args.seed, logging_steps=args.logging_steps, eval_steps=args.eval_steps, save_steps=args.save_steps,
        save_total_limit=args.save_total_limit, reconstruction_steps=args.reconstruction_steps, num_workers=args.workers,
        precision=args.precision, resume=args.resume_from or (not args.no_resume), report_to=report,
        model_type=args.model_type, mixture=args.mixture, tokenizer=args.tokenizer, max_tokens=args.max_tokens,
    )
    _print_results(pretrain(cfg))
    return 0


def _add_reconstruct(sub) -> None:
    p = sub.add_parser(
        "reconstruct",
        help="show what a PIXEL model reconstructs of masked text (PNG)",
        description="Render TEXT, hide patches (PIXEL's span masking, or the spans you give), and write a PNG: "
                    "original, mask, prediction, and the prediction pasted into the original.",
    )
    p.add_argument("text", help="the text to render and reconstruct")
    p.add_argument("--model", required=True, metavar="DIR", help="a PIXEL checkpoint folder (with its text_renderer_config.json)")
    p.add_argument("--spans", metavar="S:E,...", help="hide these patch spans, e.g. 2:5,9:11 (end exclusive); default: span masking")
    p.add_argument("--seed", type=int, default=0, help="random seed for the mask (default 0)")
    p.add_argument("--wrap", type=int, default=32, metavar="N", help="patches per row in the picture (default 32)")
    p.add_argument("-o", "--output", default="reconstruction.png", metavar="PNG", help="where to write (default reconstruction.png)")
    p.set_defaults(func=_cmd_reconstruct)


def _parse_spans(text: str | None):
    if not text:
        return None
    spans = []
    for part in text.split(","):
        try:
            s, e = (int(x) for x in part.split(":"))
        except ValueError:
            raise ValueError(f"--spans takes START:END pairs separated by commas, got {part!r}") from None
        spans.append((s, e))
    return spans


def _cmd_reconstruct(args) -> int:
    from .models.pixel import PixelForPreTraining
    from .render import RendererConfig, TextRenderer
    from .viz import reconstruct, save_png

    model = _load_folder(PixelForPreTraining, args.model)
    renderer = TextRenderer(RendererConfig.for_model(args.model, max_patches=model.config.max_patches))
    image, loss = reconstruct(model, renderer, args.text, spans=_parse_spans(args.spans), seed=args.seed, wrap=args.wrap)
    print(f"{save_png(image, args.output)}: masked-patch loss {loss:.4f}")
    return 0


def _add_quickstart(sub) -> None:
    p = sub.add_parser(
        "quickstart",
        help="train a tiny PIXEL on Python's own documentation, in minutes on a CPU",
        description="Pretrain a tiny PIXEL on sentences from Python's documentation topics (shipped with Python: "
                    "no download), then print the held-out loss before and after and where the checkpoint, "
                    "loss curve and reconstructions are.",
    )
    p.add_argument("--output-dir", default="pixlm-quickstart", metavar="DIR", help="where to write (default pixlm-quickstart)")
    p.add_argument("--steps", type=int, default=None, metavar="N", help="training steps (default 1500)")
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="texts per step (default 32)")
    p.add_argument("--lr", type=float, default=1e-3, metavar="LR", help="peak learning rate (default 1e-3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--layout", default="continuous", choices=["continuous", "bigrams"],
                   help="rendering of the corpus: PIXEL's continuous strips (default), or bigrams (Lotz et al. "
                        "2023: two characters per patch, so equal bigrams are equal patches)")
    p.set_defaults(func=_cmd_quickstart)


def _cmd_quickstart(args) -> int:
    from .training.quickstart import QUICKSTART_STEPS, quickstart, stdlib_corpus

    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    steps = args.steps or QUICKSTART_STEPS
    out = args.output_dir
    print(f"pixlm quickstart: a tiny PIXEL (4 layers, 192 wide, grayscale, 128 patches) learns to fill in masked "
          f"patches of {len(stdlib_corpus()):,} sentences from Python's own documentation, rendered in the "
          f"{args.layout} layout: {steps:,} steps, about {steps * 0.2 / 60:.0f} minutes on 2 CPU cores. Checkpoints, "
          f"the loss curve and reconstructions go to {out}/.", flush=True)
    results = quickstart(out, max_steps=steps, batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed,
                         layout=args.layout)
    _print_results(results)
    print(f"wall time: {results['wall_seconds'] / 60:.1f} min")
    print(f"""
Next:
  pixlm reconstruct --model {out} "Text of your own to fill in" -o recon.png   # what it fills in
  pixlm pretrain --corpus {out}/corpus-train.txt --validation {out}/corpus-held-out.txt --model {out} \\
      --output-dir {out}-longer --steps 5000                                         # train on from here
  tensorboard --logdir {out}-longer/runs                                           # its curves, live""")
    return 0


def _add_finetune(sub) -> None:
    p = sub.add_parser(
        "finetune",
        help="finetune a pixel model: classification (GLUE), POS tagging, NER, dependency parsing or extractive QA",
        description="Finetune a PIXEL checkpoint (or a preset from scratch) with early stopping on the validation "
                    "metric; writes all_results.json and predictions in the input's format (CoNLL-U, CoNLL, TSV).",
        epilog="Examples:\n  pixlm finetune --task pos --model runs/pixel --train ud/en_ewt/train.conllu "
               "--validation ud/en_ewt/dev.conllu --test ud/en_ewt/test.conllu --output-dir runs/pos\n"
               "  pixlm finetune --task classify --model runs/pixel --train glue/SST-2/train.tsv "
               "--validation glue/SST-2/dev.tsv --output-dir runs/sst2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--task", required=True, choices=["classify", "pos", "ner", "parse", "qa"],
                   help="classify: texts or pairs (GLUE TSV, CSV, JSONL); pos: CoNLL-U UPOS; ner: CoNLL IOB tags; "
                        "parse: CoNLL-U dependencies (UAS/LAS); qa: SQuAD v1/v2 JSON (exact match, F1)")
    p.add_argument("--model", required=True, metavar="DIR|PRESET",
                   help="a PIXEL checkpoint folder, or tiny/small/base from scratch; or a PixelGPT checkpoint folder "
                        "(pixlm's, or a released one such as baidu/PixelGPT downloaded) for classify")
    p.add_argument("--train", required=True, metavar="FILE", help="training data (a file, or a Hub dataset hf:NAME[/CONFIG]:SPLIT, online)")
    p.add_argument("--validation", required=True, metavar="FILE", help="validation data (early stopping, best checkpoint)")
    p.add_argument("--test", metavar="FILE", help="test data, scored and predicted with the best checkpoint")
    p.add_argument("--output-dir", required=True, metavar="DIR", help="checkpoints, all_results.json, predictions")
    p.add_argument("--glue-task", help="GLUE task of TSV files (default: found in the path, e.g. .../SST-2/train.tsv)")
    p.add_argument("--text-columns", nargs="+", default=["text"], metavar="COL", help="CSV/JSONL text column(s); two for pairs")
    p.add_argument("--label-column", default="label", metavar="COL", help="CSV/JSONL label column (default label)")
    p.add_argument("--ner-scheme", choices=["IOB1", "IOB2"], default="IOB2", help="tag scheme of NER files (default IOB2)")
    p.add_argument("--layout", choices=["words", "bigrams"], default="words", help="pos/ner/parse rendering layout (default words)")
    p.add_argument("--max-patches", type=int, default=256, metavar="N", help="patches per text (default 256)")
    p.add_argument("--pooling", choices=["mean", "max", "cls", "pma"], default="mean", help="classify: pooling (default mean)")
    p.add_argument("--epochs", type=float, default=10, help="epochs (default 10; early stopping usually ends sooner)")
    p.add_argument("--steps", type=int, default=-1, metavar="N", help="steps, overriding --epochs")
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="examples per step (default 32)")
    p.add_argument("--lr", type=float, default=5e-5, help="peak learning rate (default 5e-5)")
    p.add_argument("--eval-steps", type=int, default=200, metavar="N", help="evaluate and checkpoint every N steps (default 200)")
    p.add_argument("--patience", type=int, default=5, metavar="N", help="evaluations without improvement before stopping (default 5)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--modality", choices=["pixels", "text", "pair"], default="pixels",
                   help="PixelGPT models: what the decoder reads, as in PixelGPT's finetuning scripts: pixels (the "
                        "rendered text, default), text (its tokens) or pair (the rendered text, then its tokens)")
    p.add_argument("--tokenizer", metavar="DIR", help="text and pair modalities: a tokenizer folder (default: the model folder's)")
    p.add_argument("--max-tokens", type=int, default=256, metavar="N", help="text and pair modalities: tokens per example (default 256)")
    p.add_argument("--renderer", metavar="PATH",
                   help="a renderer folder or text_renderer_config.json, for a checkpoint released without one "
                        "(PixelGPT's renderers/noto_renderer); default: the model folder's")
    p.add_argument("--model-arg", action="append", metavar="KEY=VALUE", help="override a PixelConfig field (repeatable)")
    p.set_defaults(func=_cmd_finetune)


def _cmd_finetune(args) -> int:
    from .training import FinetuneConfig, finetune

    cfg = FinetuneConfig(
        task=args.task, model=args.model, train=args.train, validation=args.validation, test=args.test,
        output_dir=args.output_dir, glue_task=args.glue_task, text_columns=tuple(args.text_columns),
        label_column=args.label_column, ner_scheme=args.ner_scheme, layout=args.layout, max_patches=args.max_patches,
        pooling=args.pooling, epochs=args.epochs, max_steps=args.steps, batch_size=args.batch_size,
        learning_rate=args.lr, eval_steps=args.eval_steps, patience=args.patience, seed=args.seed,
        modality=args.modality, tokenizer=args.tokenizer, max_tokens=args.max_tokens, renderer=args.renderer,
        model_overrides=_parse_assignments(args.model_arg, "--model-arg"),
    )
    results = finetune(cfg)
    for split in ("validation", "test"):
        if split in results:
            shown = {k: round(v, 4) for k, v in results[split].items()
                     if k not in ("runtime", "samples_per_second", "steps_per_second", "epoch")}
            print(f"{split}: {shown}")
    print(f"best checkpoint: {results['best_checkpoint']}; metrics and predictions in {results['output_dir']}")
    return 0


def _add_attack(sub) -> None:
    p = sub.add_parser(
        "attack",
        help="perturb a text file with Zeroé-style orthographic noise",
        description="Attack a share of the words (--severity) of a text file (one text per line) or of a CoNLL-U "
                    "file's word forms (annotations stay aligned), deterministically under --seed.",
        epilog="Attacks: full-swap, inner-swap, intrude, disemvowel, truncate (no tables needed); keyboard (en.key), "
               "natural (en.natural), visual (visual_repres.txt), homoglyph (unicode_confusables.txt); "
               "segmentation (joins words; text lines only).",
    )
    p.add_argument("--attack", required=True, choices=list(_attacks()), help="the kind of noise")
    p.add_argument("--severity", required=True, type=float, metavar="P", help="share of words attacked, in [0, 1]")
    p.add_argument("--input", required=True, metavar="FILE", help="a text file (one text per line) or a .conllu file")
    p.add_argument("--output", required=True, metavar="FILE", help="where the attacked file goes")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--format", choices=["lines", "conllu"], help="input format (default: by the file's extension)")
    p.add_argument("--noise-dir", metavar="DIR", help="folder of the noise tables (default $PIXLM_DATA/noise)")
    p.set_defaults(func=_cmd_attack)


def _attacks():
    from .evaluation.attacks import ATTACKS

    return ATTACKS


def _cmd_attack(args) -> int:
    from .evaluation.attacks import attack_file

    n = attack_file(args.input, args.output, args.attack, args.severity, args.seed, args.noise_dir, args.format)
    print(f"{args.output}: {n} {'sentences' if (args.format or '').endswith('conllu') or args.input.endswith('.conllu') else 'lines'} "
          f"with {args.attack} at severity {args.severity}")
    return 0


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score a finetuned model on a file, clean or under orthographic noise",
        description="Score a checkpoint made by `pixlm finetune` on a file. With --attack, that attack is applied to "
                    "--severity of each example's words first; with --attack all and several severities, one table "
                    "over all word-preserving attacks.",
    )
    p.add_argument("--model", required=True, metavar="DIR|HUB-ID",
                   help="a checkpoint made by pixlm finetune, or a published finetuned PIXEL model (a folder, or "
                        "its Hub name, e.g. Team-PIXEL/pixel-base-finetuned-pos-ud-vietnamese-vtb, downloaded)")
    p.add_argument("--task", required=True, choices=["classify", "pos", "ner", "parse"], help="the task the model was finetuned for")
    p.add_argument("--max-patches", type=int, metavar="N",
                   help="patches per text (default: the model's saved renderer; PIXEL's scripts used 256 for POS, NER "
                        "and parsing)")
    p.add_argument("--pooling", choices=["mean", "max", "cls", "pma"],
                   help="classify: the pooling a published PIXEL classifier was finetuned with (PIXEL did not save "
                        "it; pixlm's checkpoints carry theirs)")
    p.add_argument("--data", required=True, metavar="FILE", help="the file to score (same format as for finetuning)")
    p.add_argument("--attack", metavar="NAME", help="an attack (see pixlm attack --help), or all")
    p.add_argument("--severity", type=float, nargs="+", default=[0.5], metavar="P", help="share(s) of words attacked (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the attacks (default 0)")
    p.add_argument("--noise-dir", metavar="DIR", help="folder of the noise tables (default $PIXLM_DATA/noise)")
    p.add_argument("--glue-task", help="GLUE task of a TSV file (default: found in the path)")
    p.add_argument("--text-columns", nargs="+", default=["text"], metavar="COL", help="CSV/JSONL text column(s)")
    p.add_argument("--label-column", default="label", metavar="COL", help="CSV/JSONL label column")
    p.add_argument("--output", metavar="JSON", help="also write the scores as JSON")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args) -> int:
    import json

    from .evaluation.attacks import WORD_PRESERVING
    from .training.finetuning import evaluate, robustness_table

    common = dict(seed=args.seed, noise_dir=args.noise_dir, glue_task=args.glue_task,
                  text_columns=tuple(args.text_columns), label_column=args.label_column, max_patches=args.max_patches,
                  pooling=args.pooling)
    if args.attack == "all" or (args.attack and len(args.severity) > 1):
        attacks = list(WORD_PRESERVING) if args.attack == "all" else [args.attack]
        rows, table = robustness_table(args.model, args.task, args.data, attacks, args.severity, **common)
        print(table)
    else:
        rows = [evaluate(args.model, args.task, args.data, attack=args.attack, severity=args.severity[0], **common)]
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in rows[0].items()})
    if args.output:
        from .files import written_whole

        with written_whole(args.output) as tmp, open(tmp, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)
    return 0


def _add_baseline(sub) -> None:
    p = sub.add_parser(
        "baseline",
        help="a subword (WordPiece BERT) baseline trained on the same corpus, for equal-budget comparisons",
        description="create: train a WordPiece tokenizer on a corpus and save it with a fresh BERT of a preset's size. "
                    "pretrain: masked language modelling on a corpus. The folder then goes to pixlm finetune/evaluate "
                    "like a PIXEL checkpoint (classify, pos, ner).",
    )
    p.add_argument("action", choices=["create", "pretrain"], help="create a model, or pretrain one with MLM")
    p.add_argument("--corpus", required=True, metavar="FILE", help="the text corpus (as for pixlm pretrain)")
    p.add_argument("--output-dir", required=True, metavar="DIR", help="where the model and tokenizer go")
    p.add_argument("--model", metavar="DIR", help="pretrain: the model folder to start from")
    p.add_argument("--preset", default="tiny", choices=["tiny", "small", "base"], help="create: model size (default tiny)")
    p.add_argument("--vocab-size", type=int, default=8000, metavar="N", help="create: WordPiece vocabulary size (default 8000)")
    p.add_argument("--steps", type=int, default=1000, metavar="N", help="pretrain: steps, as many as the pixel model had")
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="pretrain: texts per step (default 32)")
    p.add_argument("--lr", type=float, default=5e-4, help="pretrain: peak learning rate (default 5e-4)")
    p.set_defaults(func=_cmd_baseline)


def _cmd_baseline(args) -> int:
    from .baselines.subword import create_subword_model
    from .training.subword import pretrain_subword

    if args.action == "create":
        print(f"subword model and tokenizer: {create_subword_model(args.corpus, args.output_dir, args.preset, args.vocab_size)}")
        return 0
    if not args.model:
        raise ValueError("pretrain needs --model, a folder made by `pixlm baseline create`")
    res = pretrain_subword(args.model, args.corpus, args.output_dir, args.steps, args.batch_size, args.lr)
    print(f"{res['steps']} steps, train loss {res['train_loss']:.4f}: {res['output_dir']}")
    return 0

def _add_tokenizer(sub) -> None:
    p = sub.add_parser(
        "tokenizer",
        help="train a BPE tokenizer on a corpus, for PixelGPT's text side (offline)",
        description="train: a byte-level BPE tokenizer (with <s>, </s>, <pad>, <unk>) trained with `tokenizers` "
                    "on a corpus, saved as a transformers tokenizer folder for pixlm pretrain --tokenizer.",
    )
    p.add_argument("action", choices=["train"], help="train a tokenizer")
    p.add_argument("--corpus", required=True, metavar="PATH", help="the text corpus (as for pixlm pretrain)")
    p.add_argument("--output-dir", required=True, metavar="DIR", help="where the tokenizer folder goes")
    p.add_argument("--vocab-size", type=int, default=8000, metavar="N", help="vocabulary size (default 8000)")
    p.add_argument("--text-column", default="text", help="column holding the text in jsonl/parquet/csv (default text)")
    p.set_defaults(func=_cmd_tokenizer)


def _cmd_tokenizer(args) -> int:
    from .data.tokenization import load_tokenizer, train_tokenizer_on_corpus

    folder = train_tokenizer_on_corpus(args.corpus, args.output_dir, args.vocab_size, args.text_column)
    print(f"{folder}: BPE tokenizer with {len(load_tokenizer(folder))} tokens")
    return 0


def _add_generate(sub) -> None:
    p = sub.add_parser(
        "generate",
        help="continue a prompt with a PixelGPT model: rendered patches (PNG) or tokens",
        description="Render PROMPT, generate patches autoregressively with a key-value cache, and write a PNG of "
                    "the prompt and its continuation; with a mono or bigrams renderer the continuation is also "
                    "read back as text. With --tokens (or --token-ids), continue the prompt as text instead: "
                    "greedy generate() on tokens, as transformers does it.",
        epilog="Examples:\n  pixlm generate \"The cat sat\" --model runs/pixelgpt --patches 64\n"
               "  pixlm generate \"The cat sat\" --model PixelGPT --renderer pixelgpt/renderers/noto_renderer\n"
               "  pixlm generate \"The cat sat\" --model DualGPT --tokens --max-new-tokens 20\n"
               "  pixlm generate --model DualGPT --token-ids 1,450,6635 --max-new-tokens 20",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("prompt", nargs="?", help="the text to continue")
    p.add_argument("--model", required=True, metavar="DIR",
                   help="a PixelGPT checkpoint folder (pixlm pretrain --model-type pixelgpt, or a released one)")
    p.add_argument("--patches", type=int, default=64, metavar="N", help="patches to generate (default 64)")
    p.add_argument("--no-cache", action="store_true", help="recompute every step instead of reusing keys and values (slow)")
    p.add_argument("--wrap", type=int, default=32, metavar="N", help="patches per row in the picture (default 32)")
    p.add_argument("--renderer", metavar="PATH",
                   help="a renderer folder or text_renderer_config.json (default: the model folder's; for a "
                        "checkpoint released without one, PIXEL's published renderer)")
    p.add_argument("-o", "--output", default="generation.png", metavar="PNG", help="where to write (default generation.png)")
    t = p.add_argument_group("text (tokens)")
    t.add_argument("--tokens", action="store_true", help="continue PROMPT as tokens and print the text")
    t.add_argument("--token-ids", metavar="IDS", help="a prompt given as comma-separated token ids; prints the ids")
    t.add_argument("--tokenizer", metavar="DIR", help="tokenizer folder for --tokens (default: the model folder's)")
    t.add_argument("--max-new-tokens", type=int, default=32, metavar="N", help="tokens to generate (default 32)")
    p.set_defaults(func=_cmd_generate)


def _cmd_generate(args) -> int:
    from .models.pixelgpt import PixelGPTForCausalLM

    if args.tokens or args.token_ids:
        return _generate_tokens(args)
    from .render import RendererConfig, TextRenderer
    from .render.layouts import layout_class
    from .render.reading import PatchReader
    from .viz import generate, save_png

    if args.prompt is None:
        raise ValueError("give a PROMPT to continue (or --token-ids)")
    if args.patches < 1:
        raise ValueError(f"--patches must be at least 1, got {args.patches}")
    model = _load_folder(PixelGPTForCausalLM, args.model)
    renderer = TextRenderer(RendererConfig.for_model(args.renderer or args.model, max_patches=model.config.max_patches))
    image, continuation = generate(model, renderer, args.prompt, args.patches, use_cache=not args.no_cache, wrap=args.wrap)
    print(f"{save_png(image, args.output)}: {continuation.shape[1] // renderer.config.patch_size} patches generated")
    if layout_class(renderer.config.layout).readable:
        print(f"read back: {PatchReader(renderer).read(continuation, num_patches=None)!r}")
    return 0


def _generate_tokens(args) -> int:
    """Greedy token generation with transformers' generate(); prints the text or the ids."""
    import torch

    from .models.pixelgpt import PixelGPTForCausalLM

    if args.max_new_tokens < 1:
        raise ValueError(f"--max-new-tokens must be at least 1, got {args.max_new_tokens}")
    model = _load_folder(PixelGPTForCausalLM, args.model)
    tokenizer = None
    if args.token_ids:
        try:
            ids = [int(x) for x in args.token_ids.split(",") if x.strip()]
        except ValueError:
            raise ValueError(f"--token-ids must be comma-separated integers, got {args.token_ids!r}") from None
        if not ids or min(ids) < 0 or max(ids) >= model.config.vocab_size:
            raise ValueError(f"--token-ids must be ids in [0, {model.config.vocab_size}), got {args.token_ids!r}")
        prompt = torch.tensor([ids])
    else:
        if args.prompt is None:
            raise ValueError("give a PROMPT to continue with --tokens")
        from transformers import AutoTokenizer

        source = args.tokenizer or args.model
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
        except (OSError, ValueError):
            raise ValueError(f"--tokens needs a tokenizer: {source} has none; give one with --tokenizer") from None
        prompt = tokenizer(args.prompt, return_tensors="pt")["input_ids"]
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else model.config.eos_token_id
    with torch.no_grad():
        out = model.generate(prompt, max_new_tokens=args.max_new_tokens, do_sample=False, pad_token_id=pad)
    if tokenizer is None:
        print(",".join(map(str, out[0].tolist())))
    else:
        print(args.prompt + tokenizer.decode(out[0, prompt.shape[1]:].tolist(), skip_special_tokens=True))
    return 0


def _load_folder(model_cls, folder: str):
    """A model from a folder, or from the Hub by its name (downloaded)."""
    from .models.loading import local_folder

    return model_cls.from_pretrained(local_folder(folder))


def _add_push(sub) -> None:
    p = sub.add_parser(
        "push",
        help="upload a trained model folder to the Hugging Face Hub, with its renderer, processor and card",
        description="Upload what `pixlm pretrain`, `finetune` or `vl` wrote to --output-dir: the model, its "
                    "processor (text_renderer_config.json with the fonts, preprocessor_config.json; or the "
                    "tokenizer), the model card (README.md) and all_results.json. Checkpoints, TensorBoard logs and "
                    "figures stay here. Log in first with `hf auth login` (or set HF_TOKEN).",
    )
    p.add_argument("folder", help="the output folder of a training command")
    p.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the model repository on the Hub (created if missing)")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument("--message", default="Upload with pixlm push", help="the commit message")
    p.set_defaults(func=_cmd_push)


def _cmd_push(args) -> int:
    from .models.hub import push_folder

    url = push_folder(args.folder, args.repo, private=args.private, message=args.message)
    print(f"{args.folder} -> {url}")
    return 0


def _add_read(sub) -> None:
    p = sub.add_parser(
        "read",
        help="read mono or bigrams patches back as text",
        description="Match each cell of a rendered strip against the renderer's own cells and print the text. "
                    "Give a PNG strip (as pixlm render writes), or --text to render and read back as a check "
                    "(prints the character accuracy).",
    )
    p.add_argument("image", nargs="?", help="a PNG of a strip, 16 pixels high")
    p.add_argument("--text", help="render this text and read it back, printing the character accuracy")
    p.add_argument("--layout", choices=["mono", "bigrams"], default="mono", help="the strip's layout (default mono)")
    p.add_argument("--renderer", metavar="PATH", help="a text_renderer_config.json, or a model folder holding one")
    p.add_argument("--charset", metavar="CHARS", help="characters to recognise (default printable ASCII)")
    p.set_defaults(func=_cmd_read)


def _cmd_read(args) -> int:
    import numpy as np

    from .evaluation.metrics import character_accuracy
    from .render import RendererConfig, TextRenderer
    from .render.reading import DEFAULT_CHARSET, PatchReader

    if (args.image is None) == (args.text is None):
        raise ValueError("give either an IMAGE to read or --text to render and read back")
    config = RendererConfig.from_pretrained(args.renderer).to_dict() if args.renderer else {}
    renderer = TextRenderer(RendererConfig(**{**config, "layout": args.layout}))
    reader = PatchReader(renderer, charset=args.charset or DEFAULT_CHARSET)
    if args.text is not None:
        got = reader.read(renderer(args.text).pixel_values)
        want = args.text if args.layout == "mono" else "".join(args.text.split())
        print(got)
        print(f"character accuracy: {100 * character_accuracy(got, want):.1f}%")
        return 0
    from PIL import Image

    if not os.path.isfile(args.image):
        raise FileNotFoundError(f"image {args.image!r} does not exist")
    image = Image.open(args.image).convert("L")
    p = renderer.config.patch_size
    if image.height != p:
        # A strip written with --scale k: shrink it back, each k x k block to its pixel.
        if image.height % p or image.width % (image.height // p):
            raise ValueError(f"image {args.image!r} is {image.width} x {image.height} pixels: a strip is {p} pixels "
                             f"high (or a whole multiple, as pixlm render --scale writes it)")
        k = image.height // p
        image = image.resize((image.width // k, p), Image.BOX)
    print(reader.read(np.asarray(image)))
    return 0

def _add_vl(sub) -> None:
    p = sub.add_parser(
        "vl",
        help="Pixel-BERT: pretrain (MLM + ITM) and finetune (VQA, NLVR2, retrieval) on images and text",
        description="Pixel-BERT on synthetic scenes (the default: learns on a CPU in minutes) or on files. "
                    "pretrain: masked language modelling and image-text matching with random pixel sampling; "
                    "vqa, nlvr2, retrieval: finetune a pretrained folder (--model). Writes the model, its "
                    "tokenizer and all_results.json (held-out scores before and after) to --output-dir.",
        epilog="Examples (the synthetic-scenes recipe of docs/results.md):\n"
               "  pixlm vl pretrain --pretraining-tasks mlm --steps 2000 --lr 3e-4 --output-dir runs/pb\n"
               "  pixlm vl vqa --model runs/pb --steps 3000 --lr 3e-4 --output-dir runs/vqa\n"
               "  pixlm vl vqa --model runs/pb --train vqav2/questions.json --train-annotations vqav2/annotations.json "
               "--validation ... --validation-annotations ... --images images/vqav2 --output-dir runs/vqa",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("task", choices=["pretrain", "vqa", "nlvr2", "retrieval"], help="what to train")
    p.add_argument("--output-dir", required=True, metavar="DIR", help="model, tokenizer, checkpoints and all_results.json")
    p.add_argument("--model", default="tiny", metavar="PRESET|DIR",
                   help="tiny (small CNN, 4 layers of 128, visual position embeddings), base (ResNet-50 + BERT-base), "
                        "base-resnext, or a checkpoint folder")
    p.add_argument("--model-arg", action="append", metavar="KEY=VALUE", help="override a PixelBertConfig field (repeatable)")
    p.add_argument("--tokenizer", metavar="DIR",
                   help="a BERT tokenizer folder (default: the checkpoint's, or WordPiece trained on the data)")
    p.add_argument("--bert", metavar="DIR", help="initialise the text side and transformer from this BERT checkpoint folder")
    p.add_argument("--backbone-weights", metavar="FILE", help="torchvision state-dict file for the CNN (e.g. ImageNet weights)")
    d = p.add_argument_group("data (default: synthetic scenes)")
    d.add_argument("--scenes", type=int, default=3000, metavar="N", help="training scenes (default 3000)")
    d.add_argument("--validation-scenes", type=int, default=200, metavar="N", help="held-out scenes (default 200)")
    d.add_argument("--scene-size", type=int, default=128, metavar="PX", help="scene side in pixels (default 128)")
    d.add_argument("--train", metavar="FILE", help="captions (COCO, Karpathy, ALBEF list, Flickr30k split), VQA questions or NLVR2 JSON")
    d.add_argument("--validation", metavar="FILE", help="the held-out file of the same kind")
    d.add_argument("--images", metavar="DIR", help="image folder (root) for the files")
    d.add_argument("--train-annotations", metavar="FILE", help="VQA answers for --train")
    d.add_argument("--validation-annotations", metavar="FILE", help="VQA answers for --validation")
    d.add_argument("--sentences", metavar="DIR", help="Flickr30k Entities sentence folder")
    t = p.add_argument_group("training")
    t.add_argument("--pretraining-tasks", default="mlm,itm", help="pretrain: mlm, itm or both (default mlm,itm)")
    t.add_argument("--pixel-sampling", type=int, metavar="N", help="pretrain: cells kept per image (default the config's; 0: all)")
    t.add_argument("--steps", type=int, default=1000, metavar="N", help="optimizer steps (default 1000)")
    t.add_argument("--batch-size", type=int, default=32, metavar="N", help="examples per step (default 32)")
    t.add_argument("--lr", type=float, default=1e-4,
                   help="AdamW learning rate of the transformer (default 1e-4, the paper's; the scenes recipe uses 3e-4)")
    t.add_argument("--cnn-lr", type=float, default=1e-2, help="SGD learning rate of the CNN (default 1e-2)")
    t.add_argument("--group-by-image", action="store_true",
                   help="vqa: batches of whole images' questions, each image through the CNN once (about twice as many "
                        "steps per second on scenes, but a batch sees ~5 images: on scenes it learned far slower per step)")
    t.add_argument("--negatives", type=int, default=20, metavar="N", help="retrieval: sampled negative captions per image (default 20)")
    t.add_argument("--candidates", type=int, default=100, metavar="N", help="retrieval: images ranked in evaluation (default 100)")
    t.add_argument("--save-steps", type=int, default=500, metavar="N", help="checkpoint every N steps (default 500)")
    t.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    t.add_argument("--no-resume", action="store_true", help="start afresh even if --output-dir holds checkpoints")
    p.set_defaults(func=_cmd_vl)


def _cmd_vl(args) -> int:
    from .training.pixelbert import PixelBertRunConfig, run_pixelbert

    cfg = PixelBertRunConfig(
        task=args.task, output_dir=args.output_dir, model=args.model, model_overrides=_parse_assignments(args.model_arg, "--model-arg"),
        tokenizer=args.tokenizer, bert=args.bert, backbone_weights=args.backbone_weights, scenes=args.scenes,
        validation_scenes=args.validation_scenes, scene_size=args.scene_size, train=args.train, validation=args.validation,
        images=args.images, train_annotations=args.train_annotations, validation_annotations=args.validation_annotations,
        sentences=args.sentences, pretraining_tasks=args.pretraining_tasks, pixel_sampling=args.pixel_sampling,
        max_steps=args.steps, batch_size=args.batch_size, learning_rate=args.lr, cnn_learning_rate=args.cnn_lr,
        group_by_image=args.group_by_image, retrieval_negatives=args.negatives, retrieval_candidates=args.candidates,
        save_steps=args.save_steps,
        seed=args.seed, resume=not args.no_resume,
    )
    res = run_pixelbert(cfg)
    before = res["before"] or {}
    for name, value in res["validation"].items():
        start = f"{before[name]:.3f} -> " if name in before else ""
        print(f"held-out {name}: {start}{value:.3f}")
    print(f"{res['steps']} steps in {res['train_seconds'] / 60:.1f} min; model, tokenizer and all_results.json in {res['output_dir']}")
    return 0


def _add_attend(sub) -> None:
    p = sub.add_parser(
        "attend",
        help="where each word looks in the image, for a Pixel-BERT model (PNG)",
        description="Read TEXT with IMAGE and write a PNG of each word piece's last-layer attention over the "
                    "image (averaged over heads), as in Pixel-BERT's Figure 3.",
    )
    p.add_argument("--model", required=True, metavar="DIR", help="a Pixel-BERT folder (pixlm vl ...)")
    p.add_argument("--image", required=True, metavar="FILE", help="the image")
    p.add_argument("--text", required=True, help="the text read with it")
    p.add_argument("--layer", type=int, default=-1, help="encoder layer (default the last)")
    p.add_argument("-o", "--output", default="attention.png", metavar="PNG", help="where to write (default attention.png)")
    p.set_defaults(func=_cmd_attend)


def _cmd_attend(args) -> int:
    from transformers import AutoTokenizer

    from .data.vl_collators import _ImageText
    from .models.pixelbert import PixelBertModel
    from .viz import attention_figure, save_png, word_to_pixel_attention

    if not os.path.isdir(args.model):
        raise FileNotFoundError(f"model folder {args.model!r} does not exist")
    if not args.text.strip():
        raise ValueError("--text is empty")
    model = PixelBertModel.from_pretrained(args.model).eval()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    helper = _ImageText.for_model(tokenizer, model.config)
    image = helper.image(args.image)
    if image is None:
        raise ValueError(f"image {args.image!r} could not be read: {helper.skipped.examples[-1]}")
    batch = {**helper.tokens([args.text]), **helper.pixels([image])}
    maps, grid = word_to_pixel_attention(model, batch["input_ids"], batch["attention_mask"], batch["pixel_values"],
                                         batch["pixel_mask"], args.layer)
    tokens = tokenizer.convert_ids_to_tokens(batch["input_ids"][0])
    keep = [i for i, t in enumerate(tokens) if t not in tokenizer.all_special_tokens]
    # The padded part of the grid is cut away so that the map lies over the image itself.
    rows, cols = (-(-image.size[1] // 64), -(-image.size[0] // 64))
    figure = attention_figure(image, [tokens[i] for i in keep], maps[keep][:, :rows, :cols])
    print(f"{save_png(figure, args.output)}: {len(keep)} word pieces over a {grid[0]} x {grid[1]} grid of cells")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pixlm",
        description="pixlm: language modelling with pixels. Render text in any script to patches; "
                    "train and evaluate pixel language models.",
        epilog=EPILOG,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"pixlm {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also PIXLM_DEBUG=1); by default one line says what "
                             "went wrong")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_render(sub)
    _add_quickstart(sub)
    _add_pretrain(sub)
    _add_reconstruct(sub)
    _add_finetune(sub)
    _add_attack(sub)
    _add_evaluate(sub)
    _add_baseline(sub)
    _add_tokenizer(sub)
    _add_generate(sub)
    _add_push(sub)
    _add_read(sub)
    _add_vl(sub)
    _add_attend(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    import shlex
    import warnings

    from .render.backends import BackendUnavailableError

    # For the model card of what the command trains (read by pixlm.training.run).
    os.environ["PIXLM_COMMAND"] = "pixlm " + shlex.join(sys.argv[1:] if argv is None else argv)
    # One line per warning, as the errors are: the source line of the call means nothing to a user.
    plain = warnings.formatwarning
    warnings.formatwarning = lambda message, *_, **__: f"pixlm {args.command}: warning: {message}\n"
    debug = args.debug or os.environ.get("PIXLM_DEBUG", "") not in ("", "0")
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, BackendUnavailableError) as e:
        if debug:
            raise
        print(f"pixlm {args.command}: error: {e}", file=sys.stderr)  # bad usage: an argument, a file
        return 2
    except KeyboardInterrupt:
        print(f"pixlm {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a failure while working: one line, and how to see more
        if debug:
            raise
        detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
        print(f"pixlm {args.command}: error: {type(e).__name__}{': ' + detail if detail else ''} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return 1
    finally:
        os.environ.pop("PIXLM_COMMAND", None)
        warnings.formatwarning = plain


if __name__ == "__main__":
    raise SystemExit(main())
