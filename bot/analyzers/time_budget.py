"""Wall-clock budgets for the static step: per analyzer run on one file, and for the whole review.

Analyzers are pure Python and cannot be killed from outside, so each run gets a `Deadline` its loops
check (`FileInput.deadline`); a run that hits it raises `DeadlineExceeded`, which lands here. A file
whose analyzer ran out is reported "not reviewed (time budget)" and makes the review incomplete:
it is never silently passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar, overload

from bot.analyzers.base import Analyzer, FileInput
from bot.core.deadline import DeadlineExceeded
from bot.core.model import Finding

TIME_BUDGET = "not reviewed (time budget)"
TIME_BUDGET_REASON = TIME_BUDGET + ": {names} stopped after {seconds:g} s"
REVIEW_BUDGET_REASON = TIME_BUDGET + ": the static step's {seconds:g} s were spent"
DEFAULT_FILE_SECONDS = 10.0
DEFAULT_REVIEW_SECONDS = 180.0
T = TypeVar("T")


@dataclass(frozen=True)
class AnalysisBudget:
    """Seconds one analyzer may spend on one file, and the whole static step on one review."""

    file_seconds: float = DEFAULT_FILE_SECONDS
    review_seconds: float = DEFAULT_REVIEW_SECONDS


@overload
def run_bounded(analyzer: Analyzer, file: FileInput, seconds: float) -> list[Finding] | None: ...


@overload
def run_bounded(analyzer: Analyzer, file: FileInput, seconds: float, run: Callable[[FileInput], T]) -> T | None: ...


def run_bounded(
    analyzer: Analyzer, file: FileInput, seconds: float, run: Callable[[FileInput], Any] | None = None
) -> Any:
    """The analyzer's findings on `file` within `seconds` (and the file's own deadline); None when time ran out.
    `run`: another of the analyzer's entry points to call instead of `analyze` (e.g. `analyze_split`)."""
    bounded = replace(file, deadline=file.deadline.within(seconds))
    try:
        return (run or analyzer.analyze)(bounded)
    except DeadlineExceeded:
        return None
