"""Runs the analyzers over the changed files of a ChangeSet: path filters, caps, overrides.

Differential: a changed file is analysed at head and, when an analyzer reports something there, at
base too (read through the base-side RepoView); a head finding with an equivalent at base is
pre-existing (bot.analyzers.matching) and never gates. Pure apart from reading text through the
RepoViews it is given.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot.analyzers.association_facts import weigh_association_reads
from bot.analyzers.base import Analyzer, FileInput, NotAnalysed
from bot.analyzers.calibrate import DATA_VOLUME, as_startup, calibrate
from bot.analyzers.change_context import ChangeContext, ChangedText, bounded_reader, folder_reader
from bot.analyzers.column_types import weigh_type_changes
from bot.analyzers.database_engines import weigh_index_locks
from bot.analyzers.generated import marker_reason, parse_gitattributes, path_reason
from bot.analyzers.matching import split_introduced, untouched_matches, whole_file_change
from bot.analyzers.mitigations import Effect, find_mitigation, ignored_columns, model_path_for_table
from bot.analyzers.repeats import group_repeats
from bot.analyzers.same_problem import SAFEGUARD_PREFIX, drop_other_ends, merge_same_problem
from bot.analyzers.skips import NOT_ANALYSED, declined_reason, file_coverage, hides_code, over_line_cap
from bot.analyzers.sql_migrations import is_code_migration, is_sql_migration
from bot.analyzers.startup_paths import StartupFinder
from bot.analyzers.test_paths import reason_if_test
from bot.analyzers.time_budget import AnalysisBudget, run_bounded
from bot.core.deadline import NEVER, Deadline
from bot.core.diff import ChangeSet, FileChange, FileStatus
from bot.core.model import CoverageStatus, FileCoverage, Finding
from bot.core.repo import RepoAccessError, RepoView, glob_match
from bot.core.repo_config import RepoConfig
from bot.facts.databases import database_facts_for
from bot.facts.graph import RepoFacts

MAX_FILES = 3000
MAX_CHANGED_LINES_PER_FILE = 20_000
PARALLEL_MIN_FILES = 40  # below this, forking costs more than it saves


@dataclass
class AnalysisResult:
    findings: list[Finding] = field(default_factory=list)  # introduced by the change
    pre_existing: list[Finding] = field(default_factory=list)  # already there at base, in lines the change touched
    coverage: list[FileCoverage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the summary must say (files left out as generated, ...)
    seconds: float = 0.0
    facts: str = ""  # for the specialist's first message (bot.review.specialist_facts), when a model will read it
    generated: list[str] = field(default_factory=list)  # paths left out as generated or vendored: never sent on
    extra_rules: list[Any] = field(default_factory=list)  # the team's own rules (repo_rules.RepoRule), for SARIF


def _skip_reason(f: FileChange, config: RepoConfig) -> str | None:
    if f.status == FileStatus.deleted:
        return "deleted"
    if f.status == FileStatus.binary:
        return "binary file"
    if f.status == FileStatus.mode_only:
        return "mode change only"
    if not f.changed:
        return "no changed lines"
    if config.paths.include and not any(glob_match(f.path, g) for g in config.paths.include):
        return "not in paths.include"
    for g in config.paths.exclude:
        if glob_match(f.path, g):
            return f"excluded by paths.exclude '{g}'"
    tests = reason_if_test(f.path, config.paths.tests)
    if tests:
        return tests
    return over_line_cap(f, MAX_CHANGED_LINES_PER_FILE)


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
    pre_existing: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class _Input:
    change: FileChange
    text: str
    base_text: str | None = None  # None: an added file, or the base side could not be read


_WORKER_ANALYZERS: Sequence[Analyzer] = ()
_WORKER_LIMITS: tuple[AnalysisBudget, Deadline] = (AnalysisBudget(), NEVER)


def _run_one(
    analyzer: Analyzer, item: _Input, budget: AnalysisBudget, deadline: Deadline
) -> tuple[list[Finding], list[Finding], str | None] | None:
    """(introduced, pre-existing) findings of one analyzer on one file, calibrated to their code path, and why
    part of the file could not be read (None: all of it was); None when the analyzer ran out of its time on the
    head side. Each run has the per-file budget; a base side that runs out or cannot be parsed leaves every head
    finding introduced (never hides one). `NotAnalysed` with nothing found propagates: the file was not read."""
    f = item.change
    partial: str | None = None
    split = getattr(analyzer, "analyze_split", None) if item.base_text is not None else None
    head_untouched: list[Finding] | None = None
    try:
        file = FileInput(f, item.text, item.base_text, deadline)
        if split is not None:
            both = run_bounded(analyzer, file, budget.file_seconds, split)
            head, head_untouched = both if both is not None else (None, None)
        else:
            head = run_bounded(analyzer, file, budget.file_seconds)
    except NotAnalysed as exc:
        if not exc.findings:
            raise
        head, partial = exc.findings, str(exc)
    if head is None:
        return None
    found = [x for x in head if f.touches(x.start_line, x.end_line)]
    new, old = found, list[Finding]()
    if found and item.base_text is not None:
        twin = _narrowed(analyzer, found)
        base = _side(twin, FileInput(whole_file_change(f.path, item.base_text), item.base_text, None, deadline), budget)
        whole = head_untouched
        if whole is None:  # the head run did not report its untouched matches: run the fired rules on every line
            whole = _side(
                twin, FileInput(whole_file_change(f.path, item.text), item.text, item.base_text, deadline), budget
            )
        if base is not None and whole is not None:
            untouched = untouched_matches(whole, found, f, item.text)  # they claim their twins first
            new, old = split_introduced(found + untouched, base, f, item.text, item.base_text)
    return _calibrated(new, item.text), _calibrated(old, item.text), partial


def _narrowed(analyzer: Analyzer, found: list[Finding]) -> Analyzer:
    """The analyzer restricted to the rules behind `found`, when it can be (the twins a base-side run looks
    for are findings of those rules only); otherwise the analyzer itself."""
    narrow = getattr(analyzer, "narrowed", None)
    return narrow(frozenset(x.source for x in found)) if narrow is not None else analyzer


def _side(analyzer: Analyzer, file: FileInput, budget: AnalysisBudget) -> list[Finding] | None:
    """A whole-file run for telling introduced from pre-existing; None when it ran out of time or could not parse."""
    try:
        return run_bounded(analyzer, file, budget.file_seconds)
    except NotAnalysed:
        return None


def _calibrated(findings: list[Finding], text: str) -> list[Finding]:
    return [c for x in findings if (c := calibrate(x, text)) is not None]


MAX_MODEL_READS = 20  # Rails model files read to check `ignored_columns`, per review


def _drop_ignored_columns(findings: list[Finding], texts: dict[str, str], repo: RepoView) -> list[Finding]:
    """Silence Rails column removals under `safety_assured` whose column the model already ignores
    (the one mitigation that needs another file: the model, read through `repo`, a few per review)."""
    cache: dict[str, frozenset[str]] = {}

    def ignored_of(table: str) -> frozenset[str]:
        if table not in cache and len(cache) < MAX_MODEL_READS:
            try:
                cache[table] = ignored_columns(repo.read_text(model_path_for_table(table)))
            except RepoAccessError:
                cache[table] = frozenset()
        return cache.get(table, frozenset())

    out: list[Finding] = []
    for f in findings:
        text = texts.get(f.path, "")
        if f.path.endswith(".rb") and "safety_assured" in text:
            found = find_mitigation(f, text, ignored_of)
            if found is not None and found.effect == Effect.silence:
                continue
        out.append(f)
    return out


def _place_startup_code(findings: list[Finding], texts: dict[str, str], repo: RepoView) -> list[Finding]:
    """Data-volume findings in Python files no framework fact placed (library) that other files show to be
    start-up code (bot.analyzers.startup_paths): capped, never gating."""
    finder = StartupFinder(repo)
    out: list[Finding] = []
    for f in findings:
        if f.path_kind == "library" and f.path.endswith(".py") and f.category in DATA_VOLUME:
            why = finder.why(f.path, texts.get(f.path, ""), f.start_line)
            if why:
                f = as_startup(f, why)
        out.append(f)
    return out


def _analyze_file(
    item: _Input, analyzers: Sequence[Analyzer], budget: AnalysisBudget = AnalysisBudget(),
    review_deadline: Deadline = NEVER,
) -> _FileOutcome:
    f = item.change
    used: list[str] = []
    findings: list[Finding] = []
    old: list[Finding] = []
    errors: list[str] = []
    declined: list[str] = []  # analyzers that would read the file but did not (size cap, time budget, policy)
    for analyzer in analyzers:
        if not analyzer.supports(f.path, item.text):
            continue
        reason = declined_reason(analyzer, f.path, item.text, review_deadline)
        if reason:
            declined.append(reason)
            continue
        try:
            outcome = _run_one(analyzer, item, budget, review_deadline)
        except NotAnalysed as exc:
            declined.append(NOT_ANALYSED.format(why=exc, name=analyzer.name))
            continue
        except Exception as exc:  # an analyzer bug must not sink the review, nor pass the file as read
            errors.append(f"{analyzer.name} failed on {f.path}: {type(exc).__name__}: {exc}")
            declined.append(f"{analyzer.name} failed")
            continue
        if outcome is None:
            declined.append(f"{analyzer.name} ran out of time")
            continue
        used.append(analyzer.name)
        findings.extend(outcome[0])
        old.extend(outcome[1])
        if outcome[2]:  # read in part (a malformed document after good ones): its findings stand, the file is not
            declined.append(NOT_ANALYSED.format(why=outcome[2], name=analyzer.name))
    return _FileOutcome(findings, file_coverage(f.path, used, declined, budget), errors, old)


def _analyze_chunk(chunk: list[_Input]) -> list[_FileOutcome]:
    return [_analyze_file(item, _WORKER_ANALYZERS, *_WORKER_LIMITS) for item in chunk]


def _set_worker_analyzers(analyzers: Sequence[Analyzer], limits: tuple[AnalysisBudget, Deadline]) -> None:
    global _WORKER_ANALYZERS, _WORKER_LIMITS
    _WORKER_ANALYZERS, _WORKER_LIMITS = analyzers, limits


def _run_parallel(
    inputs: list[_Input], analyzers: Sequence[Analyzer], workers: int, limits: tuple[AnalysisBudget, Deadline],
) -> list[_FileOutcome]:
    """Spread files over forked processes (the analyzers are inherited, not pickled); order is kept."""
    size = max(1, len(inputs) // (workers * 4))
    chunks = [inputs[i : i + size] for i in range(0, len(inputs), size)]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_set_worker_analyzers, initargs=(analyzers, limits)
    ) as pool:
        return [outcome for part in pool.map(_analyze_chunk, chunks) for outcome in part]


def _prefetch(repo: RepoView, paths: list[str], result: AnalysisResult, side: str) -> None:
    prefetch = getattr(repo, "prefetch", None)
    if callable(prefetch) and paths:
        try:
            prefetch(paths)
        except RepoAccessError as exc:
            result.errors.append(f"{side} prefetch failed: {exc}")


def _base_path(f: FileChange) -> str | None:
    """Where the file was at base, when it existed there."""
    if f.status in (FileStatus.modified, FileStatus.renamed):
        return f.old_path or f.path
    return None


def _read_inputs(
    changes: ChangeSet, repo: RepoView, config: RepoConfig, result: AnalysisResult, base_repo: RepoView | None,
    analyzers: Sequence[Analyzer] = (), attributes: list[Any] | None = None,
) -> list[_Input]:
    """Files to analyze with their head (and base) text; every other file gets its coverage reason now."""
    files = list(changes.files)
    attributes = base_attributes(base_repo) if attributes is None else attributes
    # decided from the path alone, before any text is read (a lockfile is neither prefetched nor read)
    skips = {f.path: _skip_reason(f, config) for f in files[:MAX_FILES]}
    generated = {f.path: _generated_by_path(f, config, attributes) for f in files[:MAX_FILES] if not skips[f.path]}
    wanted = [f for f in files[:MAX_FILES] if not skips[f.path] and not generated[f.path]]
    _prefetch(repo, [f.path for f in wanted], result, "head")
    if base_repo is not None:
        _prefetch(base_repo, [p for f in wanted if (p := _base_path(f))], result, "base")
    inputs: list[_Input] = []
    for index, f in enumerate(files):
        reason = f"over the {MAX_FILES}-file cap" if index >= MAX_FILES else skips[f.path] or generated[f.path]
        read_error = None
        if reason is None:
            try:
                item = _Input(f, repo.read_text(f.path), _read_base(f, base_repo))
            except RepoAccessError as exc:
                reason = read_error = str(exc)
            else:
                reason = generated[f.path] = _generated_by_marker(item, config)
                if reason is None:
                    inputs.append(item)
                    continue
        if generated.get(f.path):
            result.generated.append(f.path)
        if generated.get(f.path) and f.status == FileStatus.added:
            result.notes.append(GENERATED_NEW_NOTE.format(path=f.path, reason=reason))  # a new file can't hide
        hidden = hides_code(f, repo, analyzers, read_error=read_error, over_file_cap=index >= MAX_FILES,
                            line_cap=MAX_CHANGED_LINES_PER_FILE)
        result.coverage.append(FileCoverage(path=f.path, status=CoverageStatus.skipped, reason=reason,
                                            incomplete=hidden))
    return inputs


GENERATED_NEW_NOTE = "New file left out as generated: {path} ({reason}); set paths.generated: review to review it"


def base_attributes(base_repo: RepoView | None) -> list[Any]:
    """The base branch's `.gitattributes` lines we honour (none without a base: a change cannot mark itself)."""
    if base_repo is None:
        return []
    try:
        return parse_gitattributes(base_repo.read_text(".gitattributes"))
    except RepoAccessError:
        return []


