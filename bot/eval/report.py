"""Evaluation reports for people (text) and machines (JSON). The HTML report is in eval_html."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.eval.score import CaseResult, Hit, Status, Summary, Tally

HEADLINE = "scale-review eval: {n} cases ({pos} positive, {neg} negative), {skipped} skipped, {errors} errors ({mode})"
RECALL_LINE = "Recall: {found}/{positives} ({recall}) · category agrees: {agree}/{positives} ({agree_pct})"
COVERED_LINE = "Recall in the categories the rules cover: {found}/{positives} ({recall})"
FALSE_ALARM_LINE = "False alarms: {n} on {neg} negative case(s) ({per} per negative case)"
NO_CASES = "(none)"
COVERED_MARK = "  (* a positive whose category and language the rules claim to cover)"
MAX_HITS_SHOWN = 6


@dataclass(frozen=True)
class RunInfo:
    """How the evaluation was run: shown in every report."""

    cases_file: str
    mirrors: str
    mode: str  # "static analyzers" or "static analyzers + specialist"
    seconds: float


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.0f}%"


def _ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def expected_text(r: CaseResult) -> str:
    if not r.case.positive:
        return "nothing"
    return "; ".join(f"{loc.path}:{loc.start_line}-{loc.end_line}" for loc in r.case.locations)


def hits_text(hits: list[Hit], limit: int = MAX_HITS_SHOWN) -> str:
    if not hits:
        return "-"
    shown = [h.label() for h in hits[:limit]]
    more = f" (+{len(hits) - limit} more)" if len(hits) > limit else ""
    return "; ".join(shown) + more


def headline(results: list[CaseResult], summary: Summary, info: RunInfo) -> list[str]:
    pos = sum(1 for r in results if r.case.positive)
    lines = [
        HEADLINE.format(
            n=len(results),
            pos=pos,
            neg=len(results) - pos,
            skipped=summary.counts[Status.skipped.value],
            errors=summary.counts[Status.error.value],
            mode=info.mode,
        ),
        RECALL_LINE.format(
            found=summary.overall.found,
            positives=summary.overall.positives,
            recall=pct(summary.overall.recall),
            agree=summary.overall.category_agree,
            agree_pct=pct(summary.overall.category_recall),
        ),
    ]
    if summary.covered is not None:
        c = summary.covered
        lines.append(COVERED_LINE.format(found=c.found, positives=c.positives, recall=pct(c.recall)))
    per = _ratio(summary.false_alarms_per_negative)
    lines.append(FALSE_ALARM_LINE.format(n=summary.false_alarms, neg=summary.negatives, per=per))
    return lines


def _tally_table(title: str, groups: dict[str, Tally]) -> list[str]:
    rows = [f"{title}", f"  {'':28} {'found':>7} {'cat ok':>7} {'recall':>7}"]
    for name, t in groups.items():
        found, agree = f"{t.found}/{t.positives}", f"{t.category_agree}/{t.positives}"
        rows.append(f"  {name:28} {found:>7} {agree:>7} {pct(t.recall):>7}")
    return rows


def _case_rows(results: list[CaseResult]) -> list[str]:
    rows = [f"  {'case':36} {'kind':9} {'category':22} {'status':12} {'seconds':>7}  expected  ->  our findings"]
    for r in results:
        secs = f"{r.build_seconds + r.review_seconds:.2f}" if r.evaluated else "-"
        ours = r.reason if not r.evaluated else hits_text(r.matched or r.outside)
        kind = r.case.kind + ("*" if r.covered else "")
        rows.append(
            f"  {r.case.id:36} {kind:9} {r.case.category:22} {r.status.value:12} {secs:>7}  "
            f"{expected_text(r)}  ->  {ours}"
        )
    rows.append(COVERED_MARK)
    return rows


def _listing(title: str, results: list[CaseResult]) -> list[str]:
    rows = [title]
    for r in results:
        rows.extend(f"  {r.case.id}: {h.label()} - {h.title}" for h in r.outside)
    return rows if len(rows) > 1 else [title, f"  {NO_CASES}"]


def render_text(results: list[CaseResult], summary: Summary, info: RunInfo) -> str:
    lines = headline(results, summary, info)
    lines += ["", *_tally_table("Recall per category", summary.by_category)]
    lines += ["", *_tally_table("Recall per language", summary.by_language)]
    lines += ["", "Cases", *_case_rows(results)]
    positives = [r for r in results if r.case.positive and r.evaluated]
    negatives = [r for r in results if not r.case.positive and r.evaluated]
    lines += ["", *_listing("Findings outside the labelled ranges (read them: some are real)", positives)]
    lines += ["", *_listing("False alarms (findings on negative cases)", negatives)]
    notes = [f"  {r.case.id}: {n}" for r in results for n in r.notes]
    if notes:
        lines += ["", "Notes", *notes]
    lines += ["", f"{info.seconds:.1f} s in all; cases file {info.cases_file}; mirrors {info.mirrors}"]
    return "\n".join(lines) + "\n"


def _hit_dict(h: Hit) -> dict[str, Any]:
    return {
        "path": h.path,
        "start_line": h.start_line,
        "end_line": h.end_line,
        "category": h.category,
        "severity": h.severity,
        "source": h.source,
        "title": h.title,
    }


def case_dict(r: CaseResult) -> dict[str, Any]:
    return {
        "id": r.case.id,
        "repo": r.case.repo,
        "kind": r.case.kind,
        "category": r.case.category,
        "language": r.case.language,
        "status": r.status.value,
        "expected": [{"path": x.path, "start_line": x.start_line, "end_line": x.end_line} for x in r.case.locations],
        "covered": r.covered,
        "locations_found": r.locations_found,
        "category_agrees": r.category_agrees,
        "matched": [_hit_dict(h) for h in r.matched],
        "outside": [_hit_dict(h) for h in r.outside],
        "reason": r.reason,
        "notes": list(r.notes),
        "build_seconds": round(r.build_seconds, 3),
        "review_seconds": round(r.review_seconds, 3),
    }


def summary_dict(summary: Summary) -> dict[str, Any]:
    return {
        **summary.overall.as_dict(),
        "covered": summary.covered.as_dict() if summary.covered is not None else None,
        "by_category": {k: v.as_dict() for k, v in summary.by_category.items()},
        "by_language": {k: v.as_dict() for k, v in summary.by_language.items()},
        "negatives": summary.negatives,
        "false_alarms": summary.false_alarms,
        "false_alarms_per_negative": (
            None if summary.false_alarms_per_negative is None else round(summary.false_alarms_per_negative, 3)
        ),
        "counts": dict(summary.counts),
    }


def render_json(results: list[CaseResult], summary: Summary, info: RunInfo) -> str:
    doc = {
        "cases_file": info.cases_file,
        "mirrors": info.mirrors,
        "mode": info.mode,
        "seconds": round(info.seconds, 3),
        "summary": summary_dict(summary),
        "cases": [case_dict(r) for r in results],
    }
    return json.dumps(doc, indent=2) + "\n"
