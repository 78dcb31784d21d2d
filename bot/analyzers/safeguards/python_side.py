"""Safeguards on one side of a Python file, read from its syntax tree (stdlib `ast`).

Django/DRF (select_related, db_index, Meta.indexes, .iterator, bulk_*, slices, page sizes),
SQLAlchemy (joinedload/selectinload, yield_per, limit, Index), Celery (time limits, concurrency),
requests/httpx (timeout=, stream=True) and the standard library (Semaphore, executors, wait_for).
"""

from __future__ import annotations

import ast
import re

from bot.analyzers.safeguards.model import Kind, LoopCall, Safeguard, Side

MAX_NODES = 200_000  # a budget on the walk: past it the side is treated as unparsed

EAGER_METHODS = frozenset(
    {"select_related", "prefetch_related", "joinedload", "selectinload", "subqueryload", "contains_eager"}
)
_MATERIALIZERS = frozenset({"list", "tuple", "sorted", "set", "frozenset"})
BATCH_METHODS = frozenset(
    {
        "iterator",
        "bulk_create",
        "bulk_update",
        "bulk_insert_mappings",
        "bulk_save_objects",
        "yield_per",
        "executemany",
        "in_bulk",
        "insert_many",
        "chunked",
        "batched",
    }
)
LIMIT_METHODS = frozenset({"limit", "paginate", "Paginator", "islice", "paginate_queryset"})
CONCURRENCY_CALLS = frozenset({"Semaphore", "BoundedSemaphore", "CapacityLimiter"})
TIMEOUT_CALLS = frozenset({"wait_for", "settimeout", "set_timeout", "setdefaulttimeout"})
INDEX_CALLS = frozenset({"Index", "create_index", "AddIndex", "GinIndex", "GistIndex", "BrinIndex", "BTreeIndex"})

_TIMEOUT_KW = re.compile(r"^(timeout|deadline|\w*_timeout|timeout_\w+|soft_time_limit|time_limit)$")
_BATCH_KW = re.compile(r"^(chunk_?size|batch_size|stream|stream_results|yield_per|prefetch_count)$")
_CONCURRENCY_KW = re.compile(
    r"^(max_workers|pool_size|max_overflow|concurrency|max_connections|pool_maxsize|pool_connections|"
    r"max_concurrency|max_concurrent\w*|worker_concurrency|maxconnections|processes)$"
)
_LIMIT_KW = re.compile(
    r"^(limit|page_size|per_page|max_page_size|max_length|max_results|max_count|max_items|max_size|"
    r"max_bytes|max_rows|max_num|max_upload_size|data_upload_max_\w+|max_body_size|paginate_by|first|top)$",
    re.IGNORECASE,
)
_INDEX_KW = frozenset({"db_index", "index"})
# string fields of Django models, forms and DRF serializers: their max_length sizes a value (a column, an input),
# it bounds no work per request
_STRING_FIELD = re.compile(r"(?:^|\.)(?:Char|Slug|Email|URL|Text|Password|GenericIPAddress|FilePath|File|Image)Field$")
_PAGE_ATTRS = re.compile(
    r"^(page_size|max_page_size|paginate_by|per_page|max_limit|default_limit|pagination_class|"
    r"DATA_UPLOAD_MAX_\w+|FILE_UPLOAD_MAX_\w+|MAX_\w+(SIZE|BYTES|LENGTH|COUNT|ITEMS|RESULTS|ROWS))$"
)
# Relations listed on a class for its queryset to load: Django admin's documented `list_select_related`, and
# the `SELECT_RELATED`/`PREFETCH_RELATED` lists a serializer or view mixin hands to select_related/prefetch_related.
_EAGER_ATTRS = re.compile(r"(?i)^_*(list_)?(select|prefetch)_related(_fields)?$")
_SQL_TIMEOUT = re.compile(r"(?i)\b(statement_timeout|lock_timeout|idle_in_transaction_session_timeout)\b")
_SQL_INDEX = re.compile(r"(?i)\bcreate\s+(unique\s+)?index\b(\s+concurrently)?(\s+if\s+not\s+exists)?\s+(\w+)")
_SQL_LIMIT = re.compile(r"(?i)\blimit\s+(\d+|%s|\$\d+|:\w+|\?)")
TRIVIAL_FUNCTIONS = frozenset(
    {
        "len",
        "str",
        "int",
        "float",
        "bool",
        "list",
        "dict",
        "set",
        "tuple",
        "print",
        "isinstance",
        "getattr",
        "setattr",
        "hasattr",
        "range",
        "enumerate",
        "zip",
        "sorted",
        "min",
        "max",
        "sum",
        "any",
        "all",
        "repr",
        "type",
        "super",
        "iter",
        "next",
        "map",
        "filter",
        "reversed",
        "abs",
        "round",
        "format",
        "id",
        "hash",
        "callable",
    }
)
TRIVIAL_METHODS = frozenset(
    {
        "append",
        "extend",
        "add",
        "get",
        "format",
        "join",
        "items",
        "keys",
        "values",
        "update",
        "pop",
        "strip",
        "split",
        "lower",
        "upper",
        "startswith",
        "endswith",
        "replace",
        "copy",
        "debug",
        "info",
        "warning",
        "error",
        "exception",
        "setdefault",
        "insert",
        "remove",
        "discard",
        "encode",
        "decode",
        "rstrip",
        "lstrip",
    }
)


