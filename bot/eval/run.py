"""`scale-review eval`: detection quality on real-world cases (reverted scalability fixes).

Each case is built as a scratch repository borrowing objects from a local mirror (bot.eval.build),
reviewed by the same function the `review` command calls, and scored against its labelled lines
(bot.eval.score). A case whose mirror is missing is skipped, never counted as a miss or a pass.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.core.model import Review
from bot.eval.build import CaseBuildError, CaseSkipped, build_case
from bot.eval.cases import Case, CaseFileError, load_cases, select_cases
from bot.eval.report import RunInfo, render_json, render_text
from bot.eval.score import CaseResult, Status, score_case, summarize, unevaluated

ReviewFn = Callable[[str, str, str], Review]

FORMATS = ("text", "json", "html")
EXIT_OK, EXIT_ERROR = 0, 2
MODE_STATIC = "static analyzers"
MODE_LLM = "static analyzers + specialist"
MODE_NO_MODEL = "static analyzers only: --llm was given but no model is configured"
ERR_MIRRORS = "mirrors folder not found: {path}"
ERR_OUTPUT = "cannot write the report to {path}: {what}"
ERR_REVIEW = "review failed: {what}"
ERR_CRASH = "review crashed: {kind}: {what}"
NOTE_ABSENT = "{n} changed file(s) absent from the mirror snapshot: {paths}"
PROGRESS = "[{i}/{n}] {id}: {status}{detail}"
JS_FAMILY = {"javascript": "typescript", "tsx": "typescript"}


def review_with_local(*, use_llm: bool = False, env: Mapping[str, str] | None = None) -> ReviewFn:
    """The review the `review` command runs (bot.review.local_review)."""
    from bot.review.local_review import review_local

    def run(repo: str, base: str, head: str) -> Review:
        return review_local(repo, base, head, use_llm=use_llm, env=env)

    return run


def _scratch_prefix(case: Case) -> str:
    return "eval-" + re.sub(r"[^A-Za-z0-9_.-]", "_", case.id)[:60] + "-"


def evaluate_case(case: Case, mirrors: str | Path, review: ReviewFn, scratch_root: str | None = None) -> CaseResult:
    """Build, review and score one case; the scratch repository is removed afterwards."""
    scratch = tempfile.mkdtemp(prefix=_scratch_prefix(case), dir=scratch_root)
    try:
        started = time.perf_counter()
        try:
            built = build_case(case, mirrors, scratch)
        except CaseSkipped as exc:
            return unevaluated(case, Status.skipped, str(exc))
        except CaseBuildError as exc:
            return unevaluated(case, Status.error, str(exc))
        built_at = time.perf_counter()
        try:
            review_result = review(built.repo_path, built.base, built.head)
        except Exception as exc:  # one broken case is reported, never sinks the run
            kind = type(exc).__name__
            msg = ERR_REVIEW.format(what=exc) if kind == "LocalReviewError" else ERR_CRASH.format(kind=kind, what=exc)
            return unevaluated(case, Status.error, msg)
        result = score_case(case, review_result.findings)
        result.mode = str(review_result.stats.get("mode", "static"))
        result.build_seconds = built_at - started
        result.review_seconds = time.perf_counter() - built_at
        if built.absent:
            result.notes.append(NOTE_ABSENT.format(n=len(built.absent), paths=", ".join(built.absent[:5])))
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_cases(
    cases: Sequence[Case],
    mirrors: str | Path,
    review: ReviewFn,
    *,
    scratch_root: str | None = None,
    progress: TextIO | None = None,
) -> list[CaseResult]:
    """Evaluate every case in order (bounded by the cases file's own cap)."""
    results: list[CaseResult] = []
    for i, case in enumerate(cases, start=1):
        r = evaluate_case(case, mirrors, review, scratch_root)
        results.append(r)
        if progress is not None:
            detail = f" ({r.reason})" if r.reason else f" ({r.build_seconds + r.review_seconds:.2f} s)"
            print(PROGRESS.format(i=i, n=len(cases), id=case.id, status=r.status.value, detail=detail), file=progress)
    return results


def covered_pairs(analyzers: Iterable[Any]) -> set[tuple[str, str]]:
    """(category, language) pairs the analyzers' rules claim; language '*' when a rule has none."""
    pairs: set[tuple[str, str]] = set()
    for analyzer in analyzers:
        for rule in getattr(analyzer, "rules", None) or []:
            category = getattr(getattr(rule, "category", None), "value", None)
            if not category:
                continue
            for lang in getattr(rule, "languages", None) or ("*",):
                pairs.add((category, JS_FAMILY.get(lang, lang)))
    return pairs


def covered_by(pairs: set[tuple[str, str]]) -> Callable[[Case], bool]:
    def is_covered(case: Case) -> bool:
        lang = JS_FAMILY.get(case.language, case.language)
        return (case.category, lang) in pairs or (case.category, "*") in pairs

    return is_covered


def builtin_coverage() -> Callable[[Case], bool]:
    from bot.review.pipeline import builtin_analyzers

    return covered_by(covered_pairs(builtin_analyzers()))


def render(fmt: str, results: list[CaseResult], info: RunInfo, is_covered: Callable[[Case], bool] | None) -> str:
    summary = summarize(results, is_covered)
    if fmt == "json":
        return render_json(results, summary, info)
    if fmt == "html":
        from bot.eval.html import render_html

        return render_html(results, summary, info)
    return render_text(results, summary, info)


def run_mode(results: list[CaseResult], llm_requested: bool) -> str:
    """What actually ran: the specialist counts only if it ran on at least one case."""
    if any(r.mode != "static" for r in results if r.evaluated):
        return MODE_LLM
    return MODE_NO_MODEL if llm_requested else MODE_STATIC


def register(sub: Any) -> None:
    p = sub.add_parser("eval", help="measure detection quality on real-world cases (reverted fixes)")
    p.add_argument("--cases", required=True, help="cases file (JSON lines), e.g. cases-dev.jsonl")
    p.add_argument("--mirrors", required=True, help="folder holding the mirrors as <owner>+<name>/repo")
    p.add_argument("--only", help="comma-separated case ids to run (default: all)")
    p.add_argument("--llm", action="store_true", help="also run the specialist (needs ANTHROPIC_API_KEY)")
    p.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    p.add_argument("--output", help="write the report to this file instead of standard output")
    p.add_argument("--quiet", action="store_true", help="no per-case progress on standard error")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"scale-review: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _selected_cases(args: argparse.Namespace) -> list[Case]:
    """The cases to run; CaseFileError (with a one-line message) for any usage problem."""
    cases = select_cases(load_cases(args.cases), [x.strip() for x in (args.only or "").split(",") if x.strip()])
    if not os.path.isdir(args.mirrors):
        raise CaseFileError(ERR_MIRRORS.format(path=args.mirrors))
    if args.output and not Path(args.output).resolve().parent.is_dir():
        raise CaseFileError(ERR_OUTPUT.format(path=args.output, what="no such folder"))
    return cases


def run(args: argparse.Namespace) -> int:
    try:
        cases = _selected_cases(args)
    except CaseFileError as exc:
        return _fail(str(exc))
    started = time.perf_counter()
    review = review_with_local(use_llm=args.llm, env=os.environ)
    results = run_cases(cases, args.mirrors, review, progress=None if args.quiet else sys.stderr)
    info = RunInfo(args.cases, args.mirrors, run_mode(results, args.llm), time.perf_counter() - started)
    is_covered = builtin_coverage()
    for r in results:
        r.covered = is_covered(r.case) if r.case.positive else None
    out = render(args.format, results, info, is_covered)
    if not args.output:
        sys.stdout.write(out)
        return EXIT_OK
    try:
        Path(args.output).write_text(out, encoding="utf-8")
    except OSError as exc:
        return _fail(ERR_OUTPUT.format(path=args.output, what=exc.strerror or exc))
    return EXIT_OK
