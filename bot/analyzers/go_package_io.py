"""Per-item calls to Go functions of the same package that do I/O (bot/analyzers/rules/go_package.yml).

A Go service spreads one request over the files of a package: the handler's loop calls
`s.convertMemoFromStore(ctx, memo)` (declared in a converter file), which calls `s.ListMemoRelations(ctx, ...)`,
which queries the store. The ast-grep pack sees one file and one call; this analyzer indexes the functions of
the changed file's whole folder (read through the review's repository view, bounded), marks those that do I/O
(a database/sql or sqlx query, a GORM read, an HTTP request, or a call with the context on a store, repository,
client or service field) directly or through one more function of the package, and reports a call inside a
`range` loop of the changed lines to one of them.

Pure text reading, line-bounded regular expressions over gofmt-shaped code; nothing here is executed.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from bot.analyzers.base import FileInput
from bot.analyzers.change_context import ChangeContext
from bot.analyzers.context_rules import ChangeRulesAnalyzer
from bot.analyzers.rule_info import Hit, findings_from_hits
from bot.analyzers.test_paths import reason_if_test
from bot.core.model import Finding

RULE = "go-package-helper-query-per-item"
RULES_FILE = Path(__file__).parent / "rules" / "go_package.yml"
MAX_TEXT_CHARS = 400_000
MAX_LINE_CHARS = 400
MAX_FINDINGS = 20
DEPTH = 2  # a function that calls an I/O function of the package is I/O too, this many calls deep

_FUNC = re.compile(r"^func (?:\((\w+) \*?(\w+)(?:\[[^\]]{0,80}\])?\) )?(\w+)(?:\[[^\]]{0,80}\])?\(")
_RANGE = re.compile(r"^(\s*)for\s.{0,200}\brange\s+(.{1,200}?)\s*\{\s*$")
# `name(`, `recv.name(`, and a method on a converted value: `(*App)(a).name(`
_CALL = re.compile(r"(?:\(\*?(\w+)\)\(\w+\)\.|(?<![\w.])(\w+)\.|(?<![\w.)]))(\w+)\(")
_IO = (
    # database/sql, sqlx, pgx
    re.compile(r"\.(Query|QueryRow|QueryContext|QueryRowContext|Queryx|QueryRowx|QueryxContext|QueryRowxContext|"
               r"NamedQuery|NamedQueryContext)\(|\.(GetContext|SelectContext)\(\s*ctx\b"),
    # GORM reads: db.Where(...).First(&x), tx.Find(&rows)
    re.compile(r"\b(?:db|tx|DB|Db|orm|gormDB)\b[\w.()\"'?, ]{0,200}\.(First|Find|Take|Last|Count|Pluck|Scan)\(\s*&"),
    # a store/repository/client/service field called with the request context
    re.compile(r"\b\w+\.(\w*(?:[Ss]tore|[Rr]epo|[Rr]epository|[Cc]lient|[Ss]ervice|[Dd]ao|DAO|[Qq]ueries|DB|[Dd]b|"
               r"[Ee]ngine|[Pp]ool|[Cc]onn|[Rr]edis|[Cc]ache|[Aa]pi|API))\.\w+\(\s*ctx\b"),
    # outbound HTTP
    re.compile(r"\bhttp\.(Get|Post|Head|PostForm)\(|\b\w*[Cc]lient\.Do\(|\bhttp\.DefaultClient\.\w+\("),
)
_NOT_CALLS = frozenset({
    "append", "len", "cap", "make", "new", "delete", "copy", "panic", "recover", "print", "println", "min", "max",
    "string", "int", "int64", "int32", "uint", "float64", "byte", "rune", "error", "bool", "clear", "close",
})


@dataclass(frozen=True)
class Func:
    name: str
    receiver_type: str  # "" for a plain function
    path: str
    start: int  # 0-based line of the signature
    body: tuple[str, ...]
    receiver: str = ""  # the receiver's variable name (`s` in `func (s *Service) ...`)

    @property
    def key(self) -> Key:
        return (self.receiver_type, self.name)


Key = tuple[str, str]  # (receiver type or "", name): what a call resolves to in the package


def _functions(path: str, text: str) -> list[Func]:
    lines = text.splitlines()
    out: list[Func] = []
    i = 0
    while i < len(lines):
        m = _FUNC.match(lines[i][:MAX_LINE_CHARS])
        if m is None:
            i += 1
            continue
        signature = lines[i].rstrip()
        if signature.endswith("}") and signature.count("{") == signature.count("}"):
            out.append(Func(m.group(3), m.group(2) or "", path, i, (signature[:MAX_LINE_CHARS],), m.group(1) or ""))
            i += 1
            continue  # a one-line function: `func (a *App) Query() Resolver { return (*Query)(a) }`
        end = i + 1
        while end < len(lines) and lines[end] != "}":
            end += 1
        body = tuple(x[:MAX_LINE_CHARS] for x in lines[i + 1 : end])
        out.append(Func(m.group(3), m.group(2) or "", path, i, body, m.group(1) or ""))
        i = end + 1
    return out


def _io_line(line: str) -> str | None:
    """The line, stripped and cut, when it does I/O itself (comments never do)."""
    stripped = line.strip()
    if stripped.startswith("//"):
        return None
    return stripped[:120] if any(pattern.search(stripped) for pattern in _IO) else None


def _direct_io(f: Func) -> str | None:
    return next((io for io in map(_io_line, f.body) if io is not None), None)


def _called(line: str, caller: Func | None) -> list[tuple[str, Key]]:
    """The calls of one line that resolve to a function of the package: (as written, key). A method resolves
    only through the caller's own receiver (`s.convert(` in a method of `s`) or a conversion
    (`(*App)(a).formatNC(`); a method on any other value has a type this reading cannot see."""
    out: list[tuple[str, Key]] = []
    for m in _CALL.finditer(line):
        converted, recv, name = m.group(1), m.group(2), m.group(3)
        if name in _NOT_CALLS:
            continue
        if converted:
            out.append((f"({converted}).{name}", (converted, name)))
        elif recv is None:
            out.append((name, ("", name)))
        elif caller is not None and caller.receiver and recv == caller.receiver:
            out.append((f"{recv}.{name}", (caller.receiver_type, name)))
    return out


def io_functions(funcs: list[Func]) -> dict[Key, tuple[Func, str]]:
    """(type, name) -> (function, why it does I/O): direct, or through another function of the package
    (DEPTH deep)."""
    io: dict[Key, tuple[Func, str]] = {}
    for f in funcs:
        why = _direct_io(f)
        if why is not None:
            io.setdefault(f.key, (f, f"`{why}`"))
    for _ in range(DEPTH - 1):
        grown = dict(io)
        for f in funcs:
            if f.key in grown:
                continue
            for line in f.body:
                hit = next((key for _w, key in _called(line, f) if key in io and key != f.key), None)
                if hit is not None:
                    grown[f.key] = (f, f"`{hit[1]}` (which calls {io[hit][1]})")
                    break
        io = grown
    return io


def _loop_body(lines: list[str], header: int, indent: str) -> range:
    """The body of the gofmt-shaped loop opened on `header`: up to its closing brace at the same indent."""
    closing = indent + "}"
    end = header + 1
    while end < len(lines) and lines[end].rstrip() != closing:
        end += 1
    return range(header + 1, end)


def _enclosing(funcs: list[Func], path: str, line: int) -> Func | None:
    """The function of `path` whose body holds 1-based `line`."""
    for f in funcs:
        if f.path == path and f.start < line - 1 <= f.start + len(f.body):
            return f
    return None


def _per_item_calls(path: str, lines: list[str], funcs: list[Func]) -> list[tuple[int, str, Key, str]]:
    """(1-based line, call as written, key, range expression) of calls inside range loops."""
    out: list[tuple[int, str, Key, str]] = []
    for i, line in enumerate(lines):
        m = _RANGE.match(line[:MAX_LINE_CHARS])
        if m is None:
            continue
        over = m.group(2)
        if over.lstrip("&*").startswith("[") or re.search(r"(?i)batch|chunk|segment", over):
            continue  # a literal list, or batches: not one call per stored item
        caller = _enclosing(funcs, path, i + 1)
        for j in _loop_body(lines, i, m.group(1)):
            if _RANGE.match(lines[j][:MAX_LINE_CHARS]):
                continue
            code = lines[j][:MAX_LINE_CHARS]
            if code.strip().startswith("//"):
                continue
            out.extend((j + 1, written, key, over) for written, key in _called(code, caller)
                       if caller is None or key != caller.key)
    return out


@dataclass(frozen=True)
class _Package:
    """One Go package at head, indexed: what the analysis of each of its changed files needs."""

    sources: dict[str, str]
    funcs: list[Func]
    io: dict[Key, tuple[Func, str]]
    calls: dict[str, list[tuple[int, str, Key, str]]]  # path -> every call inside its range loops (`_per_item_calls`)
    looped: dict[Key, tuple[str, int, str]]  # function -> (path, line, range expression) of a loop that calls it
    callers: dict[Key, Key]  # callee -> a function that calls it and is itself called per item

    @classmethod
    def of(cls, sources: dict[str, str]) -> _Package:
        funcs = [f for path, text in sources.items() for f in _functions(path, text)]
        calls: dict[str, list[tuple[int, str, Key, str]]] = {}
        looped: dict[Key, tuple[str, int, str]] = {}
        for path, text in sources.items():
            split = text.splitlines()
            calls[path] = _per_item_calls(path, split, funcs)
            for line, _written, key, over in calls[path]:
                looped.setdefault(key, (path, line, over))
        callers: dict[Key, Key] = {}
        for f in funcs:
            if f.key in looped:
                for body_line in f.body:
                    for _written, key in _called(body_line, f):
                        callers.setdefault(key, f.key)
        return cls(sources, funcs, io_functions(funcs), calls, looped, callers)

    def with_file(self, path: str, text: str) -> _Package:
        """This package with `path` read as `text` (a changed file the folder read did not hold)."""
        return _Package.of({**self.sources, path: text})


class GoPackageIOAnalyzer(ChangeRulesAnalyzer):
    """Calls per loop item to I/O functions of the same Go package; needs the head's folder (change context)."""

    name = "go-package"
    rules_file = RULES_FILE

    def __init__(self, context: ChangeContext | None = None) -> None:
        super().__init__(context)
        self._packages: dict[str, _Package] = {}  # folder -> its package at head, for this review

    def supports(self, path: str, text: str) -> bool:
        return path.endswith(".go") and reason_if_test(path) is None

    def _package(self, path: str, text: str) -> _Package:
        """The package of `path` at head: its sources split and indexed, its I/O functions and the functions its
        range loops call, computed once per review for every changed file of the folder that reads as at head."""
        folder = posixpath.dirname(path)
        cache = self._packages
        if folder not in cache:
            read = self._context.head_folder
            sources = {
                p: t for p, t in (read(folder, ".go") if read is not None else [])
                if reason_if_test(p) is None and len(t) <= MAX_TEXT_CHARS
            }
            cache[folder] = _Package.of(sources)
        package = cache[folder]
        return package if package.sources.get(path) == text else package.with_file(path, text)

    def analyze(self, file: FileInput) -> list[Finding]:
        if len(file.text) > MAX_TEXT_CHARS or not file.change.added_lines:
            return []
        package = self._package(file.path, file.text)
        if not package.io:
            return []
        lines = file.text.splitlines()
        added = set(file.change.added_lines)
        hits = self._loop_site_hits(file.path, lines, added, package)
        taken = {h.start_line for h in hits}
        io_sites = self._io_site_hits(file.path, lines, added, package)
        hits += [h for h in io_sites if h.start_line not in taken]
        return findings_from_hits(self._by_id, file, hits, MAX_FINDINGS)

    def _loop_site_hits(self, path: str, lines: list[str], added: set[int], package: _Package) -> list[Hit]:
        """A changed line in a range loop calls an I/O function of the package."""
        hits: list[Hit] = []
        done: set[int] = set()
        for line, written, key, over in package.calls.get(path, []):
            if line not in added or key not in package.io or line in done:
                continue
            done.add(line)
            f, why = package.io[key]
            where = "this file" if f.path == path else f"`{posixpath.basename(f.path)}`"
            detail = (f"`{written}(...)` runs once per item of `{over[:60]}`; `{key[1]}` ({where}) does I/O through "
                      f"{why}: one round trip per item")
            hits.append(_hit(line, lines, detail))
        return hits

    def _io_site_hits(self, path: str, lines: list[str], added: set[int], package: _Package) -> list[Hit]:
        """A changed line adds I/O to a function that a range loop of the package calls per item (directly or
        through one more function): the query lands in the loop without the loop changing."""
        if not package.looped:
            return []
        hits: list[Hit] = []
        for f in package.funcs:
            if f.path != path:
                continue
            route = f.key if f.key in package.looped else package.callers.get(f.key)
            if route is None:
                continue
            hit = self._first_added_io(f, lines, added, package.io, package.looped[route], route)
            if hit is not None:
                hits.append(hit)
        return hits

    @staticmethod
    def _first_added_io(f: Func, lines: list[str], added: set[int], io: dict[Key, tuple[Func, str]],
                        loop: tuple[str, int, str], route: Key) -> Hit | None:
        """The first line the change adds to `f` that does I/O, as a hit naming the loop that runs it per item."""
        loop_path, loop_line, over = loop
        if loop_path == f.path and loop_line in added:
            return None  # the loop's call is new too: reported there (`_loop_site_hits`)
        for offset, code in enumerate(f.body):
            number = f.start + 2 + offset
            if number not in added or code.strip().startswith("//"):
                continue
            direct = _io_line(code)
            what = f"`{direct}`" if direct else next(
                (f"`{written}`" for written, key in _called(code, f) if key in io and key != f.key), None)
            if what is None:
                continue
            through = "" if route == f.key else f" through `{route[1]}`"
            detail = (f"{what} runs in `{f.name}`, which the range loop over `{over[:60]}` at "
                      f"`{posixpath.basename(loop_path)}:{loop_line}` calls once per item{through}: one round "
                      f"trip per item")
            return _hit(number, lines, detail)
        return None


def _hit(line: int, lines: list[str], detail: str) -> Hit:
    return Hit(RULE, line, line, lines[line - 1], {"detail": " ".join(detail.split())[:600]})
