"""The domain: findings, severities, categories, coverage and the review that carries them.

Pure data, no I/O. Every other module speaks in these types.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.info: 0,
    Severity.low: 1,
    Severity.medium: 2,
    Severity.high: 3,
    Severity.critical: 4,
}


class Category(StrEnum):
    n_plus_one = "n_plus_one"
    unbounded_query = "unbounded_query"
    missing_pagination = "missing_pagination"
    missing_timeout = "missing_timeout"
    blocking_io_in_async = "blocking_io_in_async"
    load_all_into_memory = "load_all_into_memory"
    locking_migration = "locking_migration"
    missing_index = "missing_index"
    per_item_writes = "per_item_writes"
    missing_cache = "missing_cache"
    quadratic_loop = "quadratic_loop"
    retry_without_backoff = "retry_without_backoff"
    connection_per_request = "connection_per_request"
    single_point_of_failure = "single_point_of_failure"
    missing_limits = "missing_limits"
    other = "other"


class Conclusion(StrEnum):
    success = "success"
    failure = "failure"
    neutral = "neutral"


_WS = re.compile(r"\s+")


def normalize_code(code: str) -> str:
    """Whitespace-insensitive form of a code excerpt, so a fingerprint survives reformatting."""
    return _WS.sub(" ", code).strip()


def fingerprint(kind: str, path: str, code: str) -> str:
    """Stable finding id: rule (or category) + path + normalized code, never the line number."""
    digest = hashlib.sha256(f"{kind}\0{path}\0{normalize_code(code)}".encode()).hexdigest()
    return f"SR-{digest[:10]}"


class Finding(BaseModel):
    """One problem at one place of the head side of a change."""

    model_config = ConfigDict(frozen=True)

    id: str
    category: Category
    severity: Severity
    path: str
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    title: str
    evidence: str
    risk: str
    suggestion: str | None = None  # replacement text for start_line..end_line (head side), or None
    advice: str | None = None  # what to do when no safe mechanical rewrite exists
    rollback: str
    monitoring: str
    confidence: float = Field(default=0.8, ge=0.0, le=1.0)
    source: str  # analyzer rule id, or "specialist"
    handoff: str | None = None
    path_kind: str | None = None  # the code path it sits on (bot.analyzers.context.PathKind), when known
    verdict: str | None = None  # "confirmed" or "dismissed" by the specialist (bot.core.verdicts), when judged
    verdict_reason: str | None = None  # the specialist's reason for that verdict (model text: neutralise to show)
    also_at: tuple[int, ...] = ()  # other head lines of this file where the same rule found the same problem

    def json_dict(self) -> dict[str, Any]:
        """The public JSON shape (design.md Interfaces)."""
        return {
            "id": self.id,
            "category": self.category.value,
            "severity": self.severity.value,
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "title": self.title,
            "evidence": self.evidence,
            "risk": self.risk,
            "suggestion": self.suggestion,
            "advice": self.advice,
            "rollback": self.rollback,
            "monitoring": self.monitoring,
            "confidence": self.confidence,
            "source": self.source,
            "handoff": self.handoff,
            "path_kind": self.path_kind,
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "also_at": list(self.also_at),
        }


class CoverageStatus(StrEnum):
    reviewed = "reviewed"
    skipped = "skipped"


class FileCoverage(BaseModel):
    """Whether one changed file was reviewed, and if not, why. `incomplete`: an analyzer would have read
    it (code hidden by a cap, a time budget, a binary marking), so the review cannot call the change safe."""

    model_config = ConfigDict(frozen=True)

    path: str
    status: CoverageStatus
    reason: str = ""
    analyzers: tuple[str, ...] = ()
    incomplete: bool = False


class Acceptance(BaseModel):
    """A finding whose risk someone with write access accepted."""

    model_config = ConfigDict(frozen=True)

    finding_id: str
    by: str
    reason: str


class Review(BaseModel):
    """The outcome of reviewing one change: what the renderers and the publisher consume."""

    findings: list[Finding] = Field(default_factory=list)  # introduced by the change: posted, may gate
    pre_existing: list[Finding] = Field(default_factory=list)  # there at base already: summary only, never gate
    dismissed: list[Finding] = Field(default_factory=list)  # low-confidence, dismissed by the specialist: summary only
    conclusion: Conclusion = Conclusion.success
    verdict: str = ""  # one line: why the conclusion is what it is
    coverage: list[FileCoverage] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # config errors, degraded modes, budgets hit
    accepted: list[Acceptance] = Field(default_factory=list)
    fail_on: Severity = Severity.high
    min_confidence: float = 0.8  # findings below it are shown but never fail the check (gate.min_confidence)
    stats: dict[str, Any] = Field(default_factory=dict)
    # specialist extras (empty for static-only reviews)
    assumptions: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    handoffs: list[str] = Field(default_factory=list)
    rollback_plan: str = ""
    monitoring_plan: str = ""

    def counts(self) -> dict[Severity, int]:
        out = {s: 0 for s in Severity}
        for f in self.findings:
            out[f.severity] += 1
        return out

    def title(self) -> str:
        """Check-run title, e.g. '2 high, 1 medium' or 'No scalability findings'."""
        counts = self.counts()
        parts = [f"{n} {s.value}" for s, n in sorted(counts.items(), key=lambda kv: -kv[0].rank) if n]
        return ", ".join(parts) if parts else "No scalability findings"
