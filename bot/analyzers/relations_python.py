"""N+1 through relations in Python: a relation read per item of a queryset that does not eager-load it.

Direct reads in a loop or comprehension, reads by a function of the same module (or a method of the
same class) called per item, and reads by a DRF serializer given the queryset with `many=True` or
declared with it on a view (`queryset` + `serializer_class`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import replace

from bot.analyzers.querysets import (
    QuerySet,
    guess_model,
    loads_through,
    params_env,
    queryset_of,
    track_assignment,
)
from bot.analyzers.relation_hits import Hit
from bot.facts.graph import RepoFacts
from bot.facts.python_api import attribute_reads

Touches = Callable[[int, int], bool]
Func = ast.FunctionDef | ast.AsyncFunctionDef
MANY_READS = {"all", "count", "exists", "first", "last"}
MANY_WRITES = {"add", "remove", "set", "clear"}
MAX_LOOPS = 500
MAX_DEPTH = 2


def ordered(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements in source order, nested blocks included, not entering nested functions or classes."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in ("body", "orelse", "finalbody"):
            yield from ordered(getattr(stmt, name, []) or [])
        for handler in getattr(stmt, "handlers", []) or []:
            yield from ordered(handler.body)


def _headers(stmt: ast.stmt) -> list[ast.AST]:
    """The expressions a statement evaluates itself (a compound statement's body is visited on its own)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Try)):
        return []
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [stmt.iter]
    if isinstance(stmt, (ast.While, ast.If)):
        return [stmt.test]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in stmt.items]
    return [stmt]


def _chain(node: ast.Attribute, var: str) -> list[str] | None:
    parts: list[str] = []
    cur: ast.expr = node
    while isinstance(cur, ast.Attribute):
        parts.append(cur.attr)
        cur = cur.value
    return list(reversed(parts)) if isinstance(cur, ast.Name) and cur.id == var else None


def relation_paths(reads: set[str], model: str, facts: RepoFacts) -> set[str]:
    """Read attribute paths ("a", "a.b") that load rows: single relations, and many relations read whole."""
    out: set[str] = set()
    for read in reads:
        parts = read.split(".")
        rel = facts.relation(model, parts[0])
        if rel is None:
            continue
        whole = rel.kind == "relationship"  # SQLAlchemy loads a collection when the attribute is read
        if rel.many and not whole and (len(parts) < 2 or parts[1] not in MANY_READS):
            continue
        if rel.eager_by_default:
            continue
        out.add(parts[0])
        if len(parts) > 1 and not rel.many:
            inner = facts.relation(rel.target, parts[1])
            if inner is not None and not inner.many and not inner.eager_by_default:
                out.add(f"{parts[0]}__{parts[1]}")
    return out


def _reads_in(nodes: list[ast.AST], var: str) -> dict[str, int]:
    """`var.a` / `var.a.b` / `var.a.count()` reads under `nodes`, as "a", "a.b", "a.count", with the first line."""
    found: dict[str, int] = {}
    for top in nodes:
        for node in ast.walk(top):
            if isinstance(node, ast.Attribute) and (parts := _chain(node, var)):
                key = ".".join(parts[:2])
                found[key] = min(found.get(key, node.lineno), node.lineno)
    return found


def _many_writes(nodes: list[ast.AST], var: str, model: str, facts: RepoFacts) -> dict[str, int]:
    """`var.<many relation>.add(...)`-style writes under `nodes`: relation -> first line."""
    found: dict[str, int] = {}
    for top in nodes:
        for node in ast.walk(top):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in MANY_WRITES and isinstance(node.func.value, ast.Attribute)):
                continue
            parts = _chain(node.func.value, var)
            if parts is None or len(parts) != 1:
                continue
            rel = facts.relation(model, parts[0])
            if rel is not None and rel.many and rel.kind in ("many_to_many", "reverse_many_to_many", "reverse_fk"):
                found.setdefault(parts[0], node.lineno)
    return found


