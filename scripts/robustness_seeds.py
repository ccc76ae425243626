"""The robustness table over seeds: for each attack, each model's accuracy as mean and range over
its seeds, and its mean relative change from clean text.

    python scripts/robustness_seeds.py --model PIXEL runs/rob/upos-pixel-s42.json runs/rob/upos-pixel-s1.json \
        --model subword runs/rob/upos-subword-s42.json ... [--write docs/results.md --name upos-robustness]

Each JSON file is what `pixlm evaluate --attack all --output FILE` writes for one seed's model
(the clean score first, then one row per attack). With --write, the table replaces the block
between `<!-- figure:NAME -->` and `<!-- /figure:NAME -->` in the file (appended if absent).
"""

from __future__ import annotations

import argparse
import json
import statistics

from figures import write  # scripts/figures.py: replaces a figure's block in a file


def scores(path: str) -> dict[str, float]:
    """attack (or "clean") -> accuracy, from one `pixlm evaluate --attack all` file."""
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    return {row["attack"] or "clean": row["accuracy"] for row in rows}


def table(models: dict[str, list[str]]) -> str:
    runs = {name: [scores(p) for p in paths] for name, paths in models.items()}
    attacks = list(next(iter(runs.values()))[0])
    head = "| attack (50% of words) | " + " | ".join(f"{n} UPOS (mean, range; {len(r)} seed{'s' * (len(r) > 1)}) | {n} relative change"
                                                      for n, r in runs.items()) + " |"
    lines = [head, "|---|" + "---|---|" * len(runs)]
    for attack in attacks:
        cells = []
        for seeds in runs.values():
            values = [s[attack] for s in seeds]
            change = statistics.mean(s[attack] / s["clean"] - 1 for s in seeds)
            cells.append(f"{100 * statistics.mean(values):.1f} ({100 * min(values):.1f}-{100 * max(values):.1f})")
            cells.append(f"{100 * change:+.1f}%")
        lines.append(f"| {attack} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs="+", action="append", required=True, metavar=("NAME", "JSON"),
                        help="a model's name and its seeds' evaluate files")
    parser.add_argument("--write", metavar="FILE")
    parser.add_argument("--name", default="robustness")
    args = parser.parse_args()
    models = {}
    for name, *paths in args.model:
        if not paths:
            parser.error(f"--model {name} needs at least one JSON file")
        models[name] = paths
    block = table(models)
    print(block)
    if args.write:
        write(args.write, args.name, f"<!-- figure:{args.name} -->\n{block}\n<!-- /figure:{args.name} -->")


if __name__ == "__main__":
    main()
