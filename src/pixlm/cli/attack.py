"""Perturb a text file with Zeroé-style orthographic noise.

Attack a share of the words (--severity) of a text file (one text per line) or of a CoNLL-U
file's word forms (annotations stay aligned), deterministically under --seed.
"""

from __future__ import annotations

from .flags import fraction

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).

EPILOG = (
    "Attacks:\n"
    "  full-swap, inner-swap, intrude, disemvowel, truncate (no tables needed)\n"
    "  keyboard (en.key), natural (en.natural), visual (visual_repres.txt), homoglyph (unicode_confusables.txt)\n"
    "  segmentation (joins words; text lines only)"
)


def add_arguments(p) -> None:
    p.add_argument("--attack", required=True, choices=list(_attacks()), help="the kind of noise")
    p.add_argument("--severity", required=True, type=fraction, metavar="P", help="share of words attacked, in [0, 1]")
    p.add_argument("--input", required=True, metavar="FILE", help="a text file (one text per line) or a .conllu file")
    p.add_argument("--output", required=True, metavar="FILE", help="where the attacked file goes")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--format", choices=["lines", "conllu"], help="input format (default: by the file's extension)")
    p.add_argument("--noise-dir", metavar="DIR", help="folder of the noise tables (default $PIXLM_DATA/noise)")


def run(args) -> int:
    from ..evaluation.attacks import attack_file

    n = attack_file(args.input, args.output, args.attack, args.severity, args.seed, args.noise_dir, args.format)
    print(f"{args.output}: {n} {'sentences' if (args.format or '').endswith('conllu') or args.input.endswith('.conllu') else 'lines'} "
          f"with {args.attack} at severity {args.severity}")
    return 0


def _attacks():
    from ..evaluation.attacks import ATTACKS

    return ATTACKS
