"""Runs the analyzers over the changed files of a ChangeSet: path filters, caps, overrides.

Pure apart from reading head-side text through the RepoView it is given.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from bot.analyzers.base import Analyzer, FileInput
from bot.core.diff import ChangeSet, FileChange, FileStatus
from bot.core.model import CoverageStatus, FileCoverage, Finding
from bot.core.repo import RepoAccessError, RepoView, glob_match
from bot.core.repo_config import RepoConfig

MAX_FILES = 3000
MAX_CHANGED_LINES_PER_FILE = 20_000
PARALLEL_MIN_FILES = 40  # below this, forking costs more than it saves


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


@dataclass
class _FileOutcome:
    findings: list[Finding]
    coverage: FileCoverage
    errors: list[str]


_WORKER_ANALYZERS: Sequence[Analyzer] = ()


def _analyze_file(f: FileChange, text: str, analyzers: Sequence[Analyzer]) -> _FileOutcome:
    used: list[str] = []
    findings: list[Finding] = []
    errors: list[str] = []
    for analyzer in analyzers:
        if not analyzer.supports(f.path, text):
            continue
        try:
            found = analyzer.analyze(FileInput(change=f, text=text))
        except Exception as exc:  # an analyzer bug must not sink the review
            errors.append(f"{analyzer.name} failed on {f.path}: {type(exc).__name__}: {exc}")
            continue
        used.append(analyzer.name)
        findings.extend(x for x in found if f.touches(x.start_line, x.end_line))
    if used:
        coverage = FileCoverage(path=f.path, status=CoverageStatus.reviewed, analyzers=tuple(used))
    else:
        coverage = FileCoverage(path=f.path, status=CoverageStatus.skipped, reason="no analyzer for this file type")
    return _FileOutcome(findings, coverage, errors)


def _analyze_chunk(chunk: list[tuple[FileChange, str]]) -> list[_FileOutcome]:
    return [_analyze_file(f, text, _WORKER_ANALYZERS) for f, text in chunk]


def _set_worker_analyzers(analyzers: Sequence[Analyzer]) -> None:
    global _WORKER_ANALYZERS
    _WORKER_ANALYZERS = analyzers


def _run_parallel(
    inputs: list[tuple[FileChange, str]], analyzers: Sequence[Analyzer], workers: int
) -> list[_FileOutcome]:
    """Spread files over forked processes (the analyzers are inherited, not pickled); order is kept."""
    size = max(1, len(inputs) // (workers * 4))
    chunks = [inputs[i : i + size] for i in range(0, len(inputs), size)]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_set_worker_analyzers, initargs=(analyzers,)) as pool:
        return [outcome for part in pool.map(_analyze_chunk, chunks) for outcome in part]


def _read_inputs(
    changes: ChangeSet, repo: RepoView, config: RepoConfig, result: AnalysisResult
) -> list[tuple[int, FileChange, str]]:
    """Files to analyze with their head text; every other file gets its coverage reason now."""
    files = list(changes.files)
    prefetch = getattr(repo, "prefetch", None)
    if callable(prefetch):
        try:
            prefetch([f.path for f in files[:MAX_FILES] if _skip_reason(f, config) is None])
        except RepoAccessError as exc:
            result.errors.append(f"prefetch failed: {exc}")
    inputs: list[tuple[int, FileChange, str]] = []
    for index, f in enumerate(files):
        reason = f"over the {MAX_FILES}-file cap" if index >= MAX_FILES else _skip_reason(f, config)
        if reason is None:
            try:
                inputs.append((index, f, repo.read_text(f.path)))
                continue
            except RepoAccessError as exc:
                reason = str(exc)
        result.coverage.append(FileCoverage(path=f.path, status=CoverageStatus.skipped, reason=reason))
    return inputs


def analyze_change(
    changes: ChangeSet,
    repo: RepoView,
    config: RepoConfig,
    analyzers: Sequence[Analyzer],
    *,
    workers: int = 1,
) -> AnalysisResult:
    """Run every analyzer that supports a changed file; record coverage for every file.

    `workers > 1` analyzes large changes in forked processes: only for callers that own the
    process (the CLI), never inside a threaded service.
    """
    started = time.perf_counter()
    result = AnalysisResult()
    analyzers = with_facts(analyzers, repo)
    inputs = _read_inputs(changes, repo, config, result)
    pairs = [(f, text) for _, f, text in inputs]
    if workers > 1 and len(pairs) >= PARALLEL_MIN_FILES:
        outcomes = _run_parallel(pairs, analyzers, workers)
    else:
        outcomes = [_analyze_file(f, text, analyzers) for f, text in pairs]
    for outcome in outcomes:
        result.findings.extend(outcome.findings)
        result.coverage.append(outcome.coverage)
        result.errors.extend(outcome.errors)
    order = {f.path: i for i, f in enumerate(changes.files)}
    result.coverage.sort(key=lambda c: order.get(c.path, len(order)))
    result.findings = dedupe(_apply_overrides(result.findings, config))
    result.seconds = time.perf_counter() - started
    return result


def with_facts(analyzers: Sequence[Analyzer], repo: RepoView) -> list[Analyzer]:
    """Analyzers that declare `needs_facts` get the head's model graph (bot/facts/), built on first use."""
    from bot.facts import facts_provider

    provide = facts_provider(repo)
    return [a.bind_facts(provide) if getattr(a, "needs_facts", False) else a for a in analyzers]  # type: ignore[attr-defined]


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
