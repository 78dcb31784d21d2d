"""`scale-review review` end to end on local git repositories: output formats, exit codes, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.support.gitrepo import GitRepo

VIEW_BASE = "from app.models import Order\n\n\ndef show(request, pk):\n    return Order.objects.get(pk=pk)\n"
VIEW_HEAD = (
    "import requests\n\nfrom app.models import Customer, Order\n\n\ndef show(request, pk):\n"
    "    return Order.objects.get(pk=pk)\n\n\n"
    "def export(request):\n"
    "    rows = []\n"
    "    for order in Order.objects.filter(paid=True):\n"
    "        rows.append(Customer.objects.get(pk=order.customer_id))\n"
    "    requests.post('https://hooks.example.com/x', json={'n': len(rows)})\n"
    "    return rows\n"
)


@pytest.fixture()
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "r")
    r.write("app/views.py", VIEW_BASE)
    r.write("README.md", "hello\n")
    r.commit("base")
    r.branch("feature")
    r.write("app/views.py", VIEW_HEAD)
    r.write("logo.png", b"\x89PNG\0\0binary")
    r.remove("README.md")
    r.commit("feature")
    return r


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["review", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_is_the_contract(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--repo", str(repo.root), "--base", "main", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["conclusion"] == "failure"
    assert set(data) >= {"conclusion", "summary", "findings", "stats"}
    keys = {"id", "category", "severity", "path", "start_line", "end_line", "title", "evidence", "risk",
            "suggestion", "rollback", "monitoring", "confidence", "source"}
    assert data["findings"] and all(keys <= set(f) for f in data["findings"])
    where = {(f["path"], f["start_line"], f["category"]) for f in data["findings"]}
    assert ("app/views.py", 13, "n_plus_one") in where
    assert ("app/views.py", 14, "missing_timeout") in where
    assert all(f["path"] == "app/views.py" and 10 <= f["start_line"] <= 15 for f in data["findings"])


def test_skipped_files_are_named_with_a_reason(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "--repo", str(repo.root), "--base", "main", "--format", "json")
    coverage = {c["path"]: c for c in json.loads(out)["coverage"]}
    assert coverage["logo.png"]["status"] == "skipped" and "binary" in coverage["logo.png"]["reason"]
    assert coverage["README.md"]["reason"] == "deleted"
    assert coverage["app/views.py"]["status"] == "reviewed"


def test_fail_on_critical_passes(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--repo", str(repo.root), "--base", "main", "--fail-on", "critical")
    assert code == 0
    assert "HTTP call without a timeout" in out


def test_config_at_base_disables_a_rule(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = repo.root / "cfg.yml"
    cfg.write_text("fail_on: critical\nrules:\n  py-http-no-timeout: off\n")
    code, out, _ = run_cli(capsys, "--repo", str(repo.root), "--base", "main", "--config", str(cfg), "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["conclusion"] == "success"
    assert "py-http-no-timeout" not in {f["source"] for f in data["findings"]}


def test_markdown_and_sarif(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    _, md, _ = run_cli(capsys, "--repo", str(repo.root), "--base", "main", "--format", "markdown")
    assert "merge blocked" in md and "app/views.py" in md
    _, sarif, _ = run_cli(capsys, "--repo", str(repo.root), "--base", "main", "--format", "sarif")
    doc = json.loads(sarif)
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    rule_ids = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} <= rule_ids


def test_clean_change_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = GitRepo(tmp_path / "clean")
    r.write("a.py", "x = 1\n")
    r.commit()
    r.write("a.py", "x = 2\n")
    r.commit()
    code, out, _ = run_cli(capsys, "--repo", str(r.root), "--base", "HEAD~1")
    assert code == 0 and "PASSED" in out.upper()


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda root, tmp: ["--repo", str(tmp), "--base", "main"], "not a git repository"),
        (lambda root, tmp: ["--repo", str(tmp / "missing"), "--base", "main"], "no such directory"),
        (lambda root, tmp: ["--repo", str(root), "--base", "no-such-ref"], "unknown revision: no-such-ref"),
        (lambda root, tmp: ["--repo", str(root), "--base", "main", "--config", str(tmp / "nope.yml")], "not found"),
        (lambda root, tmp: ["--repo", str(root), "--base", "main", "--config", str(tmp / "bad.yml")], "not valid YAML"),
        (lambda root, tmp: ["--repo", str(root), "--base", "main", "--config", str(tmp / "bin.yml")], "binary"),
        (lambda root, tmp: ["--repo", str(root), "--base", "main", "--config", str(tmp / "typo.yml")], "fail_on"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str], make_args, message: str
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "bad.yml").write_text("fail_on: [unclosed\n")
    (plain / "bin.yml").write_bytes(b"\0\1\2")
    (plain / "typo.yml").write_text("fail_on: catastrophic\n")
    code, out, err = run_cli(capsys, *make_args(repo.root, plain))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_installed_command_runs(repo: GitRepo) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "review", "--repo", str(repo.root), "--base", "main", "--format", "json"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["conclusion"] == "failure"


def test_ignore_at_base_keeps_a_finding_out_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = GitRepo(tmp_path / "ig")
    r.write("app/views.py", VIEW_BASE)
    r.write(".github/scale-review.yml", "ignore:\n  - rule: py-requests-no-timeout\n    path: 'app/**'\n"
                                        "    reason: the hook has its own deadline\n")
    r.commit("base")
    r.branch("feature")
    r.write("app/views.py", VIEW_HEAD)
    r.write(".github/scale-review.yml", "")  # the PR's own copy does not count: the base's does
    r.commit("feature")
    code, out, _ = run_cli(capsys, "--repo", str(r.root), "--base", "main", "--format", "json")
    data = json.loads(out)
    assert "py-requests-no-timeout" not in {f["source"] for f in data["findings"]}
    assert data["findings"] and data["stats"]["config_ignored"] == 1
    assert any("left out by `ignore:`" in n for n in data["notes"])
