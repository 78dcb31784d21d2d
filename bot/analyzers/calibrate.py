"""Severity and confidence from the code path and the mitigations in place (pure).

A finding learns the kind of path it sits on (bot.analyzers.context); its severity is capped by it:

| path | per-item and query findings | everything else |
|---|---|---|
| test, seed or fixture script | low | low |
| management/cron command | low | medium |
| migration (a data loop in it) | medium | unchanged (locking findings are the point) |
| start-up hook or one-off data fix run at start-up | medium, confidence lowered | unchanged |
| request handler, background task, library | unchanged | unchanged |

A mitigation lowers (severity at most `low`, confidence under the gate) or silences (None) it. A per-item finding
whose loops all run over the caller's input (a parameter, the request's data: bot.analyzers.loop_sources for
Python, bot.analyzers.other_loop_sources for Ruby, Go and JavaScript/TypeScript) keeps its severity but not its
power to gate: how many items arrive is not in the code under review.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.analyzers.context import PathKind, classify
from bot.analyzers.loop_sources import caller_sized
from bot.analyzers.mitigations import PER_ITEM, Effect, find_mitigation
from bot.analyzers.other_loop_sources import other_caller_sized
from bot.core.model import Category, Finding, Severity

LOWERED_CONFIDENCE = 0.5  # below any sensible gate.min_confidence: shown, never blocks
CALLER_SIZED_CONFIDENCE = 0.7  # a per-item query over the caller's input: real, but its size is not in sight
MAX_LOOKBACK = 200  # lines scanned up from a finding to its enclosing loops

# findings whose cost grows with the rows a loop or a query touches
DATA_VOLUME = frozenset(
    {
        Category.n_plus_one,
        Category.per_item_writes,
        Category.quadratic_loop,
        Category.unbounded_query,
        Category.load_all_into_memory,
        Category.missing_pagination,
        Category.missing_index,
        Category.missing_cache,
    }
)
MIGRATION_FINDINGS = frozenset({Category.locking_migration})


def _cap(kind: PathKind, category: Category) -> Severity | None:
    if kind in (PathKind.test, PathKind.seed_script):
        return Severity.low
    if kind == PathKind.command:
        return Severity.low if category in DATA_VOLUME else Severity.medium
    if kind == PathKind.migration and category in DATA_VOLUME:
        return Severity.low  # a data migration runs once, like a seed script
    if kind == PathKind.startup and category in DATA_VOLUME:
        return Severity.medium
    return None


_STARTUP_NOTE = "start-up code, run once per start and not per request: severity at most {severity}, never gating"


def as_startup(finding: Finding, why: str) -> Finding:
    """A library-path finding that evidence from other files places in start-up code: capped like a migration's
    data loop, with its confidence under the gate (it runs once per start, not per request)."""
    if finding.category not in DATA_VOLUME:
        return finding
    severity = _at_most(finding.severity, _cap(PathKind.startup, finding.category))
    note = _STARTUP_NOTE.format(severity=severity.value)
    return finding.model_copy(update={
        "path_kind": PathKind.startup.value, "severity": severity,
        "confidence": min(finding.confidence, LOWERED_CONFIDENCE), "evidence": f"{finding.evidence} ({note}: {why})",
    })


def _at_most(severity: Severity, cap: Severity | None) -> Severity:
    return cap if cap is not None and severity.rank > cap.rank else severity


_LANGUAGES = {".go": "go", ".rb": "ruby", ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript",
              ".cjs": "javascript", ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript",
              ".cts": "typescript"}


def _caller_sized(path: str, text: str, line: int) -> str | None:
    """Why the loops around `line` run over the caller's input (any language we read), or None."""
    if path.endswith(".py"):
        return caller_sized(text.splitlines(), line, MAX_LOOKBACK)
    language = _LANGUAGES.get(path[path.rfind(".") :]) if "." in path else None
    return other_caller_sized(text.splitlines(), line, MAX_LOOKBACK, language) if language else None


def calibrate(
    finding: Finding,
    text: str,
    ignored_columns_of: Callable[[str], frozenset[str]] | None = None,
) -> Finding | None:
    """The finding with its path kind, severity and confidence set from context; None when mitigated away."""
    if finding.source == "specialist":
        return finding
    context = classify(finding.path, text, finding.start_line)
    mitigation = find_mitigation(finding, text, ignored_columns_of)
    if mitigation is not None and mitigation.effect == Effect.silence:
        return None
    severity = _at_most(finding.severity, _cap(context.kind, finding.category))
    confidence = finding.confidence
    notes: list[str] = []
    if context.kind == PathKind.startup and finding.category in DATA_VOLUME:
        confidence = min(confidence, LOWERED_CONFIDENCE)
        notes.append(f"{_STARTUP_NOTE.format(severity=severity.value)}: {context.evidence}")
    elif context.kind == PathKind.migration and finding.category in DATA_VOLUME:
        confidence = min(confidence, LOWERED_CONFIDENCE)
        notes.append(f"a data migration, run once and not per request: severity at most {severity.value}, never "
                     f"gating: {context.evidence or context.kind.value}")
    elif severity != finding.severity:
        notes.append(f"severity capped at {severity.value}: {context.evidence or context.kind.value}")
    if finding.category in PER_ITEM and confidence > CALLER_SIZED_CONFIDENCE:
        why = _caller_sized(finding.path, text, finding.start_line)
        if why:
            confidence = CALLER_SIZED_CONFIDENCE
            notes.append(f"not gating: {why}")
    if mitigation is not None:
        severity = _at_most(severity, Severity.low)
        confidence = min(confidence, LOWERED_CONFIDENCE)
        notes.append(f"mitigated: {mitigation.why}")
    evidence = finding.evidence + (" (" + "; ".join(notes) + ")" if notes else "")
    return finding.model_copy(
        update={"path_kind": context.kind.value, "severity": severity, "confidence": confidence, "evidence": evidence}
    )
