"""The `pixlm` command: one module per command (as accelerate's are). A command's module
docstring is its help (the first line) and description (the rest); it may add an `EPILOG`
(examples, shown as written) and a `CONFIG` dataclass whose fields become its flags, has
`add_arguments(parser)` for any other flags, and `run(args)`, which calls the same functions a
user would; the flags of a `CONFIG` are made by `flags.py`. Every failure becomes one line (exit
2 for bad usage, 1 for a failure, 130 when interrupted); --debug shows the traceback.

Imports inside functions: `pixlm --help` imports every command module, and stays fast because
none of them imports torch, transformers or datasets before its `run`."""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
import warnings

from .. import __version__
from ..render.backends import BackendUnavailableError
from .flags import add_config_flags

EPILOG = "Run `pixlm COMMAND --help` for the options of each command."
# The commands, in the order --help lists them; each is the module of that name here.
COMMANDS = ("render", "quickstart", "pretrain", "reconstruct", "diagnose", "finetune", "attack", "evaluate", "baseline",
            "tokenizer", "generate", "push", "read", "vl", "attend")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pixlm",
        description="pixlm: language modelling with pixels. Render text in any script to patches; "
                    "train and evaluate pixel language models.",
        epilog=EPILOG,
    )

    parser.add_argument("--version", action="version", version=f"pixlm {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also PIXLM_DEBUG=1); by default one line says what "
                             "went wrong")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        command = importlib.import_module(f"{__name__}.{name}")
        summary, _, description = command.__doc__.strip().partition("\n\n")
        p = sub.add_parser(name, help=getattr(command, "HELP", summary.rstrip(".")),
                           description=description.strip(), epilog=getattr(command, "EPILOG", None),
                           formatter_class=argparse.RawDescriptionHelpFormatter)  # docstrings and examples keep their lines
        if hasattr(command, "CONFIG"):
            add_config_flags(p, command.CONFIG)
        if hasattr(command, "add_arguments"):
            command.add_arguments(p)
        p.set_defaults(func=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a usage error argparse has printed: its exit code
        return e.code if isinstance(e.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2

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
        if isinstance(e, OSError) and e.strerror:  # without the "[Errno N]" noise
            detail = e.strerror + (f": {e.filename!r}" if e.filename else "")
        print(f"pixlm {args.command}: error: {type(e).__name__}{': ' + detail if detail else ''} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return 1
    finally:
        os.environ.pop("PIXLM_COMMAND", None)
        warnings.formatwarning = plain