def _string_size(name: str, target: str) -> bool:
    """A string field's `max_length`: it sizes a value, it bounds no work."""
    return name == "max_length" and bool(_STRING_FIELD.search(target))


def trivial(target: str) -> bool:
    """A builtin or a container/string/logging method: cheap per item, never worth hoisting."""
    if "." not in target:
        return target in TRIVIAL_FUNCTIONS
    return target.rsplit(".", 1)[-1] in TRIVIAL_METHODS


def number(node: ast.AST | None, depth: int = 0) -> float | None:
    """A literal number, also through `*`, `+`, `**`, unary minus, tuples (the largest) and timedelta-free
    arithmetic; None for anything that needs evaluating."""
    if node is None or depth > 8:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = number(node.operand, depth + 1)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp):
        left, right = number(node.left, depth + 1), number(node.right, depth + 1)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Pow) and abs(right) < 20:
            return float(left**right)
        if isinstance(node.op, ast.Div) and right:
            return left / right
        return None
    if isinstance(node, ast.Tuple) and node.elts:
        values = [number(e, depth + 1) for e in node.elts]
        return max(v for v in values if v is not None) if any(v is not None for v in values) else None
    return None


def dotted(node: ast.AST, depth: int = 0) -> str:
    """`a.b.c` of a call chain, calls collapsed: `Order.objects.filter(x).select_related(y)` ->
    `Order.objects.filter.select_related`."""
    if depth > 30:
        return "…"
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value, depth + 1)}.{node.attr}"
    if isinstance(node, ast.Call):
        return dotted(node.func, depth + 1)
    if isinstance(node, ast.Subscript):
        return dotted(node.value, depth + 1)
    return "…"


def _relation(arg: ast.AST) -> str | None:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.Attribute):
        return arg.attr
    if isinstance(arg, ast.Call) and arg.args:  # Prefetch("x", ...), joinedload(A.b).joinedload(...)
        return _relation(arg.args[0])
    return None


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.List | ast.Tuple):
        return [s for e in node.elts for s in _strings(e)]
    return []


_COLLECTION_NAME = re.compile(r"^[a-z_][a-z0-9_]*[^s]s$")
MIN_CAP = 10


def _capped_collection(value: ast.expr, sl: ast.Slice) -> bool:
    """`notifications[:100]`: a plural-named collection cut to a literal size of at least MIN_CAP from its start
    (a page of rows, not `name[:50]` or `parts[:2]`); where it came from is not seen (a property, a helper)."""
    upper = number(sl.upper) if sl.upper is not None else None
    return (
        isinstance(value, ast.Name)
        and sl.lower is None
        and upper is not None
        and upper >= MIN_CAP
        and _COLLECTION_NAME.match(value.id) is not None
    )


