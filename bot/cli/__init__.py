"""The `scale-review` command: a thin dispatcher over one module per sub-command
(review, service, redeliver, rules, action in this package; eval in bot.eval.run).

Each module in COMMAND_MODULES exposes `register(subparsers)`, which adds its parser and sets
`func(args) -> int` as the default. Exit codes: 0 ok / gate passed, 1 gate failed or problems
found, 2 usage, configuration or repository error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot import __version__

COMMAND_MODULES = (
    "bot.cli.review",
    "bot.cli.service",
    "bot.eval.run",
    "bot.cli.redeliver",
    "bot.cli.rules",
    "bot.cli.memory",
    "bot.cli.action",
)

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scale-review",
        description="Reviews changes the way a senior scalability architect would.",
    )
    parser.add_argument("--version", action="version", version=f"scale-review {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("scale-review: interrupted", file=sys.stderr)
        return 130
