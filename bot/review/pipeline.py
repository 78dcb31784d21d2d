"""The review core: ChangeSet + RepoView + RepoConfig -> Review. No HTTP, no model, no clock of its own.

`run_static` runs the analyzers; `assemble_review` merges the specialist's validated findings (if any),
applies the gate and records coverage and stats. The App's workflow calls the two halves as separate
durable steps; the CLI calls `review_change`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.analyzers import default_analyzers
from bot.analyzers.base import Analyzer
from bot.analyzers.engine import AnalysisResult, analyze_change, dedupe
from bot.analyzers.generated import parse_gitattributes
from bot.analyzers.repo_rules import (
    RepoRulesAnalyzer,
    RepoRuleSet,
    RuleFiles,
    changed_rule_files,
    combine_rule_files,
    load_repo_rules,
)
from bot.analyzers.skips import incomplete_reason
from bot.analyzers.time_budget import AnalysisBudget
from bot.core.diff import ChangeSet
from bot.core.model import Acceptance, Finding, Review, Severity
from bot.core.policy import decide
from bot.core.repo import RepoView
from bot.core.repo_config import RepoConfig
from bot.core.verdicts import Verdict, apply_verdicts
from bot.review.suppressions import RepoMemory, apply_memory

_ANALYZERS: list[Analyzer] | None = None
CHANGED_RULE_FILE = "Repository rule file changed by this pull request: {path} (takes effect once merged)"


@dataclass(frozen=True)
class BaseReads:
    """What the caller read from the base ahead of the review (the App: in its one config query): the team's
    rule files and the base's `.gitattributes` text (None: there is none). Without it, `run_static` reads both
    through `base_repo`."""

    rules: RuleFiles = field(default_factory=RuleFiles)
    gitattributes: str | None = None


class SpecialistOutcome(Protocol):
    """What the review needs from a specialist run (bot.specialist.loop.SpecialistResult)."""

    findings: list[Finding]
    notes: list[str]
    degraded: str | None
    verdicts: list[Verdict]  # on low-confidence analyzer findings; applied by code before the gate


def builtin_analyzers() -> list[Analyzer]:
    """The rule packs, loaded once per process."""
    global _ANALYZERS
    if _ANALYZERS is None:
        _ANALYZERS = default_analyzers()
    return _ANALYZERS


def run_static(
    changes: ChangeSet,
    repo: RepoView,
    config: RepoConfig,
    analyzers: Sequence[Analyzer] | None = None,
    *,
    workers: int = 1,
    base_repo: RepoView | None = None,
    budget: AnalysisBudget | None = None,
    base_reads: BaseReads | None = None,
) -> AnalysisResult:
    """The analyzers over the change; `workers > 1` forks processes for large changes (CLI only).

    `base_repo` is the repository at the change's base: with it, problems already there are told apart
    (`AnalysisResult.pre_existing`); without it every finding counts as introduced. `budget` bounds
    analyzer time per file and per review (defaults when None). The team's rules come from `base_reads`
    when given, else from `base_repo`'s rules folder; none without either (a change cannot add its own)."""
    chosen = list(builtin_analyzers() if analyzers is None else analyzers)
    notes = [CHANGED_RULE_FILE.format(path=p) for p in changed_rule_files(changes.paths)]
    own: RepoRulesAnalyzer | None = None
    if analyzers is None and (base_reads is not None or base_repo is not None):
        loaded = _team_rules(chosen, base_reads, base_repo)
        notes += [f"Repository rule not loaded: {e}" for e in loaded.errors]
        notes += [f"Repository rule: {n}" for n in loaded.notes]
        if loaded.rules:
            own = RepoRulesAnalyzer(loaded.rules)
            chosen.append(own)
    attributes = parse_gitattributes(base_reads.gitattributes or "") if base_reads is not None else None
    try:
        result = analyze_change(changes, repo, config, chosen, workers=workers, base_repo=base_repo, budget=budget,
                                attributes=attributes)
    finally:
        if own is not None:
            own.close()  # the team's rules ran in a child process: end it
    result.notes[:0] = notes + (own.stopped_notes() if own else [])
    result.extra_rules = list(own.team_rules) if own else []
    return result


