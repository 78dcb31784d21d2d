"""Runs the analyzers over the changed files of a ChangeSet: path filters, caps, overrides.

Pure apart from reading head-side text through the RepoView it is given.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.analyzers.base import Analyzer, FileInput
from bot.diff import ChangeSet, FileChange, FileStatus
from bot.model import CoverageStatus, FileCoverage, Finding
from bot.repo import RepoAccessError, RepoView, glob_match
from bot.repo_config import RepoConfig

MAX_FILES = 3000
MAX_CHANGED_LINES_PER_FILE = 20_000


@dataclass
class AnalysisResult:
    findings: list[Finding] = field(default_factory=list)
    coverage: list[FileCoverage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _skip_reason(f: FileChange, config: RepoConfig) -> str | None:
    if f.status == FileStatus.deleted:
        return "deleted"
    if f.status == FileStatus.binary:
        return "binary file"
    if f.status == FileStatus.mode_only:
        return "mode change only"
    if not f.added_lines:
        return "no added lines"
    if config.paths.include and not any(glob_match(f.path, g) for g in config.paths.include):
        return "not in paths.include"
    for g in config.paths.exclude:
        if glob_match(f.path, g):
            return f"excluded by paths.exclude '{g}'"
    if f.additions > MAX_CHANGED_LINES_PER_FILE:
        return f"{f.additions:,} added lines, over the {MAX_CHANGED_LINES_PER_FILE:,}-line cap"
    return None


def _apply_overrides(findings: list[Finding], config: RepoConfig) -> list[Finding]:
    out = []
    for f in findings:
        if not config.rule_enabled(f.source):
            continue
        sev = config.severity_for(f.source, f.severity)
        out.append(f if sev == f.severity else f.model_copy(update={"severity": sev}))
    return out


def analyze_change(
    changes: ChangeSet, repo: RepoView, config: RepoConfig, analyzers: Sequence[Analyzer]
) -> AnalysisResult:
    """Run every analyzer that supports a changed file; record coverage for every file."""
    started = time.perf_counter()
    result = AnalysisResult()
    files = list(changes.files)
    prefetch = getattr(repo, "prefetch", None)
    if callable(prefetch):
        try:
            prefetch([f.path for f in files[:MAX_FILES] if _skip_reason(f, config) is None])
        except RepoAccessError as exc:
            result.errors.append(f"prefetch failed: {exc}")
    for index, f in enumerate(files):
        if index >= MAX_FILES:
            result.coverage.append(
                FileCoverage(path=f.path, status=CoverageStatus.skipped, reason=f"over the {MAX_FILES}-file cap")
            )
            continue
        reason = _skip_reason(f, config)
        if reason:
            result.coverage.append(FileCoverage(path=f.path, status=CoverageStatus.skipped, reason=reason))
            continue
        try:
            text = repo.read_text(f.path)
        except RepoAccessError as exc:
            result.coverage.append(FileCoverage(path=f.path, status=CoverageStatus.skipped, reason=str(exc)))
            continue
        used: list[str] = []
        for analyzer in analyzers:
            if not analyzer.supports(f.path, text):
                continue
            try:
                found = analyzer.analyze(FileInput(change=f, text=text))
            except Exception as exc:  # an analyzer bug must not sink the review
                result.errors.append(f"{analyzer.name} failed on {f.path}: {type(exc).__name__}: {exc}")
                continue
            used.append(analyzer.name)
            result.findings.extend(x for x in found if f.touches(x.start_line, x.end_line))
        if used:
            result.coverage.append(FileCoverage(path=f.path, status=CoverageStatus.reviewed, analyzers=tuple(used)))
        else:
            result.coverage.append(
                FileCoverage(path=f.path, status=CoverageStatus.skipped, reason="no analyzer for this file type")
            )
    result.findings = dedupe(_apply_overrides(result.findings, config))
    result.seconds = time.perf_counter() - started
    return result


def dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per id, and per (path, lines, category): the most severe wins."""
    best: dict[tuple[str, int, int, str], Finding] = {}
    seen_ids: set[str] = set()
    for f in sorted(findings, key=lambda x: (-x.severity.rank, -x.confidence, x.source)):
        key = (f.path, f.start_line, f.end_line, f.category.value)
        if f.id in seen_ids or key in best:
            continue
        seen_ids.add(f.id)
        best[key] = f
    return sorted(best.values(), key=lambda x: (x.path, x.start_line, x.source))
