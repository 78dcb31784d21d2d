"""Start-up code recognised through other files: a module of one-off data fixes that start-up code imports
(pure apart from reading through the RepoView it is given; bounded in searches, files and time).

`classify` (bot.analyzers.context) sees start-up hooks in a finding's own file. Projects often keep their
one-off data fixes in a module of their own that database initialisation imports (`db/fixes/...`, called
from `init_db()`), so that file alone says nothing. Evidence adds up like context's (two weak hints decide):

- weak: the file sits in a data-fix folder under a database package (`db/fixes/`, `database/migrations/`),
  or the enclosing function has a start-up name (`init_db`, `on_startup`, ...);
- from the files that import the module (outside tests): every call of it in start-up code, one of them a
  framework hook or a migration (classify says so): strong; start-up code recognised by name only
  (`main()` of `init_db.py`), or start-up callers next to plain library ones: weak. Any caller in a request
  handler or a background task: no evidence at all (the code then runs per request or per job).

Limits, documented: the repository search reads every Python file, so it runs only for a file with a weak
hint of its own, for at most MAX_SEARCHES modules per review, MAX_SEARCH_FILES files and SEARCH_SECONDS
each; `from x import (...)`
over several lines and callers two modules away are not followed.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import PurePosixPath

from bot.analyzers.context import STRONG, WEAK, PathKind, classify
from bot.analyzers.indent_scopes import enclosing_lines
from bot.core.deadline import Deadline
from bot.core.repo import RepoAccessError, RepoView, TextMatch

MAX_SEARCHES = 3  # modules whose importers are searched, per review
SEARCH_SECONDS = 3.0
MAX_IMPORTERS = 30
MAX_SEARCH_FILES = 5000  # Python files read for one search
MAX_CALLS = 20  # call sites read per importer
MAX_LINE_CHARS = 400

_DB_DIRS = frozenset({"db", "database", "databases"})
_FIX_DIRS = frozenset({"fixes", "fixups", "data_fixes", "datafixes", "data_migrations", "migrations"})
_STARTUP_NAME = re.compile(
    r"^(?:init_?db|init_database|initiali[sz]e_(?:db|database|data|app)|create_initial_\w+|on_startup|startup"
    r"|startup_\w+|\w+_on_startup|on_start|lifespan|prestart|pre_start|before_first_request|create_app)$"
)
_STARTUP_MODULE = re.compile(r"^(?:init_?db|init_database|initiali[sz]e_?\w*|startup|prestart|pre_start|bootstrap)$")
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)")
_FROM = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+\(?([^()#]{1,300})")
_IMPORT = re.compile(r"^\s*import\s+([\w.]+)(?:\s+as\s+(\w+))?")
_NOT_STARTUP = frozenset({PathKind.request_handler, PathKind.background_task})


def _lines(text: str) -> list[str]:
    return [line[:MAX_LINE_CHARS] for line in text.splitlines()]


def _enclosing_def(lines: list[str], line: int) -> str:
    for _, text, _ in enclosing_lines(lines, line):
        match = _DEF.match(text)
        if match:
            return match.group(1)
    return ""


def _stem(path: str) -> str:
    stem = posixpath.splitext(posixpath.basename(path))[0]
    return posixpath.basename(posixpath.dirname(path)) if stem == "__init__" else stem


def own_hints(path: str, text: str, line: int) -> list[str]:
    """Weak hints in the finding's own file that it is a one-off data fix or start-up code."""
    hints = []
    parts = PurePosixPath(path.lower()).parts
    for i, part in enumerate(parts[:-1]):
        if part in _FIX_DIRS and any(p in _DB_DIRS for p in parts[:i]):
            hints.append(f"it sits in {'/'.join(parts[: i + 1])}/")
            break
    name = _enclosing_def(_lines(text), line)
    if _STARTUP_NAME.match(name):
        hints.append(f"its function is named {name}")
    return hints


