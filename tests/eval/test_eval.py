"""`scale-review eval` end to end on tiny synthetic mirrors: build, review, score, report. No network."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.model import Category, Finding, Review, Severity
from bot.eval.build import CaseBuildError, CaseSkipped, build_case
from bot.eval.cases import Case, Location, load_cases
from bot.eval.run import (
    MODE_LLM,
    MODE_NO_MODEL,
    covered_by,
    covered_pairs,
    evaluate_case,
    review_with_local,
    run_cases,
    run_mode,
)
from bot.eval.score import Status
from tests.support.gitrepo import GitRepo

CLIENT_BAD = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
CLIENT_GOOD = "import requests\n\n\ndef fetch(url):\n    return requests.get(url, timeout=10)\n"
LEGACY = "import requests\n\n\ndef ping(url):\n    requests.post(url, data={})\n"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A source repo with three 'fixes', mirrored bare as acme+shop, and a non-bare mirror acme+loose."""
    tmp = tmp_path_factory.mktemp("eval")
    src = GitRepo(tmp / "src")
    src.write("app/client.py", CLIENT_BAD)
    src.write("app/legacy.py", LEGACY)
    src.write("README.md", "Teh shop\n")
    src.commit("start")
    src.write("app/client.py", CLIENT_GOOD)
    fix_timeout = src.commit("add a timeout")
    src.write("README.md", "The shop\n")
    fix_typo = src.commit("typo")
    src.remove("app/legacy.py")
    src.write("app/new.py", "X = 1\n")
    fix_drop = src.commit("drop the legacy module")
    mirrors = tmp / "mirrors"
    subprocess.run(["git", "clone", "-q", "--bare", str(src.root), str(mirrors / "acme+shop" / "repo")], check=True)
    loose = GitRepo(mirrors / "acme+loose" / "repo")
    loose.write("svc.py", CLIENT_BAD)
    loose.commit("start")
    loose.write("svc.py", CLIENT_GOOD)
    fix_loose = loose.commit("timeout")
    cases = [
        case_line("pos-timeout", fix_timeout, [("app/client.py", 5, 5)], "missing_timeout"),
        case_line("pos-elsewhere", fix_timeout, [("app/other.py", 1, 3)], "missing_timeout"),
        case_line("neg-typo", fix_typo, [], "other", kind="negative"),
        case_line("neg-drop", fix_drop, [], "other", kind="negative"),
        case_line("pos-nomirror", fix_timeout, [("app/client.py", 5, 5)], "missing_timeout", repo="ghost/repo"),
        case_line("pos-badcommit", "c" * 40, [("app/client.py", 5, 5)], "missing_timeout"),
    ]
    (tmp / "cases.jsonl").write_text("\n".join(cases) + "\n")
    return {
        "tmp": str(tmp),
        "mirrors": str(mirrors),
        "cases": str(tmp / "cases.jsonl"),
        "fix_drop": fix_drop,
        "fix_timeout": fix_timeout,
        "fix_loose": fix_loose,
        "loose": str(loose.root),
    }


def case_line(
    id_: str,
    fix: str,
    locs: list[tuple[str, int, int]],
    category: str,
    *,
    kind: str = "positive",
    repo: str = "acme/shop",
) -> str:
    return json.dumps(
        {
            "id": id_,
            "repo": repo,
            "fix_commit": fix,
            "parent": "",
            "kind": kind,
            "category": category,
            "language": "python",
            "summary": "s",
            "anti_pattern_locations": [{"path": p, "start_line": a, "end_line": b} for p, a, b in locs],
        }
    )


def get_case(world: dict[str, str], id_: str) -> Case:
    return next(c for c in load_cases(world["cases"]) if c.id == id_)