class _Collector(ast.NodeVisitor):
    def __init__(self, source: str) -> None:
        self.source = source
        self.side = Side()
        self.scope: list[str] = []
        self.loop: list[int] = []  # header lines of the loops we are in (innermost last)
        self.assign_target = ""
        self.nodes = 0
        self.query_names: set[tuple[str, str]] = set()  # (scope, name) bound to a query chain: `qs = M.objects...`
        self.materialized: set[int] = set()  # `.iterator()` calls wrapped in list()/tuple()/sorted()/set()

    def visit(self, node: ast.AST) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise RecursionError("node budget")
        super().visit(node)

    # ---- scopes, loops, statements
    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        self.scope.append(node.name)
        self.side.scopes.add(".".join(self.scope))
        self.side.spans[".".join(self.scope)] = (node.lineno, getattr(node, "end_lineno", node.lineno) or node.lineno)
        saved, self.loop = self.loop, []
        for stmt in node.body:
            self.visit(stmt)
        self.loop = saved
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped  # noqa: N815

    def _loop(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        head = node.iter if isinstance(node, ast.For | ast.AsyncFor) else node.test
        if _stepped_range(head):  # `for i in range(0, n, size)`: the hand-written form of chunking
            self._add(Kind.batching, "batch:range_chunks", head, "range", number(head.args[2]))  # type: ignore[attr-defined]
        elif isinstance(node, ast.For | ast.AsyncFor) and _batch_loop(node.target, head):
            self._add(Kind.batching, "batch:chunk_loop", head, dotted(head))  # `for batch in batches`: a step a batch
        self.visit(head)
        end = getattr(node, "end_lineno", node.lineno) or node.lineno
        self.side.loops[node.lineno] = (node.lineno, end)
        self.loop.append(node.lineno)
        for stmt in [*node.body, *node.orelse]:
            self.visit(stmt)
        self.loop.pop()

    visit_For = visit_AsyncFor = visit_While = _loop  # noqa: N815

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        gens = node.generators
        self.visit(gens[0].iter)
        self.loop.append(node.lineno)
        self.side.loops.setdefault(node.lineno, (node.lineno, getattr(node, "end_lineno", node.lineno) or node.lineno))
        for i, gen in enumerate(gens):
            if i:
                self.visit(gen.iter)
            for cond in gen.ifs:
                self.visit(cond)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                self.visit(getattr(node, part))
        self.loop.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension  # noqa: N815

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.stmt) and not hasattr(node, "body"):
            self.side.statements.append((node.lineno, getattr(node, "end_lineno", node.lineno) or node.lineno))
        super().generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:  # noqa: N802
        names = [
            t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else "" for t in node.targets
        ]
        self._class_attr(node, names[0] if names else "", node.value)
        if names and names[0] and _is_query(node.value):
            self.query_names.add((".".join(self.scope), names[0]))
        self.assign_target = names[0] if names else ""
        self.generic_visit(node)
        self.assign_target = ""

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:  # noqa: N802
        name = node.target.id if isinstance(node.target, ast.Name) else ""
        if node.value is not None:
            self._class_attr(node, name, node.value)
        self.assign_target = name
        self.generic_visit(node)
        self.assign_target = ""

    # ---- what counts as a safeguard
    def _add(
        self,
        kind: Kind,
        key: str,
        node: ast.AST,
        target: str = "",
        value: float | None = None,
        start: tuple[int, int] | None = None,
    ) -> None:
        line, col = start or (node.lineno, node.col_offset)  # type: ignore[attr-defined]
        lines = self.source.splitlines()
        if start and 1 <= line < len(lines) and not lines[line - 1][col:].strip():  # the chained call starts a line
            line, col = line + 1, len(lines[line]) - len(lines[line].lstrip())
        end_line = getattr(node, "end_lineno", line) or line
        end_col = getattr(node, "end_col_offset", -1)
        end_col = -1 if end_col is None else end_col
        text = _segment(self.source, line, col, end_line, end_col)
        self.side.safeguards.append(
            Safeguard(kind, key, line, end_line, ".".join(self.scope), text, value, target, col, end_col)
        )

    def _class_attr(self, node: ast.stmt, name: str, value: ast.AST) -> None:
        if not name:
            return
        if _PAGE_ATTRS.match(name):
            self._add(Kind.limit, f"attr:{name}", node, name, number(value))
        elif _EAGER_ATTRS.match(name) and isinstance(value, ast.List | ast.Tuple):
            for item in value.elts:  # one per relation, on the line that names it
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    self._add(Kind.eager_loading, f"eager:{item.value}", item, name)
        elif name in ("indexes", "index_together", "__table_args__"):
            if name == "index_together":
                elts = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
                for elt in elts:
                    cols = _strings(elt)
                    if cols:
                        self._add(Kind.db_index, "index:" + ",".join(cols), elt, name)

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802
        func = node.func
        method = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        target = dotted(func)
        start = None
        if method in _MATERIALIZERS and node.args and isinstance(node.args[0], ast.Call):
            inner = node.args[0].func
            if isinstance(inner, ast.Attribute) and inner.attr == "iterator":
                self.materialized.add(id(node.args[0]))  # every row in memory at once: the iterator streams nothing
        if isinstance(func, ast.Attribute):  # the chained part only: `.select_related("a")`
            value = func.value
            start = (getattr(value, "end_lineno", node.lineno) or node.lineno, getattr(value, "end_col_offset", 0) or 0)
        if method in EAGER_METHODS:
            rels = [(a, r) for a, r in ((a, _relation(a)) for a in node.args) if r]
            if len(rels) <= 1:  # the whole chained call: removing it removes the relation
                self._add(Kind.eager_loading, f"eager:{rels[0][1] if rels else '*'}", node, target, start=start)
            for rel_arg, rel in rels if len(rels) > 1 else []:  # one per relation, on the line that names it
                self._add(Kind.eager_loading, f"eager:{rel}", rel_arg, target)
        elif method == "options" and node.args and all(_opaque(a) for a in node.args):
            self._add(Kind.eager_loading, "eager:?", node, target, start=start)
        elif method == "setdefault" and len(node.args) == 2 and isinstance(node.args[0], ast.Constant):
            self._option(str(node.args[0].value), node.args[1], node, target)
        elif method in BATCH_METHODS and id(node) not in self.materialized:
            size = number(node.args[0]) if node.args else None
            self._add(Kind.batching, f"batch:{method}", node, target, size, start=start)
        elif method in LIMIT_METHODS:
            self._add(Kind.limit, f"limit:{method}", node, target, number(node.args[0]) if node.args else None, start)
        elif method in CONCURRENCY_CALLS:
            self._add(Kind.concurrency, f"bound:{method}", node, target, number(node.args[0]) if node.args else None)
        elif method in TIMEOUT_CALLS:
            arg: ast.expr | None = node.args[1] if method == "wait_for" and len(node.args) > 1 else None
            if method != "wait_for" and node.args:
                arg = node.args[0]
            self._add(Kind.timeout, f"timeout:{method}", node, target, number(arg), start=start)
        elif method in INDEX_CALLS:
            cols = [s for a in node.args for s in _strings(a)]
            cols += [
                s for k in node.keywords if k.arg in ("fields", "columns", "expressions") for s in _strings(k.value)
            ]
            self._add(Kind.db_index, "index:" + ",".join(cols or [method]), node, target)
        self._keywords(node, target)
        self._record_call(node, method, target)
        self.generic_visit(node)

    def _keywords(self, node: ast.Call, target: str) -> None:
        for kw in node.keywords:
            if kw.arg:
                self._option(kw.arg, kw.value, kw, target)

    def _option(self, name: str, value: ast.AST, node: ast.AST, target: str) -> None:
        """A named option (keyword argument, dict key, setdefault) that bounds something."""
        truthy = isinstance(value, ast.Constant) and value.value is True
        if name in _INDEX_KW and truthy:
            self._add(Kind.db_index, f"index:{self.assign_target or target}", node, target)
        elif _TIMEOUT_KW.match(name) and not _is_none(value):
            self._add(Kind.timeout, f"timeout:{name}", node, target, number(value))
        elif _BATCH_KW.match(name) and not _is_falsy(value) and target.rsplit(".", 1)[-1] not in BATCH_METHODS:
            self._add(Kind.batching, f"batch:{name}", node, target, number(value))
        elif _CONCURRENCY_KW.match(name) and not _is_none(value):
            self._add(Kind.concurrency, f"bound:{name}", node, target, number(value))
        elif _LIMIT_KW.match(name) and not _is_none(value) and not _unbounded(value) and not _string_size(name, target):
            self._add(Kind.limit, f"limit:{name}", node, target, number(value))

    def visit_Dict(self, node: ast.Dict) -> None:  # noqa: N802
        for key, value in zip(node.keys, node.values, strict=False):
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and len(key.value) < 60:
                self._option(key.value, value, _Span(key, value), "dict")
        self.generic_visit(node)

    def _record_call(self, node: ast.Call, method: str, target: str) -> None:
        """Every named call, with the loop it sits in (hoisting reads the non-trivial ones)."""
        if method:
            loop = self.loop[-1] if self.loop else 0
            self.side.calls.append(LoopCall(target, node.lineno, ".".join(self.scope), loop))

    def visit_Subscript(self, node: ast.Subscript) -> None:  # noqa: N802
        sl = node.slice
        bound_query = isinstance(node.value, ast.Name) and (".".join(self.scope), node.value.id) in self.query_names
        if isinstance(sl, ast.Slice) and sl.upper is not None and (
            _is_query(node.value) or bound_query or _capped_collection(node.value, sl)
        ):
            value = node.value
            start = (getattr(value, "end_lineno", node.lineno) or node.lineno, getattr(value, "end_col_offset", 0) or 0)
            self._add(Kind.limit, "limit:slice", node, dotted(node.value), number(sl.upper), start=start)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:  # noqa: N802
        if isinstance(node.value, str) and len(node.value) < 20_000:
            text = node.value
            for m in _SQL_TIMEOUT.finditer(text):
                self._add(Kind.timeout, f"timeout:{m.group(1).lower()}", node, "sql")
            for m in _SQL_INDEX.finditer(text):
                self._add(Kind.db_index, f"index:{m.group(4).lower()}", node, "sql")
            if re.search(r"(?i)\bselect\b", text) and _SQL_LIMIT.search(text):
                self._add(Kind.limit, "limit:sql", node, "sql")


