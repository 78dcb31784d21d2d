"""Incremental reviews: only the commits since the last reviewed head, earlier findings carried forward."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.diff import parse_diff
from bot.core.model import Category, Finding, Severity
from bot.core.repo import LocalGitRepo
from bot.specialist.budget import Budget
from bot.specialist.loop import SpecialistRequest, carry_forward, run_specialist
from tests.support.fakemodel import FakeModel, Reply, tool
from tests.support.gitrepo import GitRepo

A = "".join(f"a_{i} = {i}\n" for i in range(1, 41))
B = "".join(f"b_{i} = {i}\n" for i in range(1, 41))


def old(path: str, line: int, source: str = "specialist", category: Category = Category.n_plus_one) -> Finding:
    return Finding(id=f"SR-{path}-{line}", category=category, severity=Severity.high, path=path, start_line=line,
                   end_line=line, title="t", evidence="e", risk="r", rollback="", monitoring="", source=source)


@pytest.fixture()
def pushes(tmp_path: Path) -> tuple[GitRepo, str, str]:
    """base -> first (reviewed: adds a.py, b.py, c.py) -> second (the push: edits b.py, deletes c.py)."""
    g = GitRepo(tmp_path / "r")
    g.write("README.md", "shop\n")
    g.commit("base")
    g.write("a.py", A)
    g.write("b.py", B)
    g.write("c.py", "c = 1\n")
    first = g.commit("first reviewed head")
    g.write("b.py", "import os\nimport sys\nimport re\n" + B.replace("b_20 = 20\n", "b_20 = 2000\n"))
    g.remove("c.py")
    second = g.commit("follow-up push")
    return g, first, second


def follow_up_diff(g: GitRepo, first: str, second: str) -> str:
    return subprocess.run(["git", "-C", str(g.root), "diff", f"{first}..{second}"], capture_output=True,
                          check=True).stdout.decode()


def pr_diff(g: GitRepo, head: str) -> str:
    """The pull request's whole diff: from the base commit (the first one) to `head`."""
    root = subprocess.run(["git", "-C", str(g.root), "rev-list", "--max-parents=0", head], capture_output=True,
                          check=True).stdout.decode().split()[0]
    return follow_up_diff(g, root, head)


def test_findings_on_unchanged_lines_are_kept_and_renumbered(pushes: tuple[GitRepo, str, str]) -> None:
    g, first, second = pushes
    changes = parse_diff(follow_up_diff(g, first, second))
    previous = [old("a.py", 10), old("b.py", 35), old("b.py", 20), old("c.py", 1), old("a.py", 12, source="py-rule")]
    kept = carry_forward(previous, changes)
    assert [(f.path, f.start_line, f.id) for f in kept] == [("a.py", 10, "SR-a.py-10"), ("b.py", 38, "SR-b.py-35")]


def test_an_incremental_review_sends_only_the_new_commits_and_keeps_earlier_findings(
    pushes: tuple[GitRepo, str, str],
) -> None:
    g, first, second = pushes
    diff = follow_up_diff(g, first, second)
    fake = FakeModel([Reply([tool("finish_review", summary="nothing new")])])
    previous = [old("a.py", 10), old("b.py", 35), old("gone.py", 3)]
    req = SpecialistRequest(diff=diff, since=first, previous_findings=previous)
    result = run_specialist(req, client=fake.client(), repo=LocalGitRepo(str(g.root), second),
                            changes=parse_diff(pr_diff(g, second)), budget=Budget())
    task = fake.requests[0]["messages"][0]["content"][0]["text"]
    assert f"since the last reviewed head\n({first})" in task
    assert "- a.py:10-10 n_plus_one: t" in task and "diff --git a/a.py" not in task
    assert [(f.path, f.start_line) for f in result.findings] == [("a.py", 10), ("b.py", 38)]
    assert any("2 earlier specialist finding(s) kept" in n for n in result.notes)
    # a finding on a file the pull request no longer changes is not carried into the gate
    assert any("1 earlier specialist finding(s) no longer apply" in n and "gone.py:3-3" in n for n in result.notes)
    assert result.prompts["scope"] == "scalability-architect.scope-incremental@2"
    assert result.since == first and result.carried == 2 and result.complete
    assert result.stats()["specialist"]["scope"] == "incremental"


def test_carried_findings_repeating_an_analyzers_or_on_lines_the_push_touched_are_dropped(
    pushes: tuple[GitRepo, str, str],
) -> None:
    g, first, second = pushes
    diff = follow_up_diff(g, first, second)
    analyzer = old("a.py", 10, source="py-rule").model_copy(update={"id": "PY-1"})
    fake = FakeModel([Reply([tool("report_finding", category="n_plus_one", severity="high", path="b.py",
                                  start_line=23, end_line=23, title="b_20 grew", evidence="b.py:23",
                                  risk="r", rollback="revert", monitoring="m"),
                             tool("finish_review", summary="one new")])])
    req = SpecialistRequest(diff=diff, since=first, candidates=[analyzer],
                            previous_findings=[old("a.py", 10), old("b.py", 18).model_copy(update={"end_line": 40})])
    result = run_specialist(req, client=fake.client(), repo=LocalGitRepo(str(g.root), second),
                            changes=parse_diff(pr_diff(g, second)), budget=Budget())
    # a.py:10 now repeats the analyzer's finding; b.py:18-40 spans the edited line 20
    assert [(f.path, f.start_line, f.title) for f in result.findings] == [("b.py", 23, "b_20 grew")]
    assert result.carried == 0


def test_a_push_that_changes_none_of_the_pull_requests_files_calls_no_model(
    pushes: tuple[GitRepo, str, str],
) -> None:
    g, first, second = pushes
    fake = FakeModel([])
    req = SpecialistRequest(diff="", since=second, previous_findings=[old("a.py", 10)])
    result = run_specialist(req, client=fake.client(), repo=LocalGitRepo(str(g.root), second),
                            changes=parse_diff(pr_diff(g, second)), budget=Budget())
    assert fake.calls == 0
    assert result.complete and result.stop_reason == "nothing_new"
    assert [(f.path, f.start_line) for f in result.findings] == [("a.py", 10)]


def _diff(old_text: str, new_text: str, context: int) -> str:
    import difflib

    lines = difflib.unified_diff(old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                 "a/f.py", "b/f.py", n=context)
    return "diff --git a/f.py b/f.py\n" + "".join(lines)


edits = st.lists(st.tuples(st.integers(0, 59), st.integers(0, 4), st.integers(0, 4)), max_size=4)
spans = st.lists(st.tuples(st.integers(1, 60), st.integers(0, 5)), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(edits=edits, spans=spans, context=st.integers(0, 3))
def test_carried_findings_point_at_the_same_code_after_any_edit(
    edits: list[tuple[int, int, int]], spans: list[tuple[int, int]], context: int
) -> None:
    old_lines = [f"line_{i} = {i}\n" for i in range(1, 61)]
    new_lines = list(old_lines)
    for at, removed, added in sorted(edits, reverse=True):  # edit from the bottom so positions stay valid
        new_lines[at:at + removed] = [f"new_{at}_{k} = 0\n" for k in range(added)]
    diff = _diff("".join(old_lines), "".join(new_lines), context)
    previous = [old("f.py", s).model_copy(update={"id": f"SR-{n}", "end_line": min(60, s + length)})
                for n, (s, length) in enumerate(spans)]
    for f in carry_forward(previous, parse_diff(diff)):
        before = next(p for p in previous if p.id == f.id)
        assert new_lines[f.start_line - 1 : f.end_line] == old_lines[before.start_line - 1 : before.end_line]
