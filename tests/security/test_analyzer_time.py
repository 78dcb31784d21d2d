"""Issue 14 item 1: analyzer time is bounded. Hostile input: 20,000 blank-ish lines (quadratic
`^\\s*` MULTILINE patterns), and an analyzer that never ends (the per-file and per-review budgets)."""

from __future__ import annotations

import ast
import re
import time
from pathlib import Path

import pytest

from bot.analyzers import default_analyzers
from bot.analyzers.base import FileInput
from bot.analyzers.engine import analyze_change
from bot.analyzers.time_budget import TIME_BUDGET, AnalysisBudget
from bot.core.deadline import Deadline, DeadlineExceeded
from bot.core.model import Category, Conclusion, CoverageStatus, Finding, Severity
from bot.core.repo_config import RepoConfig, load_repo_config
from bot.review.pipeline import assemble_review
from tests.support.memrepo import added_files

BOT = Path(__file__).parents[2] / "bot"
BLANKISH = " \t \n" * 20_000
ADVERSARIAL = {
    "db/migrations/0001_pad.py": BLANKISH,  # Python migration detection
    "deploy/app.yaml": BLANKISH,  # Kubernetes manifest detection
    "db/migrations/001_pad.sql": BLANKISH,  # SQL migration detection
    "app/views.py": BLANKISH[: -2 * len(" \t \n")] + "import requests\nrequests.get(url)\n",  # the ast-grep pack
}
_LEADING_SPACE = re.compile(r"\^\\s[*+]")


def _multiline_patterns() -> list[tuple[str, int, str]]:
    """(file, line, pattern) of every literal re.compile(..., MULTILINE) or (?m) pattern under bot/."""
    found = []
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "compile" and node.args):
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            flags = ast.unparse(node.args[1]) if len(node.args) > 1 else ""
            flags += "".join(ast.unparse(k.value) for k in node.keywords if k.arg == "flags")
            if "MULTILINE" in flags or "re.M" in flags or first.value.startswith("(?m"):
                found.append((str(path.relative_to(BOT.parent)), node.lineno, first.value))
    return found


def test_no_multiline_pattern_lets_leading_whitespace_run_across_lines() -> None:
    patterns = _multiline_patterns()
    assert patterns, "the scan found no MULTILINE pattern at all: it is broken"
    bad = [p for p in patterns if _LEADING_SPACE.search(p[2])]
    assert bad == [], f"^\\s* under MULTILINE rescans every following blank line (use ^[ \\t]*): {bad}"


@pytest.mark.parametrize("path", sorted(ADVERSARIAL))
def test_a_20000_line_adversarial_file_costs_under_two_seconds(path: str) -> None:
    changes, repo = added_files({path: ADVERSARIAL[path]})
    started = time.perf_counter()
    result = analyze_change(changes, repo, RepoConfig(), default_analyzers())
    assert time.perf_counter() - started < 2.0
    assert not result.coverage[0].incomplete, result.coverage[0]


class Runaway:
    """An analyzer whose loop never ends on its own; it honours the deadline it is given."""

    name = "runaway"

    def supports(self, path: str, text: str) -> bool:
        return path.endswith(".py")

    def analyze(self, file: FileInput) -> list[Finding]:
        while True:
            file.deadline.check()

    def rule_ids(self) -> list[str]:
        return []


def test_a_runaway_analyzer_is_stopped_and_the_file_is_not_reviewed_and_the_review_is_incomplete() -> None:
    changes, repo = added_files({"app/a.py": "x = 1\n"})
    started = time.perf_counter()
    result = analyze_change(changes, repo, RepoConfig(), [Runaway()], budget=AnalysisBudget(file_seconds=0.2))
    assert time.perf_counter() - started < 2.0
    [cov] = result.coverage
    assert cov.status == CoverageStatus.skipped and cov.reason.startswith(TIME_BUDGET) and cov.incomplete
    review = assemble_review(changes, RepoConfig(), result)
    assert review.conclusion == Conclusion.neutral
    assert any("app/a.py" in n and TIME_BUDGET in n for n in review.notes)


def test_the_review_budget_stops_the_whole_static_step() -> None:
    changes, repo = added_files({f"app/m{i}.py": "x = 1\n" for i in range(5)})
    started = time.perf_counter()
    result = analyze_change(changes, repo, RepoConfig(), [Runaway()],
                            budget=AnalysisBudget(file_seconds=60, review_seconds=0.3))
    assert time.perf_counter() - started < 2.0
    assert [c.incomplete for c in result.coverage] == [True] * 5
    assert all(c.reason.startswith(TIME_BUDGET) for c in result.coverage)


def test_gate_incomplete_failure_fails_a_review_that_ran_out_of_time() -> None:
    config, errors = load_repo_config("gate:\n  incomplete: failure\n")
    assert errors == []
    changes, repo = added_files({"app/a.py": "x = 1\n"})
    result = analyze_change(changes, repo, config, [Runaway()], budget=AnalysisBudget(file_seconds=0.1))
    assert assemble_review(changes, config, result).conclusion == Conclusion.failure


def test_findings_from_a_file_that_ran_out_are_not_lost_from_other_analyzers() -> None:
    class Quick(Runaway):
        name = "quick"

        def analyze(self, file: FileInput) -> list[Finding]:
            return [Finding(id="SR-1", category=Category.other, severity=Severity.low, path=file.path,
                            start_line=1, end_line=1, title="t", evidence="e", risk="r", rollback="b", monitoring="m",
                            source="quick")]

    changes, repo = added_files({"app/a.py": "x = 1\n"})
    result = analyze_change(changes, repo, RepoConfig(), [Quick(), Runaway()], budget=AnalysisBudget(file_seconds=0.1))
    assert [f.id for f in result.findings] == ["SR-1"]
    assert result.coverage[0].incomplete


SAMPLES = {
    "app/views.py": "import requests\n\ndef f(u):\n    return requests.get(u)\n",
    "deploy/web.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  replicas: 1\n",
    "db/migrations/001_a.sql": "CREATE INDEX a ON t (x);\n",
    "alembic/versions/1_a.py": "from alembic import op\n\ndef upgrade():\n    op.create_index('a', 't', ['x'])\n",
    "db/migrate/1_a.rb": "class A < ActiveRecord::Migration[7.0]\n  def change\n    add_index :t, :x\n  end\nend\n",
    "migrations/1_a.js": "exports.up = (knex) => knex.schema.alterTable('t', (t) => { t.index('x') })\n",
    "Dockerfile": "FROM python:3.12\nCMD python manage.py runserver\n",
}


@pytest.mark.parametrize("path", sorted(SAMPLES))
def test_every_analyzer_that_reads_a_file_honours_its_deadline(path: str) -> None:
    changes, _ = added_files({path: SAMPLES[path]})
    file = FileInput(change=changes.files[0], text=SAMPLES[path])
    # the analyzers with work to do on this file (each sample gives its analyzer a finding)
    working = [a for a in default_analyzers() if a.supports(path, file.text) and a.analyze(file)]
    assert working, path
    for analyzer in working:
        with pytest.raises(DeadlineExceeded):
            analyzer.analyze(FileInput(change=file.change, text=file.text, deadline=Deadline(0.0)))
