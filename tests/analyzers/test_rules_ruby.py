"""The ruby rule pack: every rule fires exactly on its marked fixture lines and stays quiet elsewhere."""

from __future__ import annotations

import pytest

from bot.analyzers.astgrep import AstGrepAnalyzer
from bot.analyzers.rule_pack import builtin_rules
from tests.support.rules_harness import FIXTURES, check_rule, scan

ANALYZER = AstGrepAnalyzer.load_builtin()
RULES = [r for r in builtin_rules() if r.language == "ruby"]


def test_the_pack_has_ruby_rules() -> None:
    assert len(RULES) >= 1


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_fires_on_marked_lines_and_nowhere_else(rule) -> None:
    check_rule(ANALYZER, rule)


def _suggestions(rule_id: str) -> list[str]:
    text = (FIXTURES / rule_id / "fires.rb").read_text()
    return [f.suggestion or "" for f in scan(ANALYZER, "app/models/report.rb", text) if f.source == rule_id]


def test_map_of_one_attribute_suggests_pluck() -> None:
    assert _suggestions("rb-map-attribute-not-pluck") == [
        "    User.where(active: true).pluck(:email) # expect: rb-map-attribute-not-pluck"
    ]


def test_association_count_in_a_loop_suggests_size() -> None:
    assert _suggestions("rb-association-count-in-loop") == [
        "      [post.title, post.comments.size] # expect: rb-association-count-in-loop"
    ]