QUERY_METHODS = frozenset(
    {
        "filter",
        "exclude",
        "all",
        "order_by",
        "annotate",
        "values",
        "values_list",
        "distinct",
        "select_related",
        "prefetch_related",
        "only",
        "defer",
        "using",
        "reverse",
        "get_queryset",
        "filter_by",
        "where",
        "search",
        "objects",
        "query",
        "scalars",
        "select",
    }
)


_BATCH_NAME = re.compile(r"(?i)batch|chunk")


def _batch_loop(target: ast.AST, iterable: ast.AST) -> bool:
    """`for batch in batches`, `for chunk in chunked(items, 100)`: one step per batch, by its names."""
    return _BATCH_NAME.search(f"{ast.unparse(target)} {dotted(iterable)}") is not None


def _stepped_range(node: ast.AST) -> bool:
    """`range(start, stop, step)` with a step: iterating in chunks of `step`."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and len(node.args) == 3
    )


def _is_query(node: ast.AST) -> bool:
    """A query chain (`Model.objects.filter(...)`, `session.query(...)`), not `text.split(":")`."""
    if not isinstance(node, ast.Call):
        return False
    return bool(QUERY_METHODS & set(dotted(node).split(".")))


def _opaque(arg: ast.AST) -> bool:
    """A loader option whose relations are decided elsewhere: `*opts`, `opts`, `Schema.loader_options()`."""
    inner = arg.value if isinstance(arg, ast.Starred) else arg
    return isinstance(inner, ast.Call) and _relation(inner) is None


class _Span(ast.AST):
    """The source span from one node to another (a dict entry: key to value)."""

    def __init__(self, first: ast.AST, last: ast.AST) -> None:
        super().__init__()
        self.lineno = getattr(first, "lineno", 1)
        self.col_offset = getattr(first, "col_offset", 0)
        self.end_lineno = getattr(last, "end_lineno", self.lineno)
        self.end_col_offset = getattr(last, "end_col_offset", -1)


def _unbounded(node: ast.AST) -> bool:
    """`per_page=-1`, `limit=0`: the conventional spelling of "no limit"."""
    value = number(node)
    return value is not None and value <= 0


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_falsy(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and not node.value


def _segment(source: str, line: int, col: int, end_line: int, end_col: int) -> str:
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    if end_col < 0 or end_line > len(lines):
        return lines[line - 1].strip()
    if line == end_line:
        return lines[line - 1][col:end_col]
    parts = [lines[line - 1][col:], *lines[line : end_line - 1], lines[end_line - 1][:end_col]]
    return "\n".join(parts)


def python_side(source: str) -> Side:
    """The safeguards, loop calls and statements of a Python file; `parsed=False` when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Side(parsed=False)
    collector = _Collector(source)
    try:
        collector.visit(tree)
    except RecursionError:
        return Side(parsed=False)
    return collector.side