def _called_reads(nodes: list[ast.AST], var: str, funcs: dict[str, Func]) -> dict[str, tuple[int, str]]:
    """Reads made by same-module functions called with `var`: path -> (call line, function name)."""
    found: dict[str, tuple[int, str]] = {}
    for top in nodes:
        for node in ast.walk(top):
            if not isinstance(node, ast.Call):
                continue
            name, shift = "", 0
            if isinstance(node.func, ast.Name):
                name = node.func.id
            elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                name, shift = (node.func.attr, 1) if node.func.value.id in ("self", "cls") else ("", 0)
            fn = funcs.get(name)
            if fn is None:
                continue
            for i, arg in enumerate(node.args):
                if isinstance(arg, ast.Name) and arg.id == var:
                    for read in attribute_reads(fn, i + shift):
                        found.setdefault(read, (node.lineno, name))
    return found


def serializer_needs(name: str, facts: RepoFacts, depth: int = 0) -> set[str]:
    """Relation paths a serializer reads per object: nested serializers, `source=` paths, method fields."""
    ser = facts.serializers.get(name)
    if ser is None or ser.model is None or depth > MAX_DEPTH:
        return set()
    needs: set[str] = set()
    reads = {src for src in ser.sources.values()} | set(ser.method_reads)
    for field_name, nested in ser.nested.items():
        head = ser.sources.get(field_name, field_name).split(".")[0]
        rel = facts.relation(ser.model, head)
        if rel is None or rel.eager_by_default:
            continue
        needs.add(head)
        needs |= {f"{head}__{p}" for p in serializer_needs(nested, facts, depth + 1) if "__" not in p}
    return needs | relation_paths(reads, ser.model, facts)


