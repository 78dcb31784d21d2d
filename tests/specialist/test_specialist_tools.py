"""The specialist's tools: confined to the snapshot, capped, and every failure an is_error result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.repo import LocalGitRepo
from bot.specialist.tools import MAX_OUTPUT_CHARS, ToolContext, run_tool, tool_definitions
from tests.support.specialist_repo import QUERY_LINE, Change, line_of, make_change, tool_context


@pytest.fixture()
def change(tmp_path: Path) -> Change:
    return make_change(tmp_path / "repo")


@pytest.fixture()
def ctx(change: Change) -> ToolContext:
    return tool_context(change)


def test_read_file_numbers_lines_and_records_the_read(ctx: ToolContext) -> None:
    out = run_tool(ctx, "read_file", {"path": "app/orders.py", "start_line": 12, "end_line": 14})
    assert not out.is_error
    assert "   12 | def order_totals(user_ids):" in out.content
    assert "   11 |" not in out.content and "   15 |" not in out.content
    assert ctx.reads == {"app/orders.py": [[12, 14]]}


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../../etc/passwd", "outside the repository"),
        ("/etc/passwd", "absolute"),
        (".env", "secrets"),
        ("app/passwd_link", "outside the repository"),
        ("app/up_link", "outside the repository"),
        ("assets/logo.png", "binary"),
        ("app/nope.py", "no such file"),
        (".git/config", ".git"),
    ],
)
def test_hostile_reads_come_back_as_errors(ctx: ToolContext, path: str, why: str) -> None:
    out = run_tool(ctx, "read_file", {"path": path})
    assert out.is_error
    assert why in out.content
    assert "hunter2" not in out.content and "root:" not in out.content
    assert ctx.reads == {}


def test_read_many_files_reports_each_refusal_inline(ctx: ToolContext) -> None:
    out = run_tool(ctx, "read_many_files", {"paths": ["app/db.py", ".env", "../x"]})
    assert not out.is_error
    assert "session = None" in out.content
    assert ".env: error: .env: secrets files are never read" in out.content
    assert "hunter2" not in out.content
    assert set(ctx.reads) == {"app/db.py"}


def test_listing_hides_secrets(ctx: ToolContext) -> None:
    listed = run_tool(ctx, "find_files", {"glob": "*"}).content
    assert "app/orders.py" in listed and ".env" not in listed.split()
    folder = run_tool(ctx, "read_folder", {"path": ""}).content
    assert "app/" in folder and ".env" not in folder


def test_huge_output_is_capped_with_a_continuation_hint(tmp_path: Path) -> None:
    from tests.support.gitrepo import GitRepo

    g = GitRepo(tmp_path / "big")
    g.write("big.py", "".join(f"x_{i} = {i}  # padding padding padding\n" for i in range(5000)))
    g.commit("base")
    ctx = ToolContext(repo=LocalGitRepo(str(g.root)), shown={})
    out = run_tool(ctx, "read_file", {"path": "big.py"})
    assert not out.is_error
    assert len(out.content) <= MAX_OUTPUT_CHARS + 200
    assert "continue with start_line=" in out.content
    last = ctx.reads["big.py"][0][1]
    assert f"start_line={last + 1}" in out.content


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("read_file", {"path": 7}, "invalid input for read_file"),
        ("read_file", {"path": "app/db.py", "start_line": 0}, "start_line"),
        ("read_file", {"path": "app/db.py", "mode": "w"}, "mode"),
        ("read_file", "not an object", "invalid input"),
        ("read_many_files", {"paths": []}, "paths"),
        ("search_text", {"pattern": "("}, "invalid regular expression"),
        ("write_file", {"path": "x"}, "unknown tool 'write_file'"),
        ("approve_pull_request", {}, "unknown tool"),
    ],
)
def test_malformed_calls_are_errors_not_exceptions(ctx: ToolContext, name: str, args: object, expected: str) -> None:
    out = run_tool(ctx, name, args)
    assert out.is_error
    assert expected in out.content


def test_search_text_finds_lines(ctx: ToolContext) -> None:
    out = run_tool(ctx, "search_text", {"pattern": r"session\.query", "glob": "**/*.py"})
    n = line_of(QUERY_LINE)
    assert f"app/orders.py:{n}:" in out.content
    assert run_tool(ctx, "search_text", {"pattern": "hunter2"}).content == "no matches"


def test_report_finding_outside_the_diff_is_refused_with_the_shown_ranges(ctx: ToolContext) -> None:
    base = {"category": "n_plus_one", "severity": "high", "title": "t", "evidence": "e", "risk": "r"}
    out = run_tool(ctx, "report_finding", {**base, "path": "app/db.py", "start_line": 1, "end_line": 1})
    assert out.is_error and "not a file of this change" in out.content
    out = run_tool(ctx, "report_finding", {**base, "path": "app/orders.py", "start_line": 400, "end_line": 401})
    assert out.is_error and "Shown ranges of app/orders.py" in out.content
    out = run_tool(ctx, "report_finding", {**base, "path": "app/orders.py", "start_line": 15, "end_line": 15})
    assert not out.is_error
    assert ctx.reported[0]["path"] == "app/orders.py"


def test_plan_and_finish_are_recorded(ctx: ToolContext) -> None:
    assert run_tool(ctx, "update_plan", {"steps": [{"step": "read orders", "status": "in_progress"}]}).content
    assert ctx.plan == [{"step": "read orders", "status": "in_progress"}]
    run_tool(ctx, "finish_review", {"summary": "ok", "assumptions": ["small tables"]})
    assert ctx.finished is not None and ctx.finished["assumptions"] == ["small tables"]


def test_tool_schemas_are_self_contained_and_match_the_contract() -> None:
    defs = {d["name"]: d for d in tool_definitions()}
    assert set(defs) == {"find_files", "read_folder", "read_file", "read_many_files", "search_text",
                         "update_plan", "report_finding", "judge_finding", "finish_review", "answer_in_thread"}
    assert "$ref" not in json.dumps(defs) and "$defs" not in json.dumps(defs)
    finding = defs["report_finding"]["input_schema"]["properties"]
    for key in ("category", "severity", "path", "start_line", "end_line", "title", "evidence", "risk",
                "suggestion", "advice", "rollback", "monitoring", "confidence", "handoff"):
        assert key in finding
    assert "source" not in finding and "id" not in finding  # the model cannot choose them
    assert "n_plus_one" in finding["category"]["enum"]
    assert set(defs["finish_review"]["input_schema"]["properties"]) == {
        "summary", "assumptions", "questions", "handoffs", "rollback_plan", "monitoring_plan"}
    judge = defs["judge_finding"]["input_schema"]
    assert set(judge["properties"]) == set(judge["required"]) == {"id", "verdict", "reason"}
    assert judge["properties"]["verdict"]["enum"] == ["confirm", "dismiss"]
    assert judge["properties"]["reason"]["maxLength"] == 500 and judge["additionalProperties"] is False


def test_a_minified_line_is_cut_so_reading_always_progresses(tmp_path: Path) -> None:
    from tests.support.gitrepo import GitRepo

    g = GitRepo(tmp_path / "min")
    g.write("app.min.js", ("var a=1;" * 10_000 + "\n") * 3)
    g.commit("base")
    ctx = ToolContext(repo=LocalGitRepo(str(g.root)), shown={})
    out = run_tool(ctx, "read_file", {"path": "app.min.js"})
    assert "[line cut]" in out.content
    assert ctx.reads["app.min.js"] == [[1, 3]]


@pytest.mark.parametrize("pattern", ["(a+)+$", "(x*)*y", "(ab|c+){2,}"])
def test_runaway_regular_expressions_are_refused(ctx: ToolContext, pattern: str) -> None:
    out = run_tool(ctx, "search_text", {"pattern": pattern})
    assert out.is_error and "can run forever" in out.content
