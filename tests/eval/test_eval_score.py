"""Scoring and the cases file: what counts as found, missed, a false alarm; what a bad line says."""

from __future__ import annotations

import json

import pytest

from bot.core.model import Category, Finding, Severity
from bot.eval.cases import Case, CaseFileError, Location, load_cases, select_cases
from bot.eval.html import render_html
from bot.eval.report import RunInfo, render_json, render_text
from bot.eval.score import Status, score_case, summarize, unevaluated

INFO = RunInfo("cases.jsonl", "/mirrors", "static analyzers", 1.0)


def case(
    id_: str = "c1",
    *,
    kind: str = "positive",
    category: str = "n_plus_one",
    language: str = "python",
    locations: tuple[Location, ...] = (Location("app/views.py", 10, 12),),
) -> Case:
    return Case(
        id_,
        "acme/shop",
        "a" * 40,
        "b" * 40,
        kind,
        category,
        language,
        locations if kind == "positive" else (),
        "summary",
    )


def finding(
    path: str = "app/views.py",
    start: int = 10,
    end: int | None = None,
    category: Category = Category.n_plus_one,
    title: str = "query in a loop",
) -> Finding:
    return Finding(
        id="SR-x",
        category=category,
        severity=Severity.high,
        path=path,
        start_line=start,
        end_line=end or start,
        title=title,
        evidence="e",
        risk="r",
        rollback="b",
        monitoring="m",
        source="py-rule",
    )


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        (10, 10, Status.found),
        (13, 15, Status.found),  # starts 1 after the range
        (15, 15, Status.found),  # 3 lines after the end: inside the tolerance
        (16, 20, Status.missed),  # 4 lines after the end
        (7, 7, Status.found),  # 3 lines before the start
        (1, 6, Status.missed),  # ends 4 lines before the start
        (1, 40, Status.found),  # a wide finding spanning the range
    ],
)
def test_found_within_three_lines_of_a_labelled_range(start: int, end: int, status: Status) -> None:
    assert score_case(case(), [finding(start=start, end=end)]).status == status


def test_a_grouped_comment_finds_a_range_one_of_its_other_lines_falls_in() -> None:
    grouped = finding(start=40).model_copy(update={"also_at": (11, 70)})
    assert score_case(case(), [grouped]).status == Status.found
    assert score_case(case(), [finding(start=40).model_copy(update={"also_at": (70,)})]).status == Status.missed


def test_a_finding_in_another_file_is_not_a_hit_but_is_listed_for_reading() -> None:
    r = score_case(case(), [finding(path="app/other.py", start=10)])
    assert r.status == Status.missed
    assert [h.path for h in r.outside] == ["app/other.py"]


def test_category_agreement_is_reported_separately_from_found() -> None:
    wrong = score_case(case(), [finding(category=Category.missing_timeout)])
    right = score_case(case(), [finding(category=Category.n_plus_one)])
    assert wrong.status == right.status == Status.found
    assert not wrong.category_agrees and right.category_agrees


def test_counts_each_labelled_location_found() -> None:
    c = case(locations=(Location("a.py", 10, 10), Location("b.py", 50, 60)))
    r = score_case(c, [finding(path="b.py", start=55)])
    assert r.status == Status.found and r.locations_found == 1


def test_every_finding_on_a_negative_case_is_a_false_alarm() -> None:
    neg = case("n1", kind="negative", category="other")
    assert score_case(neg, []).status == Status.clean
    r = score_case(neg, [finding(), finding(path="x.py")])
    assert r.status == Status.false_alarm and len(r.outside) == 2


def test_summary_recall_per_category_and_language_ignores_skipped_and_errors() -> None:
    results = [
        score_case(case("p1"), [finding()]),
        score_case(case("p2"), []),
        score_case(case("p3", category="missing_timeout", language="go"), [finding(category=Category.missing_timeout)]),
        unevaluated(case("p4"), Status.skipped, "mirror not found: /m/acme+shop/repo"),
        unevaluated(case("p5"), Status.error, "review failed: boom"),
        score_case(case("n1", kind="negative", category="other"), [finding(), finding(path="y.py")]),
        score_case(case("n2", kind="negative", category="other"), []),
    ]
    s = summarize(results, is_covered=lambda c: c.category == "n_plus_one")
    assert (s.overall.found, s.overall.positives) == (2, 3)
    assert s.by_category["n_plus_one"].recall == 0.5
    assert s.by_category["missing_timeout"].recall == 1.0
    assert s.by_language["go"].positives == 1 and s.by_language["python"].positives == 2
    assert s.covered is not None and (s.covered.found, s.covered.positives) == (1, 2)
    assert (s.negatives, s.false_alarms, s.false_alarms_per_negative) == (2, 2, 1.0)
    assert s.counts["skipped"] == 1 and s.counts["error"] == 1


