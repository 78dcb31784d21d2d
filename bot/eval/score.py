"""Scoring an evaluation: findings against labelled ranges, then recall and false alarms.

A positive is *found* when a finding's path matches a labelled location and its lines overlap the
labelled range widened by TOLERANCE lines; whether the category also agrees is counted separately.
Every finding on a negative case is a false alarm. Skipped and errored cases count for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.model import Finding
from bot.eval.cases import Case, Location

TOLERANCE = 3


class Status(StrEnum):
    found = "found"  # positive, a finding overlaps a labelled range
    missed = "missed"  # positive, no finding overlaps
    clean = "clean"  # negative, no findings
    false_alarm = "false_alarm"  # negative, at least one finding
    skipped = "skipped"  # no mirror: not evaluated
    error = "error"  # could not build or review: not evaluated


EVALUATED = (Status.found, Status.missed, Status.clean, Status.false_alarm)


@dataclass(frozen=True)
class Hit:
    """A finding, reduced to what the report needs."""

    path: str
    start_line: int
    end_line: int
    category: str
    severity: str
    source: str
    title: str
    also_at: tuple[int, ...] = ()  # the other lines one grouped comment names

    @classmethod
    def of(cls, f: Finding) -> Hit:
        return cls(f.path, f.start_line, f.end_line, f.category.value, f.severity.value, f.source, f.title, f.also_at)

    def overlaps(self, loc: Location, tolerance: int = TOLERANCE) -> bool:
        if self.path != loc.path:
            return False
        spans = [(self.start_line, self.end_line), *((n, n) for n in self.also_at)]
        return any(start <= loc.end_line + tolerance and end >= loc.start_line - tolerance for start, end in spans)

    def label(self) -> str:
        lines = f"{self.start_line}" if self.start_line == self.end_line else f"{self.start_line}-{self.end_line}"
        return f"{self.path}:{lines} {self.category} ({self.source})"


@dataclass
class CaseResult:
    case: Case
    status: Status
    matched: list[Hit] = field(default_factory=list)  # overlap a labelled range
    outside: list[Hit] = field(default_factory=list)  # positives: elsewhere; negatives: the false alarms
    locations_found: int = 0
    category_agrees: bool = False
    reason: str = ""
    build_seconds: float = 0.0
    review_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    covered: bool | None = None  # positives: do the rules claim this category and language?
    mode: str = "static"  # what reviewed it: "static" or "static+specialist"

    @property
    def hits(self) -> list[Hit]:
        return self.matched + self.outside

    @property
    def evaluated(self) -> bool:
        return self.status in EVALUATED


def score_case(case: Case, findings: Iterable[Finding], tolerance: int = TOLERANCE) -> CaseResult:
    """Compare one case's findings with its labels."""
    hits = [Hit.of(f) for f in findings]
    if not case.positive:
        return CaseResult(case, Status.false_alarm if hits else Status.clean, outside=hits)
    matched = [h for h in hits if any(h.overlaps(loc, tolerance) for loc in case.locations)]
    outside = [h for h in hits if h not in matched]
    located = sum(1 for loc in case.locations if any(h.overlaps(loc, tolerance) for h in matched))
    return CaseResult(
        case,
        Status.found if matched else Status.missed,
        matched=matched,
        outside=outside,
        locations_found=located,
        category_agrees=any(h.category == case.category for h in matched),
    )


def unevaluated(case: Case, status: Status, reason: str) -> CaseResult:
    return CaseResult(case, status, reason=reason)


@dataclass
class Tally:
    """Positives of one group (a category or a language)."""

    positives: int = 0
    found: int = 0
    category_agree: int = 0

    @property
    def recall(self) -> float | None:
        return self.found / self.positives if self.positives else None

    @property
    def category_recall(self) -> float | None:
        return self.category_agree / self.positives if self.positives else None

    def add(self, r: CaseResult) -> None:
        self.positives += 1
        self.found += r.status == Status.found
        self.category_agree += r.category_agrees

    def as_dict(self) -> dict[str, Any]:
        return {
            "positives": self.positives,
            "found": self.found,
            "category_agree": self.category_agree,
            "recall": _round(self.recall),
            "category_recall": _round(self.category_recall),
        }


@dataclass
class Summary:
    overall: Tally
    by_category: dict[str, Tally]
    by_language: dict[str, Tally]
    negatives: int
    false_alarms: int
    counts: dict[str, int]
    covered: Tally | None = None  # positives in the categories the rules cover

    @property
    def false_alarms_per_negative(self) -> float | None:
        return self.false_alarms / self.negatives if self.negatives else None


def summarize(results: list[CaseResult], is_covered: Callable[[Case], bool] | None = None) -> Summary:
    """Recall per category and language over evaluated positives; false alarms per negative.

    `is_covered` says which positives the rules claim to handle (their category and language);
    their recall is reported on its own as `covered`."""
    overall, covered = Tally(), Tally()
    by_category: dict[str, Tally] = {}
    by_language: dict[str, Tally] = {}
    negatives = false_alarms = 0
    counts = {s.value: 0 for s in Status}
    for r in results:
        counts[r.status.value] += 1
        if not r.evaluated:
            continue
        if not r.case.positive:
            negatives += 1
            false_alarms += len(r.outside)
            continue
        overall.add(r)
        by_category.setdefault(r.case.category, Tally()).add(r)
        by_language.setdefault(r.case.language, Tally()).add(r)
        if is_covered is not None and is_covered(r.case):
            covered.add(r)
    return Summary(
        overall=overall,
        by_category=dict(sorted(by_category.items())),
        by_language=dict(sorted(by_language.items())),
        negatives=negatives,
        false_alarms=false_alarms,
        counts=counts,
        covered=covered if is_covered is not None else None,
    )


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)
