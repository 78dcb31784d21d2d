"""Follows Python ORM querysets through a function: which model, which relations are eager-loaded.

Django `Model.objects...select_related/prefetch_related`, SQLAlchemy `session.query(Model)` /
`Model.query` / `select(Model)` with `.options(joinedload(...))`, and variables assigned from them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace

from bot.facts.graph import RepoFacts

EAGER_METHODS = {"select_related", "prefetch_related"}
OPAQUE = "*"  # an eager-load argument whose loads the code does not show
SA_LOADERS = {"joinedload", "selectinload", "subqueryload", "contains_eager", "immediateload", "Prefetch"}
ROW_SHAPES = {"values", "values_list", "count", "exists", "aggregate", "delete", "update"}
QS_PARAM_NAMES = {"queryset", "qs"}


@dataclass
class QuerySet:
    """A queryset expression, as far as the function shows it."""

    model: str | None
    eager: set[str] = field(default_factory=set)  # "a", "a__b"
    selected: set[str] = field(default_factory=set)  # the select_related part of `eager` (foreign keys only)
    start_line: int = 0  # where its loading is decided: the chain, or the last assignment that shaped it
    end_line: int = 0
    text: str = ""  # that statement's source, for suggestions
    sliced: bool = False
    chained: set[str] = field(default_factory=set)  # methods called on the chain
    from_model: bool = False  # rooted at `Model.objects` (not a parameter or a guess)
    guessed: bool = False  # model inferred from a relation's name (`obj.answers.filter(...)`)
    via: str = ""  # that relation's name, when the queryset is `obj.<via>...` on an object loaded elsewhere

    def covers(self, path: str) -> bool:
        """Is relation path `a` or `a__b` eager-loaded (a prefetch of `a__b` also loads `a`)?"""
        return OPAQUE in self.eager or any(e == path or e.startswith(path + "__") for e in self.eager)


def _loader_names(call: ast.Call) -> set[str]:
    out: set[str] = set()
    for arg in call.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            out.add(arg.value.replace(".", "__"))
        elif isinstance(arg, ast.Call) and getattr(arg.func, "id", getattr(arg.func, "attr", "")) in SA_LOADERS:
            out |= _loader_names(arg)
        elif isinstance(arg, ast.Attribute):
            out.add(arg.attr)
        elif isinstance(arg, (ast.Name, ast.Starred)):
            out.add(OPAQUE)  # a loader built elsewhere (`prefetch_related(changes_prefetch)`): what it loads is unseen
        elif isinstance(arg, (ast.List, ast.Tuple)):
            out |= _loader_names(ast.Call(func=ast.Name("x"), args=list(arg.elts), keywords=[]))
    return out


def queryset_of(node: ast.expr, env: dict[str, QuerySet], facts: RepoFacts) -> QuerySet | None:
    """The queryset `node` evaluates to, or None when it is not one we can follow."""
    methods: list[ast.Call] = []
    cur: ast.expr = node
    sliced = False
    while True:
        if isinstance(cur, ast.Subscript):
            sliced, cur = True, cur.value
        elif isinstance(cur, ast.Call) and isinstance(cur.func, ast.Attribute):
            methods.append(cur)
            cur = cur.func.value
        else:
            break
    base = _root(cur, methods, env, facts)
    if base is None:
        return None
    qs = replace(base, eager=set(base.eager), selected=set(base.selected), chained=set(base.chained))
    qs.sliced = base.sliced or sliced
    for call in methods:
        name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        qs.chained.add(name)
        if name in EAGER_METHODS or name == "options":
            qs.eager |= _loader_names(call)
        if name == "select_related":
            qs.selected |= _loader_names(call)
    return qs


def _root(cur: ast.expr, methods: list[ast.Call], env: dict[str, QuerySet], facts: RepoFacts) -> QuerySet | None:
    if isinstance(cur, ast.Name) and cur.id in env:
        return env[cur.id]
    if isinstance(cur, ast.Attribute) and isinstance(cur.value, ast.Name) and methods:
        targets = {
            r.target for m in facts.models.values() for r in m.relations.values() if r.name == cur.attr and r.many
        }
        if len(targets) == 1 and cur.value.id not in env and not cur.value.id[:1].isupper():
            return QuerySet(targets.pop(), guessed=True, via=cur.attr)
    if isinstance(cur, ast.Attribute) and isinstance(cur.value, ast.Name):
        owner = cur.value.id
        if cur.attr in ("objects", "query") and owner[:1].isupper():
            return QuerySet(owner if owner in facts.models or cur.attr == "objects" else None, from_model=True)
        if cur.attr == "objects" and owner == "self":
            return None
    if methods:
        first = methods[-1]  # the innermost call: `session.query(Model)` / `select(Model)`
        fname = first.func.attr if isinstance(first.func, ast.Attribute) else ""
        if fname in ("query", "scalars") and first.args and isinstance(first.args[0], ast.Name):
            model = first.args[0].id
            if model in facts.models:
                return QuerySet(model, from_model=True)
        if fname == "scalars" and first.args and isinstance(first.args[0], ast.Call):
            return queryset_of(first.args[0], env, facts)  # `session.scalars(select(Model).options(...))`
    if isinstance(cur, ast.Call) and isinstance(cur.func, ast.Name) and cur.func.id == "select" and cur.args:
        arg = cur.args[0]
        if isinstance(arg, ast.Name) and arg.id in facts.models:
            return QuerySet(arg.id, from_model=True)
    return None


def params_env(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, QuerySet]:
    """Parameters named like querysets (`queryset`, `qs`, `*_qs`, `*_queryset`): model unknown yet."""
    env: dict[str, QuerySet] = {}
    for a in func.args.args + func.args.kwonlyargs:
        if a.arg in QS_PARAM_NAMES or a.arg.endswith(("_qs", "_queryset")):
            env[a.arg] = QuerySet(None, start_line=func.lineno, end_line=func.lineno)
    return env


def track_assignment(stmt: ast.stmt, env: dict[str, QuerySet], facts: RepoFacts, source: str) -> None:
    """`name = <queryset>` updates `env` (a reassignment from anything else forgets the name)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
        return
    name = stmt.targets[0].id
    qs = queryset_of(stmt.value, env, facts)
    if qs is None and name in env and _passes_through(stmt.value, name):
        return  # `qs = annotate_things(qs)`: a helper that returns the queryset it was given
    if qs is None:
        env.pop(name, None)
        return
    prior = env.get(name)
    if prior is None or qs.eager != prior.eager or qs.start_line == 0:
        end = stmt.end_lineno or stmt.lineno
        qs.start_line, qs.end_line = stmt.lineno, end
        qs.text = ast.get_source_segment(source, stmt) or ""
    env[name] = qs


