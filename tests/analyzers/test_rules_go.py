"""The go rule pack: every rule fires exactly on its marked fixture lines and stays quiet elsewhere."""

from __future__ import annotations

import pytest

from bot.analyzers.astgrep import AstGrepAnalyzer
from bot.analyzers.rule_pack import builtin_rules
from tests.support.rules_harness import check_rule

ANALYZER = AstGrepAnalyzer.load_builtin()
RULES = [r for r in builtin_rules() if r.language == "go"]


def test_the_pack_has_go_rules() -> None:
    assert len(RULES) >= 4


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_fires_on_marked_lines_and_nowhere_else(rule) -> None:
    check_rule(ANALYZER, rule)


def test_duration_unit_twice_suggests_the_duration_alone() -> None:
    from tests.support.rules_harness import scan

    text = (
        'package x\n\nimport "time"\n\nconst dial = 2 * time.Second\n\n'
        "var cfg = Config{DialTimeout: dial * time.Second}\n"
    )
    found = [f for f in scan(ANALYZER, "app/store/config.go", text) if f.source == "go-duration-unit-twice"]
    assert [f.suggestion for f in found] == ["var cfg = Config{DialTimeout: dial}"]
