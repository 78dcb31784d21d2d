"""`scale-review review --format json` on a real git repository: old problems the change merely touches are
listed under `pre_existing`, never in `findings`, and never fail the check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.support.gitrepo import GitRepo

BASE = (
    "import requests\n\n\n"
    "def notify(url, body):\n"
    "    return requests.post(\n"
    "        url,\n"
    "        json=body,\n"
    "    )\n"
)
TOUCHED = BASE.replace("        json=body,\n", "        json=body,\n        headers={'X-Source': 'shop'},\n")
DELETED_TIMEOUT = BASE.replace("        json=body,\n", "        json=body,\n        timeout=5,\n")


def _review(tmp_path: Path, capsys: pytest.CaptureFixture[str], before: str, after: str) -> tuple[int, dict]:
    repo = GitRepo(tmp_path / "r")
    repo.write("app/notify.py", before)
    repo.commit("base")
    repo.branch("feature")
    repo.write("app/notify.py", after)
    repo.commit("feature")
    code = main(["review", "--repo", str(repo.root), "--base", "main", "--format", "json"])
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def test_an_old_problem_in_a_touched_call_is_pre_existing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = _review(tmp_path, capsys, BASE, TOUCHED)
    assert code == 0 and data["conclusion"] == "success"
    assert data["findings"] == []
    [old] = data["pre_existing"]
    assert old["category"] == "missing_timeout" and old["path"] == "app/notify.py" and old["start_line"] == 5
    assert set(old) == set(data["pre_existing"][0]) and {"id", "severity", "source", "path_kind"} <= set(old)
    assert data["stats"]["pre_existing"] == 1
    assert "<details><summary>1 finding already at the base" in data["summary"]


def test_deleting_the_timeout_introduces_the_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = _review(tmp_path, capsys, DELETED_TIMEOUT, BASE)
    assert code == 1 and data["conclusion"] == "failure"
    assert [f["category"] for f in data["findings"]] == ["missing_timeout"] and data["pre_existing"] == []
    assert [c["status"] for c in data["coverage"]] == ["reviewed"]


def test_the_terminal_lists_what_was_already_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.write("app/notify.py", BASE)
    repo.commit("base")
    repo.branch("feature")
    repo.write("app/notify.py", TOUCHED)
    repo.commit("feature")
    code = main(["review", "--repo", str(repo.root), "--base", "main"])
    out, _ = capsys.readouterr()
    assert code == 0 and "Already at base (not gating): app/notify.py:5" in out