class LoopChecker:
    """Finds relation reads per item of followed querysets in one module."""

    def __init__(self, tree: ast.Module, source: str, facts: RepoFacts, touches: Touches,
                 check: Callable[[], None] = lambda: None) -> None:
        self.tree, self.source, self.facts, self.touches, self.check = tree, source, facts, touches, check
        self.funcs: dict[str, Func] = {
            n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self.hits: list[Hit] = []
        self.loops = 0
        self.loaded_through = loads_through(tree)

    def run(self) -> list[Hit]:
        self._scope(self.tree.body, {})
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._scope(node.body, params_env(node))
            elif isinstance(node, ast.ClassDef):
                self._view_class(node)
                self._feed_class(node)
        return self.hits

    def _scope(self, body: list[ast.stmt], env: dict[str, QuerySet]) -> None:
        for stmt in ordered(body):
            self.check()
            if self.loops > MAX_LOOPS:
                return
            if isinstance(stmt, (ast.For, ast.AsyncFor)) and isinstance(stmt.target, ast.Name):
                qs = queryset_of(stmt.iter, env, self.facts)
                if qs is not None:
                    self._loop(qs, stmt.target.id, list(stmt.body), stmt.lineno)
            for header in _headers(stmt):
                for node in ast.walk(header):
                    self._expression(node, env)
            track_assignment(stmt, env, self.facts, self.source)

    def _expression(self, node: ast.AST, env: dict[str, QuerySet]) -> None:
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            gen = node.generators[0]
            qs = queryset_of(gen.iter, env, self.facts)
            if qs is not None and isinstance(gen.target, ast.Name):
                parts: list[ast.AST] = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
                self._loop(qs, gen.target.id, parts, node.lineno)
        elif isinstance(node, ast.Call) and (rendered := rendered_template(node)) is not None:
            template, context = rendered
            for name, value in context.items():
                qs = queryset_of(value, env, self.facts)
                if qs is not None:
                    self._template(qs, template, name, node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            many = any(k.arg == "many" and isinstance(k.value, ast.Constant) and k.value.value is True
                       for k in node.keywords)
            qs = queryset_of(node.args[0], env, self.facts) if many else None
            if qs is not None and node.func.id in self.facts.serializers:
                self._serialized(qs, node.func.id, node.lineno, node.end_lineno or node.lineno)

    def _loop(self, qs: QuerySet, var: str, body: list[ast.AST], line: int) -> None:
        self.loops += 1
        if qs.chained & {"values", "values_list"}:
            return
        model, confidence = guess_model(qs, var, self.facts)
        if model is None:
            return
        if qs.via and qs.via in self.loaded_through:  # `obj.rel.all()`: obj may come from the module's own load
            qs = replace(qs, eager=qs.eager | self.loaded_through[qs.via])
        direct = _reads_in(body, var)
        missing = {p: direct.get(p.replace("__", "."), direct.get(p.split("__")[0], line))
                   for p in relation_paths(set(direct), model, self.facts) if not qs.covers(p)}
        via = _called_reads(body, var, self.funcs)
        for p in relation_paths(set(via), model, self.facts):
            if not qs.covers(p) and p not in missing:
                missing[p] = via.get(p.replace("__", "."), via.get(p.split("__")[0], (line, "")))[0]
                confidence = min(confidence, 0.85)
        if missing:
            self._report(qs, model, var, missing, line, confidence, "py-relation-read-per-item")
        if self.facts.models[model].orm == "django":
            for rel, at in _many_writes(body, var, model, self.facts).items():
                evidence = (f"`{var}.{rel}` is written once for each {model} row of the loop "
                            "(add/remove/set/clear run their own queries per call)")
                self.hits.append(Hit("py-m2m-write-per-item", at, at, evidence, min(confidence, 0.85)))

    def _serialized(self, qs: QuerySet, serializer: str, line: int, end: int) -> None:
        ser = self.facts.serializers[serializer]
        model = qs.model or ser.model
        if model is None or model not in self.facts.models:
            return
        missing = {p: line for p in serializer_needs(serializer, self.facts) if not qs.covers(p)}
        if missing:
            confidence = 0.9 if qs.model else 0.8
            self._report(qs, model, serializer, missing, line, confidence, "py-serializer-relation-per-item")

    def _template(self, qs: QuerySet, template: str, name: str, line: int) -> None:
        """The template renders `name` (this queryset) in a loop that reads relations of each row."""
        for loop in self.facts.django_templates.get(template, []):
            if loop.ivar != name:
                continue
            model, confidence = guess_model(qs, loop.var, self.facts)
            if model is None:
                continue
            missing = {p: line for p in relation_paths(set(loop.reads), model, self.facts) if not qs.covers(p)}
            if missing:
                self._report(qs, model, template, missing, line, min(confidence, 0.85),
                             "py-template-relation-per-item")

    def _view_class(self, cls: ast.ClassDef) -> None:
        attrs = {t.id: s for s in cls.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)}
        self._template_view(cls, attrs)
        if "queryset" not in attrs or "serializer_class" not in attrs:
            return
        if _builds_own_queryset(cls, attrs["queryset"].value):
            return
        ser = attrs["serializer_class"].value
        qs = self._attribute_queryset(attrs["queryset"])
        if qs is None or not isinstance(ser, ast.Name) or ser.id not in self.facts.serializers:
            return
        self._serialized(qs, ser.id, qs.start_line, qs.end_line)

    def _attribute_queryset(self, stmt: ast.Assign) -> QuerySet | None:
        """A class's `queryset = ...`, placed on its statement (for the report and the suggestion)."""
        qs = queryset_of(stmt.value, {}, self.facts)
        if qs is not None:
            qs.start_line, qs.end_line = stmt.lineno, stmt.end_lineno or stmt.lineno
            qs.text = ast.get_source_segment(self.source, stmt) or ""
        return qs

    def _template_view(self, cls: ast.ClassDef, attrs: dict[str, ast.Assign]) -> None:
        """A class-based list view: `template_name` renders its queryset as `object_list`, `<model>_list` or its
        `context_object_name`."""
        template = attrs.get("template_name")
        name: str | None = None
        if template is not None:
            if not (isinstance(template.value, ast.Constant) and isinstance(template.value.value, str)):
                return
            name = template.value.value
        elif not any(getattr(b, "id", getattr(b, "attr", "")) == "ListView" for b in cls.bases):
            return  # no template this class renders rows into: its queryset is not read here
        qs, line = self._view_queryset(cls, attrs)
        if qs is None:
            return
        if name is None:
            name = self._default_list_template(qs)  # Django's `<app_label>/<model_name>_list.html`
        if not self.facts.django_templates.get(name):
            return
        names = {"object_list", "page_obj"}
        if qs.model:
            names.add(f"{qs.model.lower()}_list")
        named = attrs.get("context_object_name")
        if named is not None and isinstance(named.value, ast.Constant) and isinstance(named.value.value, str):
            names.add(named.value.value)
        for context in sorted(names):
            self._template(qs, name, context, line)

    def _default_list_template(self, qs: QuerySet) -> str:
        model = self.facts.model(qs.model)
        if model is None or model.orm != "django":
            return ""
        app = model.path.rsplit("/", 2)[-2] if model.path.count("/") >= 1 else ""
        return f"{app}/{model.name.lower()}_list.html"

    def _view_queryset(self, cls: ast.ClassDef, attrs: dict[str, ast.Assign]) -> tuple[QuerySet | None, int]:
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == "get_queryset":
                env: dict[str, QuerySet] = {}
                for inner in ordered(stmt.body):
                    if isinstance(inner, ast.Return) and inner.value is not None:
                        qs = queryset_of(inner.value, env, self.facts)
                        if qs is not None:
                            if not qs.start_line:
                                qs.start_line = qs.end_line = inner.lineno
                            return qs, inner.lineno
                    track_assignment(inner, env, self.facts, self.source)
                return None, 0
        if "queryset" in attrs:
            return self._attribute_queryset(attrs["queryset"]), attrs["queryset"].lineno
        if "model" in attrs and isinstance(attrs["model"].value, ast.Name):
            stmt = attrs["model"]
            name = attrs["model"].value.id
            if name in self.facts.models:
                return QuerySet(name, start_line=stmt.lineno, end_line=stmt.lineno, from_model=True), stmt.lineno
        return None, 0

    def _feed_class(self, cls: ast.ClassDef) -> None:
        """A presenter such as a syndication Feed: `items()` returns the rows, `item_<x>(self, item)` runs per row."""
        methods = {f.name: f for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
        per_item = [f for name, f in methods.items() if name.startswith("item_")]
        if "items" not in methods or not per_item:
            return
        reads: dict[str, tuple[int, str]] = {}
        for fn in per_item:
            for read in attribute_reads(fn, 1):
                reads.setdefault(read, (fn.lineno, fn.name))
        env: dict[str, QuerySet] = params_env(methods["items"])
        for stmt in ordered(methods["items"].body):
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                qs = queryset_of(stmt.value, env, self.facts)
                model, confidence = guess_model(qs, "", self.facts) if qs else (None, 0.0)
                if qs is None or model is None:
                    continue
                missing = {p: stmt.lineno for p in relation_paths(set(reads), model, self.facts) if not qs.covers(p)}
                via = ", ".join(sorted({reads[k][1] for k in reads if k.split(".")[0] in
                                        {p.split("__")[0] for p in missing}}))
                if missing:
                    self._report(qs, model, f"{cls.name}.{via}", missing, stmt.lineno, confidence,
                                 "py-serializer-relation-per-item")
            track_assignment(stmt, env, self.facts, self.source)

    def _report(self, qs: QuerySet, model: str, via: str, missing: dict[str, int], line: int,
                confidence: float, rule: str) -> None:
        paths = sorted(missing)
        if rule == "py-relation-read-per-item":
            reads = ", ".join(f"`{via}.{p.replace('__', '.')}`" for p in paths[:6])
            evidence = f"{reads} is read for each {model} row of the loop, and the queryset does not load it in advance"
        else:
            reads = ", ".join(f"`{p.replace('__', '.')}`" for p in paths[:6])
            evidence = f"`{via}` reads {reads} for each {model} row, and the queryset does not load them in advance"
        places = [(qs.start_line, qs.end_line), (line, line)] + [(n, n) for n in sorted(set(missing.values()))]
        start, end = next(((a, b) for a, b in places if a and self.touches(a, b)), places[-1])
        suggestion = None
        lines = self.source.splitlines()
        if (start, end) == (qs.start_line, qs.end_line) and start == end and lines[start - 1].strip() == qs.text:
            suggestion = _with_eager(lines[start - 1], paths, model, self.facts)
        self.hits.append(Hit(rule, start, end, evidence, confidence, suggestion))


_RENDERERS = frozenset({"render", "render_to_response", "TemplateResponse", "render_to_string"})


def rendered_template(call: ast.Call) -> tuple[str, dict[str, ast.expr]] | None:
    """(template name, context entries) of `render(request, "x.html", {"orders": orders})` and its kin, and of
    Flask's `render_template("x.html", orders=orders)`."""
    name = call.func.id if isinstance(call.func, ast.Name) else call.func.attr if isinstance(
        call.func, ast.Attribute) else ""
    if name == "render_template" and call.args:  # Flask: render_template("x.html", orders=orders)
        first = call.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            return None
        return first.value, {k.arg: k.value for k in call.keywords if k.arg}
    if name not in _RENDERERS:
        return None
    template = next((a.value for a in call.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)),
                    None)
    template = template or next((k.value.value for k in call.keywords if k.arg == "template_name"
                                 and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)), None)
    context = next((a for a in call.args[1:] if isinstance(a, ast.Dict)), None)
    context = context or next((k.value for k in call.keywords if k.arg == "context" and isinstance(k.value, ast.Dict)),
                              None)
    if template is None or not isinstance(context, ast.Dict):
        return None
    entries = {k.value: v for k, v in zip(context.keys, context.values, strict=False)
               if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return template, entries


def _with_eager(text: str, paths: list[str], model: str, facts: RepoFacts) -> str | None:
    """`x = Model.objects.filter(...)` + `.select_related("a")` (single) / `.prefetch_related("b")` (many)."""
    stripped = text.rstrip()
    if not stripped.endswith(")") or "#" in stripped or facts.models[model].orm != "django":
        return None
    many = [p for p in paths if (rel := facts.relation(model, p.split("__")[0])) is not None and rel.many]
    single = [p for p in paths if p not in many]
    tail = ""
    if single:
        tail += ".select_related(" + ", ".join(f'"{p}"' for p in single) + ")"
    if many:
        tail += ".prefetch_related(" + ", ".join(f'"{p}"' for p in many) + ")"
    return stripped + tail


def n_plus_one_hits(
    tree: ast.Module, source: str, facts: RepoFacts, touches: Touches, check: Callable[[], None] = lambda: None
) -> list[Hit]:
    return LoopChecker(tree, source, facts, touches, check).run()


def _builds_own_queryset(cls: ast.ClassDef, queryset: ast.expr) -> bool:
    """The class `queryset` is not what the view serializes: a `get_queryset` of the view builds it (DRF
    calls that method, the attribute is only its default), or the attribute is `Model.objects.none()`, the
    placeholder schema generators need. A `get_queryset` that starts from `self.queryset` or
    `super().get_queryset()` still serializes the attribute's rows."""
    for f in cls.body:
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == "get_queryset":
            return not _uses_class_queryset(f)
    return isinstance(queryset, ast.Call) and isinstance(queryset.func, ast.Attribute) and queryset.func.attr == "none"


def _uses_class_queryset(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Attribute) and node.attr == "queryset" and isinstance(node.value, ast.Name):
            return node.value.id in ("self", "cls")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super":
            return True
    return False
