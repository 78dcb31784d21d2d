"""Validation by code: the model's reported findings -> Findings the review may publish.

A finding must name a file of the change and head-side lines the diff shows, or it is dropped
(with the reason counted). A suggestion must replace exactly those lines and leave a file that
still parses (ast-grep: an ERROR or missing node where the old tree had none means it does not),
or the suggestion is removed and the finding kept. Findings that repeat an analyzer's (same file,
overlapping lines, same category) or each other are dropped. `critical` needs a tool read of the
file, else it becomes `high`. Text is length-capped. The gate only ever sees what survives here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ast_grep_py import SgRoot
from pydantic import ValidationError

from bot.core.diff import ChangeSet, FileChange
from bot.core.model import Finding, Severity, fingerprint
from bot.core.repo import RepoAccessError, RepoView, check_path
from bot.specialist.tools import ReportFindingInput

SOURCE = "specialist"
CAPS = {"title": 200, "evidence": 2000, "risk": 1500, "advice": 2000, "rollback": 1000,
        "monitoring": 1000, "handoff": 200, "suggestion": 8000}
MAX_PARSE_NODES = 400_000

DROP_INVALID = "invalid finding: {problem}"
DROP_NOT_CHANGED = "{path}: not a file of this change"
DROP_NOT_REVIEWABLE = "{path}: the change has no head-side text"
DROP_NOT_SHOWN = "{path}:{start}-{end}: lines not shown by the diff"
DROP_DUP_ANALYZER = "{path}:{start}-{end}: same {category} as analyzer finding {id}"
DROP_DUP_SPECIALIST = "{path}:{start}-{end}: repeats specialist finding {id}"
SUGGESTION_REMOVED = "{path}:{start}-{end}: suggestion removed ({why})"
DOWNGRADED = "{path}:{start}-{end}: critical without a tool read of the file, downgraded to high"
WHY_CLAMPED = "written for lines {start}-{end}, the diff shows {a}-{b}"
WHY_PARSE = "the file would no longer parse"
WHY_NOOP = "it changes nothing"
WHY_FENCE = "it contains a code fence"
WHY_UNREADABLE = "the file could not be read"
WHY_UNCHECKED = "the parser failed on the file, so the result could not be checked"

LANGUAGE_BY_SUFFIX = {
    ".py": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".tsx": "tsx", ".go": "go", ".java": "java", ".rs": "rust", ".rb": "ruby",
    ".kt": "kotlin", ".kts": "kotlin", ".cs": "csharp", ".php": "php", ".scala": "scala", ".yml": "yaml",
    ".yaml": "yaml", ".json": "json", ".sh": "bash", ".bash": "bash", ".c": "c", ".h": "c", ".cc": "cpp",
    ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
}


@dataclass
class Validation:
    findings: list[Finding] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # one reason per dropped finding
    notes: list[str] = field(default_factory=list)  # suggestions removed, severities lowered


def language_for(path: str) -> str | None:
    return LANGUAGE_BY_SUFFIX.get(PurePosixPath(path).suffix.lower())


def _broken(text: str, lang: str) -> bool:
    """True when the tree has an ERROR node or a missing (zero-width) token."""
    stack = [SgRoot(text, lang).root()]
    seen = 0
    while stack and seen < MAX_PARSE_NODES:
        node = stack.pop()
        seen += 1
        if node.kind() == "ERROR":
            return True
        if node.is_leaf():
            rng = node.range()
            if rng.start.index == rng.end.index and node.kind() not in ("", "\n") and node.parent() is not None:
                return True
        else:
            stack.extend(node.children())
    return False


def apply_suggestion(text: str, start: int, end: int, suggestion: str) -> str:
    lines = text.splitlines(keepends=True)
    newline = "\n" if not lines or lines[-1].endswith("\n") or end < len(lines) else ""
    replacement = suggestion if suggestion.endswith("\n") or not suggestion else suggestion + "\n"
    if end >= len(lines) and not newline:
        replacement = replacement.rstrip("\n")
    return "".join(lines[: start - 1]) + replacement + "".join(lines[end:])


def suggestion_problem(text: str | None, path: str, start: int, end: int, suggestion: str) -> str | None:
    """Why a suggestion for start..end of `text` cannot stand, or None when it can."""
    if text is None:
        return WHY_UNREADABLE
    if "```" in suggestion:
        return WHY_FENCE
    current = "".join(text.splitlines(keepends=True)[start - 1 : end])
    if current.rstrip("\n") == suggestion.rstrip("\n"):
        return WHY_NOOP
    lang = language_for(path)
    if not lang:
        return None
    try:
        if not _broken(text, lang) and _broken(apply_suggestion(text, start, end, suggestion), lang):
            return WHY_PARSE
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # the parser is native code: a panic arrives as a BaseException
        return WHY_UNCHECKED
    return None


def _overlaps(a: Finding, b: Finding) -> bool:
    return a.path == b.path and a.start_line <= b.end_line and b.start_line <= a.end_line


def _cap(value: str | None, key: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    limit = CAPS[key]
    return value if len(value) <= limit else value[: limit - 1] + "…"


class _Checker:
    def __init__(self, changes: ChangeSet, candidates: list[Finding], repo: RepoView,
                 reads: dict[str, Any]) -> None:
        self.changes, self.candidates, self.repo, self.reads = changes, candidates, repo, reads
        self.out = Validation()
        self._texts: dict[str, str | None] = {}

    def text(self, path: str) -> str | None:
        if path not in self._texts:
            try:
                self._texts[path] = self.repo.read_text(path)
            except RepoAccessError:
                self._texts[path] = None
        return self._texts[path]

    def locate(self, raw: ReportFindingInput) -> tuple[FileChange, int, int] | None:
        try:
            path = check_path(raw.path)
        except RepoAccessError:
            path = raw.path
        fc = self.changes.get(path)
        lo, hi = sorted((raw.start_line, raw.end_line))
        if fc is None:
            self.out.dropped.append(DROP_NOT_CHANGED.format(path=path))
            return None
        if not fc.reviewable:
            self.out.dropped.append(DROP_NOT_REVIEWABLE.format(path=path))
            return None
        anchor = fc.anchor(lo, hi)
        if anchor is None:
            self.out.dropped.append(DROP_NOT_SHOWN.format(path=path, start=lo, end=hi))
            return None
        return fc, anchor[0], anchor[1]

    def suggestion(self, raw: ReportFindingInput, path: str, start: int, end: int) -> str | None:
        if not raw.suggestion:
            return None
        lo, hi = sorted((raw.start_line, raw.end_line))
        if (lo, hi) != (start, end):
            why: str | None = WHY_CLAMPED.format(start=lo, end=hi, a=start, b=end)
        else:
            why = suggestion_problem(self.text(path), path, start, end, raw.suggestion)
        if why:
            self.out.notes.append(SUGGESTION_REMOVED.format(path=path, start=start, end=end, why=why))
            return None
        return _cap(raw.suggestion, "suggestion")

    def severity(self, raw: ReportFindingInput, path: str, start: int, end: int) -> Severity:
        if raw.severity == Severity.critical and not self.reads.get(path):
            self.out.notes.append(DOWNGRADED.format(path=path, start=start, end=end))
            return Severity.high
        return raw.severity

    def build(self, raw: ReportFindingInput) -> Finding | None:
        located = self.locate(raw)
        if located is None:
            return None
        fc, start, end = located
        text = self.text(fc.path) or ""
        code = "".join(text.splitlines(keepends=True)[start - 1 : end]) or raw.title
        return Finding(
            id=fingerprint(f"{SOURCE}:{raw.category.value}", fc.path, code),
            category=raw.category,
            severity=self.severity(raw, fc.path, start, end),
            path=fc.path,
            start_line=start,
            end_line=end,
            title=_cap(raw.title, "title") or raw.category.value,
            evidence=_cap(raw.evidence, "evidence") or "",
            risk=_cap(raw.risk, "risk") or "",
            suggestion=self.suggestion(raw, fc.path, start, end),
            advice=_cap(raw.advice, "advice"),
            rollback=_cap(raw.rollback, "rollback") or "",
            monitoring=_cap(raw.monitoring, "monitoring") or "",
            confidence=raw.confidence,
            source=SOURCE,
            handoff=_cap(raw.handoff, "handoff"),
        )

    def duplicate(self, f: Finding) -> str | None:
        return _duplicate(f, self.candidates, self.out.findings)


def _duplicate(f: Finding, candidates: list[Finding], kept: list[Finding]) -> str | None:
    """Why `f` repeats an analyzer's finding or a kept one (same file, overlapping lines, same category)."""
    where = {"path": f.path, "start": f.start_line, "end": f.end_line}
    for c in candidates:
        if c.category == f.category and _overlaps(c, f):
            return DROP_DUP_ANALYZER.format(category=f.category.value, id=c.id, **where)
    for k in kept:
        if k.id == f.id or (k.category == f.category and _overlaps(k, f)):
            return DROP_DUP_SPECIALIST.format(id=k.id, **where)
    return None