def test_reports_show_skipped_cases_as_skipped_not_missed() -> None:
    results = [unevaluated(case("p4"), Status.skipped, "mirror not found: /m/acme+shop/repo")]
    s = summarize(results)
    text = render_text(results, s, INFO)
    assert "1 skipped" in text and "p4" in text and "skipped" in text
    assert "Recall: 0/0 (n/a)" in text
    doc = json.loads(render_json(results, s, INFO))
    assert doc["cases"][0]["status"] == "skipped" and doc["summary"]["recall"] is None


def test_json_report_carries_per_case_hits_and_summary() -> None:
    results = [score_case(case("p1"), [finding(), finding(path="z.py")])]
    doc = json.loads(render_json(results, summarize(results), INFO))
    c = doc["cases"][0]
    assert c["status"] == "found" and c["matched"][0]["start_line"] == 10 and c["outside"][0]["path"] == "z.py"
    assert doc["summary"]["by_category"]["n_plus_one"]["recall"] == 1.0


def test_html_report_escapes_hostile_finding_text_and_draws_bars() -> None:
    hostile = "<script>alert(1)</script>"
    results = [score_case(case("p1", category="<img src=x>"), [finding(path="a<b>.py", title=hostile)])]
    page = render_html(results, summarize(results), INFO)
    assert "<script>" not in page and "<img src=x>" not in page
    assert "&lt;script&gt;" in page and "<svg" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no external assets


def write_cases(tmp_path, lines: list[str]):
    p = tmp_path / "cases.jsonl"
    p.write_text("\n".join(lines) + "\n")
    return p


GOOD = json.dumps(
    {
        "id": "c1",
        "repo": "acme/shop",
        "fix_commit": "a" * 40,
        "parent": "b" * 40,
        "kind": "positive",
        "category": "n_plus_one",
        "language": "python",
        "summary": "s",
        "anti_pattern_locations": [{"path": "a.py", "start_line": 1, "end_line": 2}],
    }
)


def test_load_cases_reads_the_shared_format(tmp_path) -> None:
    cases = load_cases(write_cases(tmp_path, ["\ufeff" + GOOD, ""]))  # a byte-order mark is tolerated
    assert cases[0].locations == (Location("a.py", 1, 2),) and cases[0].mirror_name == "acme+shop"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", ":1: "),
        (json.dumps({**json.loads(GOOD), "kind": "maybe"}), "'kind' must be one of"),
        (json.dumps({**json.loads(GOOD), "anti_pattern_locations": []}), "needs at least one"),
        (json.dumps({**json.loads(GOOD), "repo": "../../etc"}), "owner/name"),
        (
            json.dumps(
                {**json.loads(GOOD), "anti_pattern_locations": [{"path": "../x", "start_line": 1, "end_line": 1}]}
            ),
            "relative path",
        ),
        (
            json.dumps({**json.loads(GOOD), "anti_pattern_locations": [{"path": "a", "start_line": 5, "end_line": 2}]}),
            "start_line <= end_line",
        ),
        ("[1, 2]", "JSON object"),
    ],
)
def test_a_bad_line_names_the_file_line_and_problem(tmp_path, line: str, message: str) -> None:
    with pytest.raises(CaseFileError, match="cases.jsonl:1: ") as err:
        load_cases(write_cases(tmp_path, [line]))
    assert message in str(err.value)


def test_duplicate_ids_and_unknown_only_ids_are_refused(tmp_path) -> None:
    with pytest.raises(CaseFileError, match="duplicate case id 'c1'"):
        load_cases(write_cases(tmp_path, [GOOD, GOOD]))
    cases = load_cases(write_cases(tmp_path, [GOOD]))
    assert select_cases(cases, ["c1"]) == cases
    with pytest.raises(CaseFileError, match="unknown case id"):
        select_cases(cases, ["nope"])


def test_missing_cases_file(tmp_path) -> None:
    with pytest.raises(CaseFileError, match="not found"):
        load_cases(tmp_path / "absent.jsonl")
