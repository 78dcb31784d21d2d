"""Django rules on the model graph: serializer method fields that query, admin list columns through
relations, whole-table iteration in jobs, unpaginated list endpoints, lookups on unindexed columns."""

from __future__ import annotations

import ast
import re

from bot.analyzers.querysets import QuerySet, queryset_of, track_assignment
from bot.analyzers.relation_hits import Hit
from bot.analyzers.relations_python import ordered
from bot.facts.graph import RepoFacts
from bot.facts.python_models import keyword, last_name

QUERY_CALLS = {"filter", "exclude", "count", "exists", "aggregate", "annotate", "get", "first", "last",
               "all", "values", "values_list", "order_by", "latest", "earliest"}
STRONG_QUERY_CALLS = QUERY_CALLS - {"all"}
JOB_DECORATORS = {"shared_task", "task", "periodic_task", "job", "actor", "db_periodic_task", "db_task"}
LIST_VIEWS = {"ListAPIView", "ListCreateAPIView", "ModelViewSet", "ReadOnlyModelViewSet", "ListModelMixin"}
WHOLE_TABLE_CALLS = {"all", "order_by", "select_related", "prefetch_related", "only", "defer", "using"}
LOOKUP_CALLS = {"filter", "get", "exclude", "get_or_create", "update_or_create", "filter_by"}
_REQUEST_PATH = re.compile(r"(^|/)(views?|api|apis|viewsets|endpoints|handlers|routes|resources)(/|\.py$|_)")
_COMMAND_PATH = re.compile(r"(^|/)management/commands/|(^|/)(tasks|jobs|cron\w*)(\.py$|/)")


def _chain_root(call: ast.Call) -> ast.expr:
    cur: ast.expr = call
    while isinstance(cur, ast.Call) and isinstance(cur.func, ast.Attribute):
        cur = cur.func.value
        while isinstance(cur, ast.Attribute) and not isinstance(cur.value, (ast.Name, ast.Call)):
            cur = cur.value
    return cur


def method_field_queries(tree: ast.Module, facts: RepoFacts) -> list[Hit]:
    """(b) `get_<field>` of a SerializerMethodField that queries per serialized object."""
    hits: list[Hit] = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        ser = facts.serializers.get(cls.name)
        if ser is None:
            continue
        lines = set(ser.method_fields.values())
        for fn in (s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))):
            if fn.lineno not in lines or len(fn.args.args) < 2:
                continue
            obj = fn.args.args[1].arg
            hit = _first_query(fn, obj, ser.model, facts)
            if hit is not None:
                hits.append(hit)
    return hits


def _nested_many(fn: ast.FunctionDef | ast.AsyncFunctionDef, facts: RepoFacts) -> Hit | None:
    """`OtherSerializer(rows, many=True).data` in a method field: the rows are fetched, held and serialized
    whole, once for every object the outer serializer renders (a literal list is not a query)."""
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Call) and node.args and last_name(node.func) in facts.serializers):
            continue
        many = keyword(node, "many")
        if not (isinstance(many, ast.Constant) and many.value is True):
            continue
        if not _fetches_rows(node.args[0], fn):
            continue
        text = ast.unparse(node)[:160]
        return Hit("py-serializer-method-query", node.lineno, node.end_lineno or node.lineno,
                   f"`{fn.name}` serializes every row of `{text}` for each serialized object, "
                   "fetching and holding all of them at once", 0.8)
    return None


_NOT_QUERIES = frozenset({"list", "sorted", "set", "tuple", "filter", "map", "reversed", "dict"})


