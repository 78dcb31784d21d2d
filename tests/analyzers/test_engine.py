"""The analyzer engine: coverage for every file, overrides, and the same answer in parallel."""

from __future__ import annotations

from pathlib import Path

from bot.analyzers.engine import PARALLEL_MIN_FILES, analyze_change
from bot.core.diff import parse_diff
from bot.core.repo import LocalGitRepo
from bot.core.repo_config import load_repo_config
from bot.review.pipeline import builtin_analyzers
from tests.support.gitrepo import GitRepo

BAD = "import requests\n\n\ndef ping(n):\n    return requests.get('https://example.com/%d' % n)\n"


def _repo(tmp_path: Path, files: int) -> GitRepo:
    r = GitRepo(tmp_path / "r")
    r.write("README.md", "x\n")
    r.commit("base")
    for i in range(files):
        r.write(f"pkg/m{i:03d}.py", BAD.replace("ping", f"ping{i}"))
    r.write("vendor/lib.py", BAD)
    r.write("notes.txt", "plain text\n")
    r.commit("head")
    return r


def test_parallel_and_sequential_agree(tmp_path: Path) -> None:
    r = _repo(tmp_path, PARALLEL_MIN_FILES + 5)
    changes = parse_diff(r.git("diff", "HEAD~1", "HEAD"))
    config, _ = load_repo_config("paths:\n  exclude: ['vendor/**']\n")
    repo = LocalGitRepo(str(r.root))
    one = analyze_change(changes, repo, config, builtin_analyzers(), workers=1)
    two = analyze_change(changes, repo, config, builtin_analyzers(), workers=2)
    assert [f.id for f in one.findings] == [f.id for f in two.findings]
    assert one.coverage == two.coverage
    assert len(one.findings) == PARALLEL_MIN_FILES + 5  # one missing timeout per module, none in vendor/
    reasons = {c.path: c.reason for c in one.coverage if c.status == "skipped"}
    assert reasons["vendor/lib.py"].startswith("excluded by paths.exclude")
    assert reasons["notes.txt"] == "no analyzer for this file type"
    assert [c.path for c in one.coverage] == [f.path for f in changes.files]


def test_rule_override_and_disable(tmp_path: Path) -> None:
    r = _repo(tmp_path, 2)
    changes = parse_diff(r.git("diff", "HEAD~1", "HEAD"))
    repo = LocalGitRepo(str(r.root))
    config, errors = load_repo_config("rules:\n  py-requests-no-timeout: low\n")
    assert not errors
    found = analyze_change(changes, repo, config, builtin_analyzers()).findings
    assert found and {f.severity.value for f in found if f.source == "py-requests-no-timeout"} == {"low"}
    config, _ = load_repo_config("rules:\n  py-requests-no-timeout: off\n")
    assert not [f for f in analyze_change(changes, repo, config, builtin_analyzers()).findings
                if f.source == "py-requests-no-timeout"]


def test_suggestions_per_file_are_capped_but_findings_are_not(tmp_path: Path) -> None:
    from bot.analyzers.astgrep import MAX_SUGGESTIONS_PER_FILE, AstGrepAnalyzer
    from bot.analyzers.base import FileInput
    from tests.support.rules_harness import all_lines_added

    calls = "".join(f"def f{i}():\n    return requests.get('https://example.com/{i}')\n\n\n" for i in range(60))
    text = "import requests\n\n\n" + calls
    scanned = AstGrepAnalyzer.load_builtin().analyze(FileInput(change=all_lines_added("many.py", text), text=text))
    found = [f for f in scanned if f.source.startswith("py-requests-no-timeout")]
    assert len(found) == 60
    assert sum(f.suggestion is not None for f in found) == MAX_SUGGESTIONS_PER_FILE

    # the review folds the sixty into one comment that names the other lines
    r = GitRepo(tmp_path / "many")
    r.write("README.md", "x\n")
    r.commit("base")
    r.write("many.py", text)
    r.commit("head")
    changes = parse_diff(r.git("diff", "HEAD~1", "HEAD"))
    config, _ = load_repo_config(None)
    posted = [f for f in analyze_change(changes, LocalGitRepo(str(r.root)), config, builtin_analyzers()).findings
              if f.source.startswith("py-requests-no-timeout")]
    assert len(posted) == 1 and "(60 statements in all)" in posted[0].evidence


def test_a_file_no_analyzer_looked_at_is_not_reviewed(tmp_path: Path) -> None:
    r = GitRepo(tmp_path / "r")
    r.write("README.md", "x\n")
    r.commit("base")
    r.write("tests/test_orders.py", BAD)
    r.write("app/orders.py", BAD)
    r.commit("head")
    changes = parse_diff(r.git("diff", "HEAD~1", "HEAD"))
    result = analyze_change(changes, LocalGitRepo(str(r.root)), load_repo_config(None)[0], builtin_analyzers())
    status = {c.path: (c.status.value, c.reason) for c in result.coverage}
    assert status["tests/test_orders.py"] == ("skipped", "test code (test file name)")
    assert status["app/orders.py"][0] == "reviewed"