def validate_findings(
    reported: Iterable[dict[str, Any]],
    *,
    changes: ChangeSet,
    candidates: list[Finding],
    repo: RepoView,
    reads: dict[str, Any],
) -> Validation:
    """Check every reported finding; return the survivors, and why the others were dropped."""
    checker = _Checker(changes, candidates, repo, reads)
    for item in reported:
        try:
            raw = ReportFindingInput.model_validate(item)
        except ValidationError as exc:
            checker.out.dropped.append(DROP_INVALID.format(problem=exc.errors()[0]["msg"]))
            continue
        finding = checker.build(raw)
        if finding is None:
            continue
        why = checker.duplicate(finding)
        if why:
            checker.out.dropped.append(why)
        else:
            checker.out.findings.append(finding)
    return checker.out


def recheck_carried(carried: Iterable[Finding], *, changes: ChangeSet, candidates: list[Finding],
                    kept: list[Finding]) -> Validation:
    """Earlier findings carried past a follow-up push, checked against the WHOLE change as it is now:
    still on head-side lines the pull request's diff shows (a suggestion is dropped when the lines had
    to be clamped), and not repeating an analyzer's finding or one in `kept` (the new ones)."""
    out = Validation()
    seen = list(kept)
    for f in carried:
        fc = changes.get(f.path)
        span = fc.anchor(f.start_line, f.end_line) if fc is not None and fc.reviewable else None
        if span is None:
            out.dropped.append(DROP_NOT_SHOWN.format(path=f.path, start=f.start_line, end=f.end_line))
            continue
        if span != (f.start_line, f.end_line):
            f = f.model_copy(update={"start_line": span[0], "end_line": span[1], "suggestion": None})
        why = _duplicate(f, candidates, seen)
        if why:
            out.dropped.append(why)
            continue
        seen.append(f)
        out.findings.append(f)
    return out
