"""Honest coverage: which skipped files hide code from the review, and what each file's coverage says.

A file is "reviewed" only when an analyzer read it to the end. A file an analyzer would have read but
did not (over a size or line cap, out of time, shown as binary by a `.gitattributes` marking, past the
file cap, unreadable) is `incomplete`: the review says so and cannot pass the change as safe.
Deliberate skips (deleted, `paths.exclude`, test code by its framework's naming) are not incomplete.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.analyzers.base import Analyzer
from bot.analyzers.time_budget import REVIEW_BUDGET_REASON, TIME_BUDGET_REASON, AnalysisBudget
from bot.core.deadline import Deadline
from bot.core.diff import FileChange, FileStatus
from bot.core.model import CoverageStatus, FileCoverage
from bot.core.repo import RepoAccessError, RepoView

NO_ANALYZER = "no analyzer for this file type"
NOT_READ = "not reviewed: {why}"
NOT_ANALYSED = "not analysed: {why} ({name})"  # an analyzer could not read the file (analyzers.base.NotAnalysed)
OVER_CHARS = "{name}: {size:,} characters, over its {limit:,}-character cap"
INCOMPLETE = "{n} file(s) an analyzer would read were not reviewed: {files}"
MAX_NAMED = 5
POLICY = "policy: "
# read errors that hide nothing: real binary content, secrets files the bot never reads
_HARMLESS_READ = re.compile(r": (binary file|secrets files are never read)$")


def over_line_cap(f: FileChange, cap: int) -> str | None:
    if f.additions > cap:
        return f"{f.additions:,} added lines, over the {cap:,}-line cap"
    return None


def declined_reason(analyzer: Analyzer, path: str, text: str, review_deadline: Deadline) -> str | None:
    """Why an analyzer that supports a file will not read it: the review's time budget, its size cap
    (`max_text_chars`), or its own deliberate policy (`skip_reason(path)`, e.g. a non-production
    manifest), which starts with `POLICY` and does not make the review incomplete."""
    if review_deadline.expired():
        return f"{analyzer.name} not started"
    limit = getattr(analyzer, "max_text_chars", None)
    if isinstance(limit, int) and len(text) > limit:
        return OVER_CHARS.format(name=analyzer.name, size=len(text), limit=limit)
    policy = getattr(analyzer, "skip_reason", None)
    why = policy(path) if callable(policy) else None
    return f"{POLICY}{analyzer.name}: {why}" if why else None


def file_coverage(path: str, used: Sequence[str], declined: Sequence[str], budget: AnalysisBudget) -> FileCoverage:
    """The coverage of a file the analyzers were offered: reviewed only when nothing declined it."""
    deliberate = [d.removeprefix(POLICY) for d in declined if d.startswith(POLICY)]
    declined = [d for d in declined if not d.startswith(POLICY)]
    if deliberate and not used and not declined:
        return FileCoverage(path=path, status=CoverageStatus.skipped, reason="; ".join(deliberate))
    if declined:
        out_of_time = [d for d in declined if d.endswith(("ran out of time", "not started"))]
        if any(d.endswith("not started") for d in out_of_time):
            reason = REVIEW_BUDGET_REASON.format(seconds=budget.review_seconds)
        elif out_of_time:
            names = ", ".join(d.split(" ", 1)[0] for d in out_of_time)
            reason = TIME_BUDGET_REASON.format(names=names, seconds=budget.file_seconds)
        elif all(d.startswith(NOT_ANALYSED.split("{", 1)[0]) for d in declined):
            reason = "; ".join(declined)
        else:
            reason = NOT_READ.format(why="; ".join(declined))
        return FileCoverage(path=path, status=CoverageStatus.skipped, reason=reason, analyzers=tuple(used),
                            incomplete=True)
    if used:
        return FileCoverage(path=path, status=CoverageStatus.reviewed, analyzers=tuple(used))
    return FileCoverage(path=path, status=CoverageStatus.skipped, reason=NO_ANALYZER)


def hides_code(
    f: FileChange, repo: RepoView, analyzers: Sequence[Analyzer], *, read_error: str | None = None,
    over_file_cap: bool = False, line_cap: int,
) -> bool:
    """Whether a skipped file holds code an analyzer would have read (then the review is incomplete)."""
    if f.status in (FileStatus.deleted, FileStatus.mode_only):
        return False
    if over_file_cap:
        return True
    if read_error is not None:
        return _unread_code(f.path, read_error, analyzers)
    if f.status == FileStatus.binary or over_line_cap(f, line_cap):
        try:
            text = repo.read_text(f.path)
        except RepoAccessError as exc:
            return _unread_code(f.path, str(exc), analyzers)
        return any(a.supports(f.path, text) for a in analyzers)
    return False


def _unread_code(path: str, error: str, analyzers: Sequence[Analyzer]) -> bool:
    """A file that could not be read hides code when an analyzer claims its kind by name alone
    (a 2 MB `.py`, not a 5 MB image or data file); real binary content and secrets files hide nothing."""
    return not _HARMLESS_READ.search(error) and any(a.supports(path, "") for a in analyzers)


def incomplete_reason(coverage: Sequence[FileCoverage]) -> str | None:
    """One sentence naming the files that hid code from the review, or None."""
    hidden = [c for c in coverage if c.incomplete]
    if not hidden:
        return None
    named = "; ".join(f"{c.path} ({c.reason})" for c in hidden[:MAX_NAMED])
    more = f"; and {len(hidden) - MAX_NAMED} more" if len(hidden) > MAX_NAMED else ""
    return INCOMPLETE.format(n=len(hidden), files=named + more)