def _team_rules(chosen: Sequence[Analyzer], base_reads: BaseReads | None, base_repo: RepoView | None) -> RepoRuleSet:
    builtin_ids = [rid for a in chosen for rid in a.rule_ids()]
    if base_reads is not None:
        return combine_rule_files(base_reads.rules, builtin_ids)
    assert base_repo is not None
    return load_repo_rules(base_repo, builtin_ids)


def _specialist_extras(specialist: Any) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for key in ("assumptions", "questions", "handoffs"):
        value = getattr(specialist, key, None)
        if value:
            extras[key] = list(value)
    for key in ("rollback_plan", "monitoring_plan"):
        value = getattr(specialist, key, None)
        if value:
            extras[key] = str(value)
    return extras


def assemble_review(
    changes: ChangeSet,
    config: RepoConfig,
    analysis: AnalysisResult,
    *,
    specialist: SpecialistOutcome | None = None,
    config_errors: Sequence[str] = (),
    accepted: Sequence[Acceptance] = (),
    fail_on: Severity | None = None,
    degraded: str | None = None,
    stats: dict[str, Any] | None = None,
    memory: RepoMemory | None = None,
    pr: int = 0,
) -> Review:
    """Merge findings, drop what the repository already decided (memory, `ignore:`), apply the gate, and
    describe what was and was not seen."""
    findings = list(analysis.findings)
    pre_existing = list(analysis.pre_existing)
    notes = [f"Configuration error (defaults used): {e}" for e in config_errors]
    notes += [f"Analyzer error: {e}" for e in analysis.errors]
    notes += list(analysis.notes)
    extras: dict[str, Any] = {}
    dismissed: list[Finding] = []
    if specialist is not None:
        judged = apply_verdicts(findings, getattr(specialist, "verdicts", None) or [], config.gate.min_confidence)
        findings, dismissed = judged.findings, judged.dismissed
        notes += judged.notes
        generated = set(analysis.generated)  # left out of the review: a model finding there is dropped too
        findings = dedupe(findings + [f for f in specialist.findings if f.path not in generated])
        notes += list(specialist.notes)
        degraded = degraded or specialist.degraded
        extras = _specialist_extras(specialist)
    kept = apply_memory(findings, config, memory, pr)
    findings = kept.findings
    accepted = [*accepted, *(a for a in kept.accepted if a.finding_id not in {x.finding_id for x in accepted})]
    notes += kept.notes
    hidden = incomplete_reason(analysis.coverage)  # code no analyzer read is never passed as safe
    degraded = "; ".join(x for x in (degraded, hidden) if x) or None
    if degraded:
        notes.insert(0, f"Partial review: {degraded}")
    effective_fail_on = fail_on or config.fail_on
    conclusion, verdict = decide(findings, config, accepted=accepted, degraded=degraded, fail_on=effective_fail_on)
    all_stats: dict[str, Any] = {
        "files_changed": len(changes.files),
        "files_reviewed": sum(1 for c in analysis.coverage if c.status == "reviewed"),
        "lines_changed": changes.changed_lines,
        "findings": len(findings),
        "pre_existing": len(pre_existing),
        "analysis_seconds": round(analysis.seconds, 3),
    }
    all_stats.update({k: v for k, v in kept.stats.items() if v})
    all_stats.update(stats or {})
    return Review(
        findings=findings,
        pre_existing=pre_existing,
        dismissed=dismissed,
        min_confidence=config.gate.min_confidence,
        conclusion=conclusion,
        verdict=verdict,
        coverage=list(analysis.coverage),
        notes=notes,
        accepted=list(accepted),
        fail_on=effective_fail_on,
        stats=all_stats,
        **extras,
    )


def review_change(
    changes: ChangeSet,
    repo: RepoView,
    config: RepoConfig,
    *,
    analyzers: Sequence[Analyzer] | None = None,
    **kwargs: Any,
) -> Review:
    """Static analysis then assembly: the whole review of one change, without a specialist."""
    return assemble_review(changes, config, run_static(changes, repo, config, analyzers), **kwargs)