def _is_migration(path: str) -> bool:
    return is_sql_migration(path) or is_code_migration(path)


def _generated_by_path(f: FileChange, config: RepoConfig, attributes: list[Any]) -> str | None:
    """Left out as generated or vendored by its path (base .gitattributes, well-known names), or None."""
    if config.paths.generated == "review":
        return None
    return path_reason(f.path, attributes, _is_migration(f.path))


def _generated_by_marker(item: _Input, config: RepoConfig) -> str | None:
    """Left out as generated by a marker in its first lines (the base must have had it too), or None."""
    if config.paths.generated == "review":
        return None
    f = item.change
    return marker_reason(head_text=item.text, base_text=item.base_text, is_new=f.status == FileStatus.added,
                         is_migration=_is_migration(f.path))


def _read_base(f: FileChange, base_repo: RepoView | None) -> str | None:
    path = _base_path(f)
    if base_repo is None or path is None:
        return None
    try:
        return base_repo.read_text(path)
    except RepoAccessError:
        return None  # unreadable at base: every head finding counts as introduced, as before


def analyze_change(
    changes: ChangeSet,
    repo: RepoView,
    config: RepoConfig,
    analyzers: Sequence[Analyzer],
    *,
    workers: int = 1,
    base_repo: RepoView | None = None,
    budget: AnalysisBudget | None = None,
    attributes: list[Any] | None = None,
) -> AnalysisResult:
    """Run every analyzer that supports a changed file; record coverage for every file.

    With `base_repo` (the repository at the change's base), findings that already existed there go
    to `pre_existing`. `workers > 1` analyzes large changes in forked processes: only for callers that own
    the process (the CLI), never inside a threaded service. `budget` bounds each analyzer run on a file and
    the whole step; what runs out is reported "not reviewed (time budget)". `attributes`: the base's parsed
    `.gitattributes` when the caller read it already (else read through `base_repo`).
    """
    started = time.perf_counter()
    budget = budget or AnalysisBudget()
    limits = (budget, Deadline.after(budget.review_seconds))
    result = AnalysisResult()
    head_facts = _facts_of(repo)  # one lazy graph for the analyzers, the change context and the weighing below
    analyzers = with_facts(analyzers, head_facts)
    inputs = _read_inputs(changes, repo, config, result, base_repo, analyzers, attributes)
    analyzers = with_change_context(analyzers, inputs, head_facts, base_repo, repo)
    if workers > 1 and len(inputs) >= PARALLEL_MIN_FILES:
        outcomes = _run_parallel(inputs, analyzers, workers, limits)
    else:
        outcomes = [_analyze_file(item, analyzers, *limits) for item in inputs]
    for outcome in outcomes:
        result.findings.extend(outcome.findings)
        result.pre_existing.extend(outcome.pre_existing)
        result.coverage.append(outcome.coverage)
        result.errors.extend(outcome.errors)
    texts = {item.change.path: item.text for item in inputs}
    result.findings = _drop_ignored_columns(result.findings, texts, repo)
    result.findings = weigh_type_changes(result.findings, texts, repo)
    result.findings = _place_startup_code(result.findings, texts, repo)
    result.findings = weigh_association_reads(result.findings, texts, head_facts)
    result.pre_existing = weigh_association_reads(result.pre_existing, texts, head_facts)
    result.findings, engine_notes = weigh_index_locks(result.findings, lambda: database_facts_for(repo))
    result.pre_existing, _ = weigh_index_locks(result.pre_existing, lambda: database_facts_for(repo))
    result.notes.extend(engine_notes)
    order = {f.path: i for i, f in enumerate(changes.files)}
    result.coverage.sort(key=lambda c: order.get(c.path, len(order)))
    result.findings = group_repeats(dedupe(_apply_overrides(result.findings, config)))
    result.pre_existing = group_repeats(dedupe(_apply_overrides(result.pre_existing, config)))
    result.seconds = time.perf_counter() - started
    return result


