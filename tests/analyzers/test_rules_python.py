"""The python rule pack: every rule fires exactly on its marked fixture lines and stays quiet elsewhere."""

from __future__ import annotations

import pytest

from bot.analyzers.astgrep import AstGrepAnalyzer
from bot.analyzers.rule_pack import builtin_rules
from tests.support.rules_harness import check_rule

ANALYZER = AstGrepAnalyzer.load_builtin()
RULES = [r for r in builtin_rules() if r.language == "python"]


def test_the_pack_has_python_rules() -> None:
    assert len(RULES) >= 15


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_fires_on_marked_lines_and_nowhere_else(rule) -> None:
    check_rule(ANALYZER, rule)