def _fetches_rows(rows: ast.expr, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`rows` is fetched by a call here (a query chain or a service returning one), directly or through
    the name it was last assigned to; a slice, a list built in Python or an attribute (a prefetched
    `to_attr`) is not."""
    if isinstance(rows, ast.Name):
        assigned = [a.value for a in ast.walk(fn) if isinstance(a, ast.Assign) and len(a.targets) == 1
                    and isinstance(a.targets[0], ast.Name) and a.targets[0].id == rows.id]
        if len(assigned) != 1:
            return False
        rows = assigned[0]
    return isinstance(rows, ast.Call) and last_name(rows.func) not in _NOT_QUERIES


def _first_query(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, obj: str, model: str | None, facts: RepoFacts
) -> Hit | None:
    nested = _nested_many(fn, facts)
    if nested is not None:
        return nested
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERY_CALLS):
            continue
        target = node.func.value
        text = ast.unparse(node)[:160]
        if isinstance(target, ast.Attribute) and target.attr == "objects" and isinstance(target.value, ast.Name):
            return Hit("py-serializer-method-query", node.lineno, node.end_lineno or node.lineno,
                       f"`{fn.name}` runs `{text}` for every serialized object", 0.9)
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == obj:
            rel = facts.relation(model, target.attr)
            if rel is None and not target.attr.endswith("_set"):
                continue
            strong = node.func.attr in STRONG_QUERY_CALLS
            counted = (" (a COUNT query each; where the view prefetches the relation, every related row is "
                       "loaded to be counted)") if node.func.attr == "count" else ""
            return Hit("py-serializer-method-query", node.lineno, node.end_lineno or node.lineno,
                       f"`{fn.name}` runs `{text}` for every serialized object{counted}",
                       0.9 if strong and rel else 0.6)
    return None


def admin_columns(tree: ast.Module, facts: RepoFacts, path: str) -> list[Hit]:
    """(c) `list_display` columns that follow a relation per row without `list_select_related`."""
    hits: list[Hit] = []
    classes = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    for admin in (a for a in facts.admins if a.path == path and a.model in facts.models):
        if admin.list_select_related is True:
            continue
        covered = set(admin.list_select_related or ())
        cls = classes.get(admin.name)
        methods = {f.name: f for f in (cls.body if cls else []) if isinstance(f, ast.FunctionDef)}
        if "get_queryset" in methods:
            loaded = _get_queryset_loads(methods["get_queryset"])
            if loaded is None:
                continue  # the admin builds its own queryset and loads what the code does not show
            covered |= loaded
        if admin.list_select_related is False and _lists_a_foreign_key(admin.list_display, admin.model, facts):
            # Django's change list then calls select_related() with no arguments: every non-null foreign key
            # (and theirs) is joined (ModelAdmin.list_select_related)
            covered |= _non_null_paths(admin.model, facts)
        missing: list[str] = []
        for column in admin.list_display:
            head = column.split("__")[0]
            rel = facts.relation(admin.model, head)
            if rel is not None and not rel.many and head not in covered:
                missing.append(column)
            elif column in methods:
                for read in sorted(attribute_heads(methods[column])):
                    inner = facts.relation(admin.model, read)
                    if inner is not None and not inner.many and read not in covered:
                        missing.append(f"{column} (reads {read})")
                        break
        if missing:
            shown = ", ".join(f"`{m}`" for m in missing[:5])
            hits.append(Hit("py-admin-list-through-relation", admin.list_display_line, admin.list_display_line,
                            f"{admin.name} lists {shown}: one query per row of the change list", 0.9))
    return hits


def _lists_a_foreign_key(columns: list[str], model: str | None, facts: RepoFacts) -> bool:
    for column in columns:
        rel = facts.relation(model, column)
        if rel is not None and rel.kind in ("foreign_key", "one_to_one"):
            return True
    return False


def _non_null_paths(model: str | None, facts: RepoFacts) -> set[str]:
    """The relation heads `select_related()` with no arguments follows from `model`: its non-null forward
    foreign keys and one-to-ones."""
    m = facts.model(model)
    if m is None:
        return set()
    return {name for name, rel in m.relations.items()
            if rel.kind in ("foreign_key", "one_to_one") and not rel.nullable and not rel.many}


def _get_queryset_loads(fn: ast.FunctionDef) -> set[str] | None:
    """The first relations an admin's own `get_queryset` loads with select_related/prefetch_related
    (`project__organization` covers `project`), or None when it passes something the code does not show."""
    loads: set[str] = set()
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("select_related", "prefetch_related")):
            continue
        if not node.args and node.func.attr == "select_related":
            return None  # select_related() with no argument follows every non-null foreign key
        for arg in node.args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                return None
            loads.add(arg.value.split("__")[0])
    return loads


def attribute_heads(fn: ast.FunctionDef) -> set[str]:
    """First attributes read from the row parameter (`obj.customer.name` -> customer)."""
    if len(fn.args.args) < 2:
        return set()
    obj = fn.args.args[1].arg
    return {n.value.attr for n in ast.walk(fn) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Attribute) and isinstance(n.value.value, ast.Name) and n.value.value.id == obj}


def _in_job(tree: ast.Module, path: str) -> set[int]:
    """Lines of code that runs as a job: management commands, task-decorated functions, task modules."""
    if _COMMAND_PATH.search(path):
        return {n.lineno for n in ast.walk(tree) if hasattr(n, "lineno")}
    lines: set[int] = set()
    for node in ast.walk(tree):
        is_job = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            last_name(d.func if isinstance(d, ast.Call) else d) in JOB_DECORATORS for d in node.decorator_list)
        is_job = is_job or isinstance(node, ast.ClassDef) and any(last_name(b) == "BaseCommand" for b in node.bases)
        if is_job:
            lines |= {n.lineno for n in ast.walk(node) if hasattr(n, "lineno")}
    return lines


def whole_table_loops(tree: ast.Module, source: str, facts: RepoFacts, path: str) -> list[Hit]:
    """(d) `for x in Model.objects.all()` (or a variable holding it) in a job, with no `.iterator()`,
    slice or filter."""
    jobs = _in_job(tree, path)
    hits: list[Hit] = []
    for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        if fn.lineno not in jobs:
            continue
        env: dict[str, QuerySet] = {}
        for stmt in ordered(fn.body):
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                hit = _whole_table(stmt, queryset_of(stmt.iter, env, facts), source)
                if hit is not None:
                    hits.append(hit)
            track_assignment(stmt, env, facts, source)
    return hits


def _whole_table(loop: ast.For | ast.AsyncFor, qs: QuerySet | None, source: str) -> Hit | None:
    if qs is None or not qs.from_model or qs.sliced or not qs.model:
        return None
    if qs.chained - WHOLE_TABLE_CALLS or not qs.chained & {"all", "order_by"}:
        return None
    text = ast.unparse(loop.iter)[:160]
    first = (ast.get_source_segment(source, loop) or "").splitlines()[:1]
    suggestion = None
    if first and first[0].count(text) == 1 and first[0].rstrip().endswith(":"):
        indent = source.splitlines()[loop.lineno - 1][: loop.col_offset]
        suggestion = indent + first[0].replace(text, f"{text}.iterator(chunk_size=2000)")
    what = f"`{text}`" if isinstance(loop.iter, ast.Call) else f"`{text}` (`{qs.model}.objects.all()`)"
    return Hit("py-whole-table-in-job", loop.lineno, loop.lineno,
               f"{what} loads every row of {qs.model} into memory before the loop", 0.9, suggestion)


def unpaginated_lists(tree: ast.Module, facts: RepoFacts, settings_known: bool) -> list[Hit]:
    """(e) DRF list views with no `pagination_class` and no DEFAULT_PAGINATION_CLASS in settings."""
    if "DEFAULT_PAGINATION_CLASS" in facts.settings and facts.settings["DEFAULT_PAGINATION_CLASS"] != "None":
        return []
    hits: list[Hit] = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        if not any(last_name(b) in LIST_VIEWS for b in cls.bases):
            continue
        attrs = {t.id: s for s in cls.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)}
        if "pagination_class" in attrs or any(isinstance(s, ast.FunctionDef) and s.name == "list" for s in cls.body):
            continue
        at = attrs.get("queryset") or attrs.get("serializer_class")
        line = at.lineno if at else cls.lineno
        why = "REST_FRAMEWORK sets no DEFAULT_PAGINATION_CLASS" if settings_known else "no settings were found"
        hits.append(Hit("py-list-view-unpaginated", line, line,
                        f"{cls.name} lists every row: no `pagination_class`, and {why}",
                        0.85 if settings_known else 0.5))
    return hits


def unindexed_lookups(tree: ast.Module, facts: RepoFacts, path: str) -> list[Hit]:
    """(f) `Model.objects.filter(col=...)` on a request path where `col` leads no index."""
    if not _REQUEST_PATH.search(path):
        return []
    hits: list[Hit] = []
    seen: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOOKUP_CALLS):
            continue
        target = node.func.value
        if not (isinstance(target, ast.Attribute) and target.attr == "objects" and isinstance(target.value, ast.Name)):
            continue
        model = facts.models.get(target.value.id)
        if model is None or model.orm != "django":
            continue
        filtered = {(kw.arg or "").split("__")[0].removesuffix("_id") for kw in node.keywords}
        if filtered & (set(model.indexed) | set(model.relations)):
            continue  # another column of the same filter leads an index (a foreign key's, a db_index): it narrows first
        for kw in node.keywords:
            column = (kw.arg or "").split("__")[0]
            if not column or column in model.indexed or column in model.relations or column not in model.fields:
                continue
            if (model.name, column) in seen:
                continue
            seen.add((model.name, column))
            hits.append(Hit("py-lookup-unindexed-column", node.lineno, node.end_lineno or node.lineno,
                            f"`{model.name}.{column}` is filtered on here, and no index of {model.name} starts with it",
                            0.7))
    return hits
