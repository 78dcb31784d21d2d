"""The dispatcher: a command line naming a sub-command registers only its module, and knows every command."""

from __future__ import annotations

import argparse
import importlib

import pytest

from bot.cli import COMMAND_MODULES, MODULE_OF_COMMAND, build_parser, main


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(sub.choices)


def test_every_command_is_mapped_to_the_module_that_registers_it() -> None:
    assert _commands(build_parser()) == set(MODULE_OF_COMMAND)
    for module in COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        importlib.import_module(module).register(parser.add_subparsers())
        assert {c for c, m in MODULE_OF_COMMAND.items() if m == module} == _commands(parser)


def test_a_named_command_registers_its_module_alone() -> None:
    assert _commands(build_parser("review")) == {"review"}
    assert _commands(build_parser("doctor")) == {"serve", "worker", "replay", "doctor"}
    assert _commands(build_parser("no-such-command")) == set(MODULE_OF_COMMAND)


def test_an_unknown_command_is_refused_with_the_full_list(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["revieww"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and "'serve'" in err and "'action'" in err
