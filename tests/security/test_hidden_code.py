"""Issue 14 item 4: code cannot be hidden from the review while the check passes. Hostile changes: the
code moved under a test-looking folder, a file padded past the line cap, a `.gitattributes` that marks
Python as binary, a file the analyzer declines (over its size cap). Each is either reviewed or makes
the review incomplete (neutral, or failure with `gate.incomplete: failure`), naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.analyzers import default_analyzers
from bot.analyzers.base import FileInput
from bot.analyzers.engine import MAX_CHANGED_LINES_PER_FILE, analyze_change
from bot.core.diff import parse_diff
from bot.core.model import Conclusion, CoverageStatus, Finding
from bot.core.repo_config import RepoConfig
from bot.review.local_review import review_local
from tests.support.gitrepo import GitRepo
from tests.support.memrepo import MemoryRepo, added_files

N_PLUS_ONE = (
    "from app.models import Customer\n\n\ndef export(orders):\n    rows = []\n    for order in orders:\n"
    "        rows.append(Customer.objects.get(pk=order.customer_id))\n    return rows\n"
)


def _repo(tmp_path: Path, config: str | None = None) -> GitRepo:
    g = GitRepo(tmp_path / "r")
    g.write("README.md", "x\n")
    if config is not None:
        g.write(".github/scale-review.yml", config)
    g.commit("base")
    g.branch("feature")
    return g


@pytest.mark.parametrize("folder", ["fixtures", "spec", "testing", "e2e", "tests/helpers", "testutil"])
def test_code_moved_under_a_test_looking_folder_is_still_reviewed(tmp_path: Path, folder: str) -> None:
    g = _repo(tmp_path)
    g.write(f"{folder}/export.py", N_PLUS_ONE)
    g.commit("hide")
    review = review_local(str(g.root), "main", "HEAD")
    assert [f.source for f in review.findings] == ["py-django-query-in-loop"]
    assert review.coverage[0].status == CoverageStatus.reviewed


def test_framework_named_test_files_and_configured_test_globs_are_skipped_without_making_it_incomplete(
    tmp_path: Path,
) -> None:
    g = _repo(tmp_path, "paths:\n  tests: ['qa/**']\n")
    g.write("app/test_export.py", N_PLUS_ONE)
    g.write("qa/export.py", N_PLUS_ONE)
    g.commit("tests")
    review = review_local(str(g.root), "main", "HEAD")
    assert review.findings == []
    assert {c.path: c.reason for c in review.coverage} == {
        "app/test_export.py": "test code (test file name)", "qa/export.py": "test code (paths.tests 'qa/**')"}
    assert review.conclusion == Conclusion.success


def test_a_file_padded_past_the_line_cap_makes_the_review_incomplete(tmp_path: Path) -> None:
    g = _repo(tmp_path)
    g.write("app/export.py", N_PLUS_ONE + "\n" * MAX_CHANGED_LINES_PER_FILE)
    g.commit("pad")
    review = review_local(str(g.root), "main", "HEAD")
    assert review.conclusion == Conclusion.neutral
    [cov] = review.coverage
    assert cov.status == CoverageStatus.skipped and cov.incomplete and "line cap" in cov.reason
    assert "app/export.py" in review.verdict


def test_gate_incomplete_failure_turns_the_padded_file_into_a_failure(tmp_path: Path) -> None:
    g = _repo(tmp_path, "gate:\n  incomplete: failure\n")
    g.write("app/export.py", N_PLUS_ONE + "\n" * MAX_CHANGED_LINES_PER_FILE)
    g.commit("pad")
    assert review_local(str(g.root), "main", "HEAD").conclusion == Conclusion.failure


def test_gitattributes_marking_python_as_binary_does_not_hide_it(tmp_path: Path) -> None:
    g = _repo(tmp_path)
    g.write(".gitattributes", "*.py -diff\n")
    g.write("app/export.py", N_PLUS_ONE)
    g.commit("binary?")
    review = review_local(str(g.root), "main", "HEAD")
    assert [f.source for f in review.findings] == ["py-django-query-in-loop"]


class Declines:
    """An analyzer with a size cap: a file over it is not read."""

    name = "capped"
    max_text_chars = 100

    def supports(self, path: str, text: str) -> bool:
        return True

    def analyze(self, file: FileInput) -> list[Finding]:
        return []

    def rule_ids(self) -> list[str]:
        return []


def test_a_file_an_analyzer_declines_is_never_called_reviewed() -> None:
    changes, repo = added_files({"app/big.py": "x = 1\n" * 50, "app/small.py": "x = 1\n"})
    result = analyze_change(changes, repo, RepoConfig(), [Declines()])
    cov = {c.path: c for c in result.coverage}
    assert cov["app/big.py"].status == CoverageStatus.skipped and cov["app/big.py"].incomplete
    assert "over its 100-character cap" in cov["app/big.py"].reason
    assert cov["app/small.py"].status == CoverageStatus.reviewed and not cov["app/small.py"].incomplete


def test_a_manifest_under_a_non_production_path_is_not_called_reviewed() -> None:
    manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n"
    changes, repo = added_files({"deploy/e2e/web.yaml": manifest})
    [cov] = analyze_change(changes, repo, RepoConfig(), default_analyzers()).coverage
    assert cov.status == CoverageStatus.skipped and "non-production path" in cov.reason


class Crashes(Declines):
    """An analyzer that fails on hostile input."""

    name = "crashes"
    max_text_chars = 10_000

    def analyze(self, file: FileInput) -> list[Finding]:
        raise RecursionError("nested too deep")


def test_a_file_an_analyzer_crashed_on_is_not_called_reviewed() -> None:
    changes, repo = added_files({"app/a.py": "x = 1\n"})
    result = analyze_change(changes, repo, RepoConfig(), [Crashes()])
    [cov] = result.coverage
    assert cov.status == CoverageStatus.skipped and cov.incomplete and "crashes failed" in cov.reason
    assert any("RecursionError" in e for e in result.errors)


def test_a_code_file_the_diff_shows_as_binary_makes_the_review_incomplete() -> None:
    """GitHub's diff honours `.gitattributes` too: code it shows as binary is read and, if an analyzer
    would read it, the review says it did not."""
    diff = ("diff --git a/app/export.py b/app/export.py\nnew file mode 100644\nindex 0000000..1111111\n"
            "Binary files /dev/null and b/app/export.py differ\n"
            "diff --git a/img/logo.png b/img/logo.png\nnew file mode 100644\nindex 0000000..2222222\n"
            "Binary files /dev/null and b/img/logo.png differ\n")
    repo = MemoryRepo({"app/export.py": N_PLUS_ONE, "img/logo.png": "\x89PNG\x00\x00"})
    coverage = {c.path: c for c in analyze_change(parse_diff(diff), repo, RepoConfig(), default_analyzers()).coverage}
    assert coverage["app/export.py"].incomplete
    assert not coverage["img/logo.png"].incomplete  # a real binary hides nothing


BROKEN_MANIFEST = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: [api\nspec:\n  replicas: 1\n"
GOOD_THEN_BROKEN = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 1\n  selector:\n"
    "    matchLabels: {app: api}\n  template:\n    spec:\n      containers:\n        - name: api\n"
    "          image: api:1\n---\nkind: [unclosed\n"
)


def test_a_manifest_that_does_not_parse_is_named_not_analysed_and_the_review_is_incomplete(tmp_path: Path) -> None:
    g = _repo(tmp_path)
    g.write("deploy/api.yaml", BROKEN_MANIFEST)
    g.commit("broken manifest")
    review = review_local(str(g.root), "main", "HEAD")
    [cov] = review.coverage
    assert cov.status == CoverageStatus.skipped and cov.incomplete
    assert cov.reason.startswith("not analysed: parse error: not valid YAML") and cov.reason.endswith("(kubernetes)")
    assert review.conclusion == Conclusion.neutral and "deploy/api.yaml" in review.verdict
    assert review.stats["files_reviewed"] == 0


def test_gate_incomplete_failure_fails_on_a_manifest_that_does_not_parse(tmp_path: Path) -> None:
    g = _repo(tmp_path, "gate:\n  incomplete: failure\n")
    g.write("deploy/api.yaml", BROKEN_MANIFEST)
    g.commit("broken manifest")
    assert review_local(str(g.root), "main", "HEAD").conclusion == Conclusion.failure


def test_a_malformed_document_after_a_good_one_keeps_its_findings_and_still_says_not_analysed(
    tmp_path: Path,
) -> None:
    g = _repo(tmp_path)
    g.write("deploy/api.yaml", GOOD_THEN_BROKEN)
    g.commit("half broken")
    review = review_local(str(g.root), "main", "HEAD")
    assert "k8s-single-replica" in {f.source for f in review.findings}
    [cov] = review.coverage
    assert cov.incomplete and cov.reason.startswith("not analysed: parse error") and cov.status != "reviewed"


@pytest.mark.parametrize(("module", "function", "path", "name"), [
    ("bot.analyzers.dockerfile", "parse_instructions", "Dockerfile", "dockerfile"),
    ("bot.analyzers.sql_migrations", "sql_file_hits", "db/migrations/0001_init.sql", "sql-migrations"),
])
def test_a_dockerfile_or_sql_parser_failure_is_not_counted_as_reviewed(
    monkeypatch: pytest.MonkeyPatch, module: str, function: str, path: str, name: str,
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RecursionError("too deep")

    monkeypatch.setattr(f"{module}.{function}", explode)
    changes, repo = added_files({path: "FROM python:3.12\nRUN pip install x\nCREATE INDEX i ON t (c);\n"})
    result = analyze_change(changes, repo, RepoConfig(), default_analyzers())
    [cov] = result.coverage
    assert cov.status == CoverageStatus.skipped and cov.incomplete
    assert cov.reason == f"not analysed: parse error (RecursionError) ({name})"