def _facts_of(repo: RepoView) -> Callable[[], RepoFacts]:
    """The head's model graph, built on first use only."""
    from bot.facts import facts_provider

    return facts_provider(repo)


def with_facts(analyzers: Sequence[Analyzer], provide: Callable[[], RepoFacts]) -> list[Analyzer]:
    """Analyzers that declare `needs_facts` get the head's model graph (bot/facts/) from `provide`, built on
    first use."""
    return [a.bind_facts(provide) if getattr(a, "needs_facts", False) else a for a in analyzers]  # type: ignore[attr-defined]


def with_change_context(
    analyzers: Sequence[Analyzer], inputs: list[_Input], head_facts: Callable[[], RepoFacts],
    base_repo: RepoView | None, head_repo: RepoView | None = None,
) -> list[Analyzer]:
    """Analyzers that declare `needs_change_context` get what the whole change offers (bot.analyzers.change_context):
    the head's model graph, base-side reads and head folder reads on first use, the changed files' texts."""
    if not any(getattr(a, "needs_change_context", False) for a in analyzers):
        return list(analyzers)
    head_folder = None
    if head_repo is not None:
        def entries(folder: str, view: RepoView = head_repo) -> list[tuple[str, str]]:
            return [(e.path, e.kind) for e in view.list_folder(folder)]

        head_folder = folder_reader(entries, head_repo.read_text, (RepoAccessError,))
    context = ChangeContext(
        head_facts=head_facts,
        read_base=bounded_reader(base_repo.read_text, (RepoAccessError,)) if base_repo is not None else None,
        files=tuple(ChangedText(i.change.path, i.base_text, i.text) for i in inputs),
        head_folder=head_folder,
    )
    return [
        a.bind_change(context) if getattr(a, "needs_change_context", False) else a  # type: ignore[attr-defined]
        for a in analyzers
    ]


def dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per id, and per (path, lines, category): the most severe wins; a removed safeguard and
    another rule's finding on the same statement are one problem (bot.analyzers.same_problem)."""
    best: dict[tuple[str, int, int, str, bool], Finding] = {}
    seen_ids: set[str] = set()
    for f in sorted(findings, key=lambda x: (-x.severity.rank, -x.confidence, x.source)):
        # a removed safeguard is merged below with a note, not dropped here for sharing the other rule's lines
        key = (f.path, f.start_line, f.end_line, f.category.value, f.source.startswith(SAFEGUARD_PREFIX))
        if f.id in seen_ids or key in best:
            continue
        seen_ids.add(f.id)
        best[key] = f
    merged = merge_same_problem(drop_other_ends(list(best.values())))
    return sorted(merged, key=lambda x: (x.path, x.start_line, x.source))