def _passes_through(value: ast.expr, name: str) -> bool:
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, (ast.Name, ast.Attribute))
        and bool(value.args)
        and isinstance(value.args[0], ast.Name)
        and value.args[0].id == name
    )


def guess_model(qs: QuerySet, loop_var: str, facts: RepoFacts) -> tuple[str | None, float]:
    """The model of an untyped queryset, with how sure we are: resolved 0.9, by its eager set 0.8, by name 0.5."""
    if qs.model and qs.model in facts.models:
        return qs.model, 0.7 if qs.guessed else 0.9
    by_name = "".join(p[:1].upper() + p[1:] for p in loop_var.split("_"))
    if qs.eager:
        fits = [m.name for m in facts.models_with_relations(qs.selected or qs.eager)]
        if len(fits) == 1 or by_name in fits:
            return (fits[0] if len(fits) == 1 else by_name), 0.8
    if by_name in facts.models:
        return by_name, 0.5
    return None, 0.0


def loads_through(tree: ast.Module) -> dict[str, set[str]]:
    """What the module eager-loads through each relation, wherever it loads it: `prefetch_related("a__b")` and
    `Prefetch("a", queryset=X.select_related("b"))` both give {"a": {"b"}}. A relation queryset on an object
    the function did not load itself (`obj.a.all()`) may come from one of those loads."""
    out: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name in EAGER_METHODS:
            for path in _loader_names(node) - {OPAQUE}:
                parts = path.split("__")
                for i in range(len(parts) - 1):
                    out.setdefault(parts[i], set()).add("__".join(parts[i + 1 :]))
        elif name == "Prefetch" and node.args and isinstance(node.args[0], ast.Constant):
            lookup = node.args[0].value
            inner = next((k.value for k in node.keywords if k.arg == "queryset"), None)
            if isinstance(lookup, str) and isinstance(inner, ast.expr):
                loaded = set()
                cur = inner
                while isinstance(cur, ast.Call) and isinstance(cur.func, ast.Attribute):
                    if cur.func.attr in EAGER_METHODS:
                        loaded |= _loader_names(cur) - {OPAQUE}
                    cur = cur.func.value
                out.setdefault(lookup.split("__")[-1], set()).update(loaded)
    return out
