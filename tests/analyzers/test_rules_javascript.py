"""The javascript rule pack: every rule fires exactly on its marked fixture lines and stays quiet elsewhere."""

from __future__ import annotations

import pytest

from bot.analyzers.astgrep import AstGrepAnalyzer
from bot.analyzers.rule_pack import builtin_rules
from tests.support.rules_harness import check_rule

ANALYZER = AstGrepAnalyzer.load_builtin()
RULES = [r for r in builtin_rules() if r.language in ("javascript", "typescript", "tsx")]


def test_the_pack_has_javascript_rules() -> None:
    assert len(RULES) >= 4


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_fires_on_marked_lines_and_nowhere_else(rule) -> None:
    check_rule(ANALYZER, rule)


def test_browser_code_is_outside_the_server_timeout_and_loop_rules() -> None:
    from tests.support.rules_harness import FIXTURES, scan

    text = (FIXTURES / "js-fetch-no-timeout" / "fires.ts").read_text()
    assert any(f.source == "js-fetch-no-timeout" for f in scan(ANALYZER, "src/lib/fetcher.ts", text))
    assert not any(f.source == "js-fetch-no-timeout" for f in scan(ANALYZER, "src/components/fetcher.ts", text))
    loop = (FIXTURES / "js-await-in-loop" / "fires.ts").read_text()
    assert not any(f.source == "js-await-in-loop" for f in scan(ANALYZER, "packages/lib/client-only/bulk.ts", loop))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_compiles_for_every_dialect_it_claims(rule) -> None:
    # a node kind one grammar lacks (TypeScript's `required_parameter` in plain JavaScript) makes ast-grep
    # refuse the whole rule at match time, which drops every finding of the file
    from ast_grep_py import SgRoot

    for language in rule.languages:
        SgRoot("const x = 1;\n", language).root().find_all(rule.config)


def test_a_page_size_floor_is_rewritten_into_a_cap() -> None:
    from tests.support.rules_harness import scan

    text = (
        "export function size(count: string) {\n"
        "  const limit = parseInt(count) > 50 ? parseInt(count) : 50;\n"
        "  return limit;\n"
        "}\n"
    )
    (finding,) = scan(ANALYZER, "server/db/link.ts", text)
    assert finding.source == "js-page-size-floor-not-cap"
    assert finding.suggestion == "  const limit = Math.min(parseInt(count), 50);"
