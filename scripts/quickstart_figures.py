"""The two figures of docs/results.md's quickstart section: R and the hidden characters read
back over a quickstart and its resume command, and one held-out sentence reconstructed by the
quickstart's model and by the model its resume command made.

    cp -r RUN RUN-quickstart                         # the quickstart's model, before resuming
    # ...run the resume command the quickstart printed, in RUN...
    python scripts/quickstart_figures.py --quickstart RUN-quickstart --resumed RUN --output-dir docs/figures

The curves come from the resumed run's `trainer_state.json` (its evaluations from step 0, the
quickstart's included); the sentence is a held-out one (`corpus-held-out.txt`, line --line),
hidden at the same patches for both models.
"""

import argparse
import glob
import json
import os

from PIL import Image

DEFAULT_SPANS = "4:8,12:13,28:30,59:63"  # a 4-patch span, a single patch and pairs, in the default sentence


def evaluations(run: str) -> list[dict]:
    """The evaluations logged by the run's last checkpoint (they include those before a resume)."""
    states = sorted(glob.glob(os.path.join(run, "checkpoint-*", "trainer_state.json")),
                    key=lambda p: int(p.split("checkpoint-")[1].split(os.sep)[0]))
    if not states:
        raise SystemExit(f"{run}: no checkpoint-*/trainer_state.json; give the folder the resume command trained in")
    with open(states[-1], encoding="utf-8") as f:
        history = json.load(f)["log_history"]
    return [h for h in history if "eval_reading_ratio" in h]


def reading_figure(history: list[dict], initial_ratio: float, quickstart_steps: int, goal: float):
    """R against the goal (from the untrained model's, `initial_ratio`), and the characters read
    back against white patches', side by side."""
    from pixlm.viz import loss_curve

    ratios = [(0, initial_ratio)] + [(h["step"], h["eval_reading_ratio"]) for h in history]
    r_title = f"R (real / blank context); to step {quickstart_steps:,} the quickstart, then its resume command"
    r = loss_curve({"R": ratios, "goal": [(0, goal), (ratios[-1][0], goal)]}, title=r_title, size=(640, 420))
    read = [h for h in history if "eval_masked_character_accuracy" in h]
    chars = loss_curve({"reconstructed": [(h["step"], 100 * h["eval_masked_character_accuracy"]) for h in read],
                        "left white": [(h["step"], 100 * h["eval_white_character_accuracy"]) for h in read]},
                       title="hidden characters read back (%)", size=(640, 420))
    figure = Image.new("RGB", (r.width + chars.width, r.height), "white")
    figure.paste(r, (0, 0))
    figure.paste(chars, (r.width, 0))
    return figure


def reconstructions_figure(models: list[tuple[str, str]], text: str, spans: list[tuple[int, int]]):
    """The same hidden patches of `text` filled in by each (label, folder) model, one under another."""
    from pixlm.models.pixel import PixelForPreTraining
    from pixlm.render import RendererConfig, TextRenderer
    from pixlm.viz import reconstruct
    from pixlm.viz.strips import labelled_panels

    panels = []
    for label, folder in models:
        model = PixelForPreTraining.from_pretrained(folder)
        renderer = TextRenderer(RendererConfig.for_model(folder, max_patches=model.config.max_patches))
        image, _ = reconstruct(model, renderer, text, spans=spans)
        panels.append((label, image))
    return labelled_panels(panels, gap=16)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quickstart", required=True, metavar="DIR", help="the quickstart's folder as it ended (a copy made before resuming)")
    ap.add_argument("--resumed", required=True, metavar="DIR", help="the folder the printed resume command trained on in")
    ap.add_argument("--output-dir", default="docs/figures", metavar="DIR", help="where the two PNGs go (default docs/figures)")
    ap.add_argument("--line", type=int, default=2, metavar="N",
                    help="the held-out sentence to reconstruct: line N of corpus-held-out.txt (default 2, a sentence of prose with seed 0)")
    ap.add_argument("--spans", default=DEFAULT_SPANS, metavar="S:E,...", help=f"patches to hide (default {DEFAULT_SPANS})")
    args = ap.parse_args()
    from pixlm.cli.quickstart import READING_GOAL

    with open(os.path.join(args.quickstart, "all_results.json"), encoding="utf-8") as f:
        before = json.load(f)
    with open(os.path.join(args.resumed, "all_results.json"), encoding="utf-8") as f:
        after = json.load(f)
    history = evaluations(args.resumed)
    reading = reading_figure(history, before["initial_reading_ratio"], before["steps"], READING_GOAL)
    with open(os.path.join(args.resumed, "corpus-held-out.txt"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    if not 1 <= args.line <= len(lines):
        raise SystemExit(f"--line {args.line}: corpus-held-out.txt has {len(lines)} lines")
    text = lines[args.line - 1]
    spans = [tuple(int(n) for n in span.split(":")) for span in args.spans.split(",")]
    recon = reconstructions_figure(
        [(f"after the quickstart (step {before['steps']:,}, R {before['reading_ratio']:.3f})", args.quickstart),
         (f"after its resume command (step {after['steps']:,}, R {after['reading_ratio']:.3f})", args.resumed)], text, spans)
    os.makedirs(args.output_dir, exist_ok=True)
    for name, image in (("quickstart-mono-reading.png", reading), ("quickstart-mono-reconstructions.png", recon)):
        path = os.path.join(args.output_dir, name)
        image.save(path)
        print(path)


if __name__ == "__main__":
    main()
