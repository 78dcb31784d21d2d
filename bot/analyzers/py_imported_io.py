"""Per-item calls to Python functions of this repository that query (bot/analyzers/rules/py_imports.yml).

`[device_to_dict(d) for d in devices]` looks innocent until `device_to_dict`, in another module, runs
`Realm.query.filter_by(id=device.realm_id).first()`. This analyzer reads the changed file's loops and
comprehensions on changed lines, resolves the plain-name calls in them to functions of this module or of a
module of the repository imported with `from x.y import name` (read through the review's repository view,
bounded), marks the functions that query (Django `.objects.`, Flask-SQLAlchemy `.query.`, a session query,
an HTTP client call) directly or through one more function of their module, and reports the per-item call.

Parsing only (`ast`), nothing is imported or executed; every read is bounded.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from bot.analyzers.base import FileInput
from bot.analyzers.context_rules import ChangeRulesAnalyzer
from bot.analyzers.py_loops import per_item_loops
from bot.analyzers.rule_info import Hit, findings_from_hits
from bot.analyzers.test_paths import reason_if_test
from bot.core.model import Finding

RULE = "py-helper-query-per-item"
RULES_FILE = Path(__file__).parent / "rules" / "py_imports.yml"
MAX_TEXT_CHARS = 400_000
MAX_MODULES = 6  # other modules read per changed file
MAX_FINDINGS = 20
_SMALL = re.compile(r"(?i)batch|chunk|segment")
_IO = re.compile(
    r"\b[A-Z]\w*\.objects\.\w+\(|\b[A-Z]\w*\.query\.\w+\(|\b(?:db\.)?session\.(?:query|execute|scalars?|get)\(|"
    r"\brequests\.(?:get|post|put|patch|delete|head|request)\(|\bhttpx\.(?:get|post|put|patch|delete|request)\("
)


@dataclass(frozen=True)
class _Io:
    module: str  # where the function is: "this module" or the dotted module name
    why: str  # the statement that queries, or the call through which it does


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _plain_calls(node: ast.AST) -> list[ast.Call]:
    return [c for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)]


def io_functions(text: str, tree: ast.Module, module: str) -> dict[str, _Io]:
    """Functions of one module that query: directly (a line of their body), or by calling one that does."""
    lines = text.splitlines()
    funcs = _functions(tree)
    io: dict[str, _Io] = {}
    for name, f in funcs.items():
        end = getattr(f, "end_lineno", f.lineno) or f.lineno
        for n in range(f.lineno, min(end, len(lines))):
            code = lines[n][:400]
            if not code.strip().startswith("#") and _IO.search(code):
                io[name] = _Io(module, f"`{code.strip()[:100]}`")
                break
    for name, f in funcs.items():
        if name in io:
            continue
        callee = next((c.func.id for c in _plain_calls(f) if isinstance(c.func, ast.Name) and c.func.id in io
                       and c.func.id != name), None)
        if callee is not None:
            io[name] = _Io(module, f"`{callee}` (which runs {io[callee].why})")
    return io


def _imports(tree: ast.Module, path: str) -> dict[str, str]:
    """name -> dotted module, for `from module import name` (relative imports resolved against `path`)."""
    package = posixpath.dirname(path).replace("/", ".")
    out: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or node.module is None and node.level == 0:
            continue
        if node.level:
            base = package.split(".") if package else []
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            module = ".".join([*base, *([node.module] if node.module else [])])
        else:
            module = node.module or ""
        for alias in node.names:
            out[alias.asname or alias.name] = module
    return out


def _small(iterable: ast.expr) -> bool:
    if isinstance(iterable, ast.List | ast.Tuple | ast.Set | ast.Constant | ast.Dict):
        return True
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == "range":
        return all(isinstance(a, ast.Constant) for a in iterable.args)
    return _SMALL.search(ast.unparse(iterable)[:200]) is not None


class PyImportedIOAnalyzer(ChangeRulesAnalyzer):
    """Calls per loop item to functions of the repository that query; reads imported modules at head."""

    name = "py-helpers"
    rules_file = RULES_FILE

    def supports(self, path: str, text: str) -> bool:
        return path.endswith(".py") and reason_if_test(path) is None and "for " in text

    def analyze(self, file: FileInput) -> list[Finding]:
        if len(file.text) > MAX_TEXT_CHARS or not file.change.added_lines:
            return []
        try:
            tree = ast.parse(file.text)
        except (SyntaxError, ValueError, RecursionError):
            return []
        added = set(file.change.added_lines)
        candidates = self._per_item_calls(tree, added)
        if not candidates:
            return []
        local = io_functions(file.text, tree, "this module")
        imports = _imports(tree, file.path)
        wanted = {imports[name] for _line, name, _over in candidates if name in imports and name not in local}
        foreign: dict[tuple[str, str], _Io] = {}
        for module in sorted(wanted)[:MAX_MODULES]:
            foreign.update(((module, name), io) for name, io in self._module_io(module).items())
        lines = file.text.splitlines()
        hits: list[Hit] = []
        done: set[int] = set()
        for line, name, over in candidates:
            found = local.get(name) or foreign.get((imports.get(name, ""), name))
            if found is None or line in done:
                continue
            done.add(line)
            where = "this module" if found.module == "this module" else f"`{found.module}`"
            detail = (f"`{name}(...)` runs once per item of `{over}`; `{name}` ({where}) queries through "
                      f"{found.why}: one round trip per item")
            hits.append(Hit(RULE, line, line, lines[line - 1], {"detail": " ".join(detail.split())[:600]}))
        return findings_from_hits(self._by_id, file, hits, MAX_FINDINGS)

    @staticmethod
    def _per_item_calls(tree: ast.Module, added: set[int]) -> list[tuple[int, str, str]]:
        out: list[tuple[int, str, str]] = []
        for iterable, _names, body in per_item_loops(tree, _small):
            over = ast.unparse(iterable)[:60]
            for node in body:
                for call in _plain_calls(node):
                    if call.lineno in added and isinstance(call.func, ast.Name):
                        out.append((call.lineno, call.func.id, over))
        return out

    def _module_io(self, module: str) -> dict[str, _Io]:
        """The querying functions of a repository module (`a.b.c` -> a/b/c.py or a/b/c/__init__.py)."""
        if self._context.head_folder is None or not re.fullmatch(r"[A-Za-z_][\w.]{0,200}", module):
            return {}
        rel = module.replace(".", "/")
        for folder, wanted in ((posixpath.dirname(rel), rel + ".py"), (rel, rel + "/__init__.py")):
            for path, text in self._context.head_folder(folder, ".py"):
                if path == wanted and len(text) <= MAX_TEXT_CHARS:
                    try:
                        return io_functions(text, ast.parse(text), module)
                    except (SyntaxError, ValueError, RecursionError):
                        return {}
        return {}
