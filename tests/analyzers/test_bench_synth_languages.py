"""The analyzer benchmark's generated Go/Ruby/TypeScript changes hold the five problems semgrep is given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.analyzers.astgrep import AstGrepAnalyzer
from tests.support.rules_harness import scan

BENCH = Path(__file__).parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import synth_languages  # noqa: E402

EXPECTED = {
    "go": {
        "go-http-default-client",
        "go-http-client-no-timeout",
        "go-query-in-loop",
        "go-write-in-loop",
        "go-retry-fixed-sleep",
    },
    "ruby": {
        "rb-query-in-each",
        "rb-http-client-no-timeout",
        "rb-perform-async-in-loop",
        "rb-write-in-loop",
        "rb-retry-fixed-sleep",
    },
    "typescript": {
        "js-await-in-loop",
        "js-axios-no-timeout",
        "js-sync-fs-in-handler",
        "js-queue-add-in-loop",
        "js-retry-fixed-delay",
    },
}


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_generated_head_adds_exact_lines_and_the_five_problems(language: str, tmp_path: Path) -> None:
    base, head = synth_languages.build_repo(tmp_path, 6, 25, language)
    numstat = subprocess.run(
        ["git", "-C", str(tmp_path), "diff", "--numstat", base, head], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert [row.split("\t")[:2] for row in numstat if row] == [["25", "0"]] * 6
    analyzer = AstGrepAnalyzer.load_builtin()
    found = {
        f.source
        for p in sorted((tmp_path / "shop").rglob("orders_*"))
        for f in scan(analyzer, str(p.relative_to(tmp_path)), p.read_text())
    }
    assert found == EXPECTED[language]