class StartupFinder:
    """Start-up evidence for findings of one review, with the repository searches cached and budgeted."""

    def __init__(self, repo: RepoView, max_searches: int = MAX_SEARCHES) -> None:
        self.repo = repo
        self.searches_left = max_searches
        self.callers: dict[str, tuple[int, str]] = {}

    def why(self, path: str, text: str, line: int) -> str | None:
        """Why `line` of `path` is start-up code, when the evidence adds up to a framework fact; else None."""
        hints = own_hints(path, text, line)
        if not hints:
            return None
        score, said = WEAK * len(hints), list(hints)
        if score < STRONG:
            weight, callers = self._caller_evidence(path)
            score += weight
            if weight:
                said.append(callers)
        return "; ".join(said) if score >= STRONG else None

    def _caller_evidence(self, path: str) -> tuple[int, str]:
        if path not in self.callers:
            if self.searches_left <= 0:
                return 0, ""
            self.searches_left -= 1
            self.callers[path] = self._search_callers(path)
        return self.callers[path]

    def _search_callers(self, path: str) -> tuple[int, str]:
        stem = _stem(path)
        if not re.fullmatch(r"\w+", stem):
            return 0, ""
        kinds: list[tuple[PathKind | None, str]] = []  # None: start-up by name only
        for hit, importer in self._importers(path, stem):
            kinds.extend(_call_sites(hit, importer, stem))
        return _weigh(kinds)

    def _importers(self, path: str, stem: str) -> list[tuple[TextMatch, str]]:
        """Import lines of the module `stem` in the repository's other Python files, with their file's text."""
        imports = re.compile(rf"^\s*(?:from\s+[\w.]*\b{stem}\s+import\s|import\s+[\w.]*\b{stem}\b"
                             rf"|from\s+[\w.]+\s+import\s+.*\b{stem}\b)")
        deadline = Deadline.after(SEARCH_SECONDS)
        try:
            files = [p for p in self.repo.list_files("**/*.py") if p != path][:MAX_SEARCH_FILES]
            prefetch = getattr(self.repo, "prefetch", None)
            if callable(prefetch):
                prefetch(files)
        except RepoAccessError:
            return []
        out: list[tuple[TextMatch, str]] = []
        for name in files:
            if deadline.expired() or len(out) >= MAX_IMPORTERS:
                break
            try:
                text = self.repo.read_text(name)
            except RepoAccessError:
                continue
            if stem not in text:
                continue
            for n, line in enumerate(_lines(text), 1):
                if stem in line and imports.match(line):
                    out.append((TextMatch(name, n, line), text))
                    break
        return out


def _call_sites(hit: TextMatch, text: str, stem: str) -> list[tuple[PathKind | None, str]]:
    """(kind, where) of each call of the imported module in the importer; kind None: a start-up name only,
    PathKind.library: nothing known."""
    calls = _call_pattern(hit.text, stem)
    if calls is None:
        return []
    lines = _lines(text)
    out: list[tuple[PathKind | None, str]] = []
    for n, line in enumerate(lines, 1):
        if n == hit.line or not calls.search(line):
            continue
        kind = classify(hit.path, text, n).kind
        name = _enclosing_def(lines, n)
        where = f"{name or 'module level'}() in {hit.path}"
        if kind == PathKind.test:
            continue
        if kind == PathKind.library and (_STARTUP_NAME.match(name) or _STARTUP_MODULE.match(_stem(hit.path))):
            out.append((None, where))
        else:
            out.append((kind, where))
        if len(out) >= MAX_CALLS:
            break
    return out


def _call_pattern(import_line: str, stem: str) -> re.Pattern[str] | None:
    """What a call of the imported module looks like in the importer."""
    found = _FROM.match(import_line)
    if found and found.group(1).split(".")[-1] == stem:
        names = [part.split(" as ")[-1].strip() for part in found.group(2).split(",")]
        names = [n for n in names if re.fullmatch(r"\w+", n)]
        return re.compile(rf"(?<![\w.])(?:{'|'.join(map(re.escape, names))})\(") if names else None
    if found:  # from package import stem [as alias]
        for part in found.group(2).split(","):
            bits = part.split(" as ")
            if bits[0].strip() == stem:
                alias = bits[-1].strip()
                return re.compile(rf"(?<![\w.]){re.escape(alias)}\.\w+\(")
        return None
    imported = _IMPORT.match(import_line)
    if imported:
        alias = imported.group(2) or imported.group(1)
        return re.compile(rf"(?<![\w.]){re.escape(alias)}\.\w+\(")
    return None


def _weigh(kinds: list[tuple[PathKind | None, str]]) -> tuple[int, str]:
    if not kinds or any(kind in _NOT_STARTUP for kind, _ in kinds):
        return 0, ""
    startup = [(kind, where) for kind, where in kinds if kind in (None, PathKind.startup, PathKind.migration)]
    if not startup:
        return 0, ""
    framework = any(kind is not None for kind, _ in startup)
    where = "called from " + ", ".join(w for _, w in startup[:2])
    if framework and len(startup) == len(kinds):
        return STRONG, where
    return WEAK, where