def test_build_restores_the_parent_version_of_every_touched_file(world, tmp_path) -> None:
    built = build_case(get_case(world, "neg-drop"), world["mirrors"], tmp_path)
    mirror = Path(world["mirrors"]) / "acme+shop" / "repo"
    assert built.base == world["fix_drop"]
    assert git(Path(built.repo_path), "rev-parse", f"{built.head}^") == built.base
    assert git(Path(built.repo_path), "rev-parse", f"{built.head}^{{tree}}") == git(
        mirror, "rev-parse", f"{built.base}^^{{tree}}"
    )
    files = git(Path(built.repo_path), "ls-tree", "-r", "--name-only", built.head).split()
    assert "app/legacy.py" in files and "app/new.py" not in files  # deleted file back, added file gone
    assert built.touched == 2 and built.absent == ()
    alternates = Path(built.repo_path, ".git", "objects", "info", "alternates").read_text().strip()
    assert Path(alternates).resolve() == (mirror / "objects").resolve()  # borrows, does not copy


def test_build_without_a_mirror_or_without_the_commit_is_skipped(world, tmp_path) -> None:
    with pytest.raises(CaseSkipped, match="mirror not found"):
        build_case(get_case(world, "pos-nomirror"), world["mirrors"], tmp_path / "a")
    with pytest.raises(CaseSkipped, match="not in the mirror"):
        build_case(get_case(world, "pos-badcommit"), world["mirrors"], tmp_path / "b")


def test_the_parent_named_by_the_case_must_match(world, tmp_path) -> None:
    c = get_case(world, "pos-timeout")
    wrong = Case(c.id, c.repo, c.fix_commit, "f" * 40, c.kind, c.category, c.language, c.locations)
    with pytest.raises(CaseBuildError, match="parent"):
        build_case(wrong, world["mirrors"], tmp_path)


def test_blobs_absent_from_a_snapshot_are_reported_and_the_case_is_an_error_not_a_miss(world, tmp_path) -> None:
    loose = Path(world["loose"])
    sha = git(loose, "rev-parse", f"{world['fix_loose']}^:svc.py")
    obj = loose / ".git" / "objects" / sha[:2] / sha[2:]
    backup = obj.read_bytes()
    obj.chmod(0o644)
    obj.unlink()
    try:
        c = Case(
            "loose",
            "acme/loose",
            world["fix_loose"],
            "",
            "positive",
            "missing_timeout",
            "python",
            (Location("svc.py", 5, 5),),
        )
        built = build_case(c, world["mirrors"], tmp_path / "x")
        assert built.absent == ("svc.py",)
        result = evaluate_case(c, world["mirrors"], review_with_local(), str(tmp_path))
        assert result.status == Status.error and result.reason.startswith("review failed")
    finally:
        obj.write_bytes(backup)


