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
from bot.analyzers.rule_info import Hit, RuleInfo, findings_from_hits, load_rule_infos
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
_CALL = re.compile(r"(?:(?<![\w.])(\w+)\.|(?<=\)\.)|(?<![\w.]))(\w+)\(")
_IO = (
    # database/sql, sqlx, pgx
    re.compile(r"\.(Query|QueryRow|QueryContext|QueryRowContext|Queryx|QueryRowx|QueryxContext|QueryRowxContext|"
               r"NamedQuery|NamedQueryContext|GetContext|SelectContext)\("),
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
    receiver_type: str
    path: str
    start: int  # 0-based line of the signature
    body: tuple[str, ...]


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
            out.append(Func(m.group(3), m.group(2) or "", path, i, (signature[:MAX_LINE_CHARS],)))
            i += 1
            continue  # a one-line function: `func (a *App) Query() Resolver { return (*Query)(a) }`
        end = i + 1
        while end < len(lines) and lines[end] != "}":
            end += 1
        out.append(Func(m.group(3), m.group(2) or "", path, i, tuple(x[:MAX_LINE_CHARS] for x in lines[i + 1 : end])))
        i = end + 1
    return out


def _direct_io(f: Func) -> str | None:
    for line in f.body:
        stripped = line.strip()
        if stripped.startswith("//"):
            continue
        for pattern in _IO:
            m = pattern.search(stripped)
            if m is not None:
                return stripped[:120]
    return None


def _called(line: str) -> list[tuple[str | None, str]]:
    return [(m.group(1), m.group(2)) for m in _CALL.finditer(line) if m.group(2) not in _NOT_CALLS]


def io_functions(funcs: list[Func]) -> dict[str, tuple[Func, str]]:
    """name -> (function, why it does I/O): direct, or through another function of the package (DEPTH deep)."""
    by_name: dict[str, list[Func]] = {}
    for f in funcs:
        by_name.setdefault(f.name, []).append(f)
    io: dict[str, tuple[Func, str]] = {}
    for f in funcs:
        why = _direct_io(f)
        if why is not None:
            io.setdefault(f.name, (f, f"`{why}`"))
    for _ in range(DEPTH - 1):
        grown = dict(io)
        for f in funcs:
            if f.name in grown:
                continue
            for line in f.body:
                hit = next((name for _recv, name in _called(line) if name in io and name != f.name), None)
                if hit is not None:
                    grown[f.name] = (f, f"`{hit}` (which calls {io[hit][1]})")
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


def _per_item_calls(lines: list[str], touched: set[int]) -> list[tuple[int, str | None, str, str]]:
    """(1-based line, receiver, name, range expression) of calls inside range loops, on touched lines."""
    out: list[tuple[int, str | None, str, str]] = []
    for i, line in enumerate(lines):
        m = _RANGE.match(line[:MAX_LINE_CHARS])
        if m is None:
            continue
        over = m.group(2)
        if over.lstrip("&*").startswith("[") or re.search(r"(?i)batch|chunk", over):
            continue  # a literal list, or batches: not one call per stored item
        for j in _loop_body(lines, i, m.group(1)):
            if j + 1 not in touched or _RANGE.match(lines[j][:MAX_LINE_CHARS]):
                continue
            code = lines[j][:MAX_LINE_CHARS]
            if code.strip().startswith("//"):
                continue
            out.extend((j + 1, recv, name, over) for recv, name in _called(code))
    return out


class GoPackageIOAnalyzer:
    """Calls per loop item to I/O functions of the same Go package; needs the head's folder (change context)."""

    name = "go-package"
    needs_change_context = True

    def __init__(self, context: ChangeContext | None = None) -> None:
        self._context = context or ChangeContext()
        self.rules: tuple[RuleInfo, ...] = load_rule_infos(RULES_FILE)
        self._by_id = {r.id: r for r in self.rules}

    def bind_change(self, context: ChangeContext) -> GoPackageIOAnalyzer:
        return GoPackageIOAnalyzer(context)

    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def supports(self, path: str, text: str) -> bool:
        return path.endswith(".go") and reason_if_test(path) is None

    def analyze(self, file: FileInput) -> list[Finding]:
        if len(file.text) > MAX_TEXT_CHARS or not file.change.added_lines:
            return []
        lines = file.text.splitlines()
        added = set(file.change.added_lines)
        funcs = _functions(file.path, file.text)
        package = [(file.path, lines)]
        if self._context.head_folder is not None:
            folder = posixpath.dirname(file.path)
            for path, text in self._context.head_folder(folder, ".go"):
                if path != file.path and reason_if_test(path) is None and len(text) <= MAX_TEXT_CHARS:
                    funcs.extend(_functions(path, text))
                    package.append((path, text.splitlines()))
        io = io_functions(funcs)
        if not io:
            return []
        hits = self._loop_site_hits(file.path, lines, added, funcs, io)
        taken = {h.start_line for h in hits}
        io_sites = self._io_site_hits(file.path, lines, added, funcs, io, package)
        hits += [h for h in io_sites if h.start_line not in taken]
        return findings_from_hits(self._by_id, file, hits, MAX_FINDINGS)

    def _loop_site_hits(self, path: str, lines: list[str], added: set[int], funcs: list[Func],
                        io: dict[str, tuple[Func, str]]) -> list[Hit]:
        """A changed line in a range loop calls an I/O function of the package."""
        hits: list[Hit] = []
        done: set[int] = set()
        for line, recv, name, over in _per_item_calls(lines, added):
            if name not in io or line in done or _enclosing_is(funcs, path, line, name):
                continue
            done.add(line)
            f, why = io[name]
            where = "this file" if f.path == path else f"`{posixpath.basename(f.path)}`"
            call = f"{recv}.{name}" if recv else name
            detail = (f"`{call}(...)` runs once per item of `{over[:60]}`; `{name}` ({where}) does I/O through "
                      f"{why}: one round trip per item")
            hits.append(_hit(line, lines, detail))
        return hits

    def _io_site_hits(self, path: str, lines: list[str], added: set[int], funcs: list[Func],
                      io: dict[str, tuple[Func, str]], package: list[tuple[str, list[str]]]) -> list[Hit]:
        """A changed line adds I/O to a function that a range loop of the package calls per item (directly or
        through one more function): the query lands in the loop without the loop changing."""
        looped: dict[str, tuple[str, int, str]] = {}  # function name -> (path, line, range expression)
        for other_path, other_lines in package:
            for line, _recv, name, over in _per_item_calls(other_lines, set(range(1, len(other_lines) + 1))):
                looped.setdefault(name, (other_path, line, over))
        if not looped:
            return []
        callers: dict[str, str] = {}  # callee -> a function that calls it and is itself called per item
        for f in funcs:
            if f.name in looped:
                for body_line in f.body:
                    for _recv, name in _called(body_line):
                        callers.setdefault(name, f.name)
        hits: list[Hit] = []
        for f in funcs:
            if f.path != path:
                continue
            route = f.name if f.name in looped else callers.get(f.name)
            if route is None:
                continue
            for offset, code in enumerate(f.body):
                number = f.start + 2 + offset
                if number not in added or code.strip().startswith("//"):
                    continue
                what = _direct_io(Func(f.name, f.receiver_type, path, f.start, (code,)))
                if what is None:
                    what = next((f"`{name}`" for _recv, name in _called(code) if name in io and name != f.name), None)
                else:
                    what = f"`{what}`"
                if what is None:
                    continue
                loop_path, loop_line, over = looped[route]
                if loop_path == path and loop_line in added:
                    break  # the loop's call is new too: reported there (`_loop_site_hits`)
                through = "" if route == f.name else f" through `{route}`"
                detail = (f"{what} runs in `{f.name}`, which the range loop over `{over[:60]}` at "
                          f"`{posixpath.basename(loop_path)}:{loop_line}` calls once per item{through}: one round "
                          f"trip per item")
                hits.append(_hit(number, lines, detail))
                break  # one per function: the first I/O the change adds
        return hits


def _hit(line: int, lines: list[str], detail: str) -> Hit:
    return Hit(RULE, line, line, lines[line - 1], {"detail": " ".join(detail.split())[:600]})


def _enclosing_is(funcs: list[Func], path: str, line: int, name: str) -> bool:
    """The call sits in the function it calls (recursion): not a per-item helper."""
    for f in funcs:
        if f.path == path and f.start < line - 1 <= f.start + len(f.body):
            return f.name == name
    return False
