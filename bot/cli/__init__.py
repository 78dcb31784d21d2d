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

# the module that registers each sub-command: a command line naming one imports only that module
# (the others pull in the App, the evaluation and the Action: imports a `review` never uses)
MODULE_OF_COMMAND = {
    "review": "bot.cli.review",
    "serve": "bot.cli.service",
    "worker": "bot.cli.service",
    "replay": "bot.cli.service",
    "doctor": "bot.cli.service",
    "eval": "bot.eval.run",
    "redeliver": "bot.cli.redeliver",
    "rules": "bot.cli.rules",
    "memory": "bot.cli.memory",
    "action": "bot.cli.action",
}

EXIT_USAGE = 2


def _command(argv: Sequence[str]) -> str | None:
    """The sub-command a command line names (its first word that is not an option), if there is one."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with a known `command`, only that sub-command is registered (help and errors about any
    other command come from the full parser)."""
    parser = argparse.ArgumentParser(
        prog="scale-review",
        description="Reviews changes the way a senior scalability architect would.",
    )
    parser.add_argument("--version", action="version", version=f"scale-review {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    module = MODULE_OF_COMMAND.get(command or "")
    for name in [module] if module else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command(words))
    args = parser.parse_args(words)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("scale-review: interrupted", file=sys.stderr)
        return 130