def test_evaluation_with_the_real_review_scores_every_kind_of_case(world, tmp_path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    results = {
        r.case.id: r
        for r in run_cases(load_cases(world["cases"]), world["mirrors"], review_with_local(), scratch_root=str(scratch))
    }
    assert results["pos-timeout"].status == Status.found
    assert results["pos-timeout"].category_agrees
    assert results["pos-elsewhere"].status == Status.missed
    assert [h.path for h in results["pos-elsewhere"].outside] == ["app/client.py"]  # listed for reading
    assert results["neg-typo"].status == Status.clean
    assert results["neg-drop"].status == Status.false_alarm
    assert results["neg-drop"].outside[0].path == "app/legacy.py"
    assert results["pos-nomirror"].status == Status.skipped
    assert results["pos-badcommit"].status == Status.skipped
    assert list(scratch.iterdir()) == []  # scratch repositories are cleaned up


def test_a_crashing_review_is_reported_as_that_case_error(world) -> None:
    def boom(repo: str, base: str, head: str) -> Review:
        raise RuntimeError("analyzer exploded")

    r = evaluate_case(get_case(world, "pos-timeout"), world["mirrors"], boom)
    assert r.status == Status.error and "RuntimeError: analyzer exploded" in r.reason


def test_cli_writes_json_with_every_status(world, tmp_path) -> None:
    out = tmp_path / "report.json"
    code = main(
        [
            "eval",
            "--cases",
            world["cases"],
            "--mirrors",
            world["mirrors"],
            "--format",
            "json",
            "--output",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    statuses = {c["id"]: c["status"] for c in doc["cases"]}
    assert statuses == {
        "pos-timeout": "found",
        "pos-elsewhere": "missed",
        "neg-typo": "clean",
        "neg-drop": "false_alarm",
        "pos-nomirror": "skipped",
        "pos-badcommit": "skipped",
    }
    assert doc["summary"]["recall"] == 0.5 and doc["summary"]["false_alarms_per_negative"] == 0.5
    assert doc["summary"]["counts"]["skipped"] == 2
    covered = {c["id"]: c["covered"] for c in doc["cases"]}
    assert covered["pos-timeout"] is True and covered["neg-typo"] is None  # the pack has python timeout rules


def test_cli_html_and_only(world, capsys) -> None:
    code = main(
        ["eval", "--cases", world["cases"], "--mirrors", world["mirrors"], "--only", "pos-timeout", "--format", "html"]
    )
    captured = capsys.readouterr()
    assert code == 0 and captured.out.startswith("<!DOCTYPE html>") and "<svg" in captured.out
    assert "[1/1] pos-timeout: found" in captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "nope"], "unknown case id(s): nope"),
        (["--only", "neg-typo", "--output", "/nonexistent-dir/report.txt"], "cannot write the report to"),
        (["--mirrors-missing"], "mirrors folder not found"),
    ],
)
def test_cli_usage_errors_exit_2_with_one_line(world, tmp_path, capsys, args: list[str], message: str) -> None:
    mirrors = str(tmp_path / "absent") if args == ["--mirrors-missing"] else world["mirrors"]
    extra = [] if args == ["--mirrors-missing"] else args
    assert main(["eval", "--cases", world["cases"], "--mirrors", mirrors, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_covered_pairs_come_from_the_rules_category_and_language() -> None:
    class Rule:
        def __init__(self, category: Category, languages: tuple[str, ...]) -> None:
            self.category, self.languages = category, languages

    class Analyzer:
        rules = [Rule(Category.n_plus_one, ("python",)), Rule(Category.missing_timeout, ("tsx",))]

    is_covered = covered_by(covered_pairs([Analyzer()]))
    mk = lambda cat, lang: Case("x", "a/b", "f", "", "positive", cat, lang, (Location("a", 1, 1),))  # noqa: E731
    assert is_covered(mk("n_plus_one", "python")) and not is_covered(mk("n_plus_one", "ruby"))
    assert is_covered(mk("missing_timeout", "typescript"))


def test_a_review_that_ran_the_specialist_is_reported_as_such(world) -> None:
    finding = Finding(
        id="SR-1",
        category=Category.missing_timeout,
        severity=Severity.high,
        path="app/client.py",
        start_line=8,
        end_line=8,
        title="t",
        evidence="e",
        risk="r",
        rollback="b",
        monitoring="m",
        source="specialist",
    )

    def fake(repo: str, base: str, head: str) -> Review:
        return Review(findings=[finding], stats={"mode": "static+specialist"})

    r = evaluate_case(get_case(world, "pos-timeout"), world["mirrors"], fake)
    assert r.status == Status.found and r.build_seconds > 0  # line 8 is 5 + 3: inside the tolerance
    assert run_mode([r], llm_requested=True) == MODE_LLM


def test_llm_requested_without_a_model_says_static_only(world, capsys, monkeypatch) -> None:
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SCALE_REVIEW_PROVIDER", "anthropic")
    code = main(
        ["eval", "--cases", world["cases"], "--mirrors", world["mirrors"], "--only", "pos-timeout", "--llm", "--quiet"]
    )
    out = capsys.readouterr().out
    assert code == 0 and MODE_NO_MODEL in out


def test_the_head_commit_message_does_not_give_the_answer_away(world, tmp_path) -> None:
    built = build_case(get_case(world, "neg-drop"), world["mirrors"], tmp_path)
    message = git(Path(built.repo_path), "log", "-1", "--format=%B", built.head)
    assert "revert" not in message.lower() and "fix" not in message.lower()
    assert message.startswith("Update app/")
