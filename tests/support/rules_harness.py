"""Shared checks for the rule-pack fixture tests (tests/analyzers/test_rules_<language>.py).

Each rule has `tests/fixtures/rules/<rule-id>/fires.<ext>` and `quiet.<ext>`. A line that a rule
must report carries a marker comment `expect: <rule-id>[, <rule-id>...]` (`#` or `//`). Every
finding of every rule must sit on a marked line, and every marker must be reported.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.analyzers.astgrep import AstGrepAnalyzer
from bot.analyzers.base import FileInput
from bot.analyzers.rule_pack import AstGrepRule
from bot.core.diff import FileChange, FileStatus
from bot.core.model import Finding

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rules"
MARKER = re.compile(r"(?:#|//)\s*expect:\s*([a-z0-9][a-z0-9\-, ]*)")


def all_lines_added(path: str, text: str) -> FileChange:
    """A FileChange in which every line of `text` is new (a brand-new file)."""
    lines = frozenset(range(1, text.count("\n") + 2))
    return FileChange(
        path=path,
        old_path=None,
        status=FileStatus.added,
        added_lines=lines,
        visible_lines=lines,
        additions=len(lines),
    )


def scan(analyzer: AstGrepAnalyzer, path: str, text: str) -> list[Finding]:
    return analyzer.analyze(FileInput(change=all_lines_added(path, text), text=text))


def expected_marks(text: str) -> set[tuple[str, int]]:
    """(rule id, line) pairs declared by `expect:` markers."""
    out: set[tuple[str, int]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        m = MARKER.search(line)
        if m:
            out.update((rule_id.strip(), number) for rule_id in m.group(1).split(",") if rule_id.strip())
    return out


def fixture_files(rule: AstGrepRule) -> tuple[list[Path], list[Path]]:
    folder = FIXTURES / rule.id
    return sorted(folder.glob("fires.*")), sorted(folder.glob("quiet.*"))


def check_fixture(analyzer: AstGrepAnalyzer, fixture: Path) -> None:
    """Findings on the fixture equal its markers exactly (all rules, not only the fixture's own)."""
    text = fixture.read_text(encoding="utf-8")
    # analyzed under a neutral path: the analyzer skips test paths, and fixtures live under tests/
    found = {(f.source, f.start_line) for f in scan(analyzer, f"app/{fixture.parent.name}/{fixture.name}", text)}
    expected = expected_marks(text)
    assert found - expected == set(), f"{fixture}: unexpected findings {sorted(found - expected)}"
    assert expected - found == set(), f"{fixture}: missed markers {sorted(expected - found)}"


def check_rule(analyzer: AstGrepAnalyzer, rule: AstGrepRule) -> None:
    """The rule has a firing and a quiet fixture, and both match their markers exactly."""
    fires, quiet = fixture_files(rule)
    assert fires, f"no fires.* fixture for {rule.id}"
    assert quiet, f"no quiet.* fixture for {rule.id}"
    for path in fires:
        assert any(r == rule.id for r, _ in expected_marks(path.read_text())), f"{path} marks no {rule.id} line"
        check_fixture(analyzer, path)
    for path in quiet:
        assert not any(r == rule.id for r, _ in expected_marks(path.read_text())), f"{path} expects {rule.id}"
        check_fixture(analyzer, path)
