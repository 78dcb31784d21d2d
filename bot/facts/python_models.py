"""Reads Django and SQLAlchemy model classes from Python source with the stdlib `ast` (never executed)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from bot.facts.graph import Model, Relation, RepoFacts

_DJANGO_RELATIONS = {
    "ForeignKey": "foreign_key", "OneToOneField": "one_to_one", "ManyToManyField": "many_to_many",
    "ParentalKey": "foreign_key", "TreeForeignKey": "foreign_key", "ParentalManyToManyField": "many_to_many",
}
_MODEL_BASES = {"Model", "TimeStampedModel", "MPTTModel", "AbstractUser", "AbstractBaseUser", "PolymorphicModel"}


def dotted(node: ast.AST) -> str:
    """`a.b.c` for Name/Attribute chains, '' otherwise."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def last_name(node: ast.AST) -> str:
    """The last name of a dotted reference; a parametrised generic (`ModelSerializer[Order]`, as type stubs
    such as djangorestframework-stubs and django-stubs have classes written) is named by its class."""
    if isinstance(node, ast.Subscript):
        node = node.value
    return dotted(node).rsplit(".", 1)[-1]


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def const_str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def strings(node: ast.AST | None) -> list[str]:
    """String items of a list/tuple literal (or one string)."""
    if node is None:
        return []
    if (s := const_str(node)) is not None:
        return [s]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [s for e in node.elts if (s := const_str(e)) is not None]
    return []


def _target_name(node: ast.AST | None, owner: str) -> str:
    """The related model's class name from `ForeignKey(Target)` / `"app.Target"` / `"self"`."""
    if node is None:
        return ""
    text = const_str(node)
    if text is not None:
        name = text.rsplit(".", 1)[-1]
        return owner if name == "self" else name
    if isinstance(node, ast.Call):  # ForeignKey(get_user_model(), ...)
        return last_name(node.func)
    return last_name(node)


def _is_django_model(cls: ast.ClassDef) -> bool:
    return any(last_name(b) in _MODEL_BASES or dotted(b).endswith("models.Model") for b in cls.bases)


def _is_sqlalchemy_model(cls: ast.ClassDef) -> bool:
    has_table = any(
        isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in s.targets)
        for s in cls.body
    )
    return has_table or any(last_name(b) in {"Base", "DeclarativeBase", "SQLModel"} for b in cls.bases)


def _field_call(stmt: ast.stmt) -> tuple[str, ast.Call] | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        value: ast.expr | None = stmt.value
        name = stmt.targets[0].id
    elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        value, name = stmt.value, stmt.target.id
    else:
        return None
    return (name, value) if isinstance(value, ast.Call) else None


def _read_meta(cls: ast.ClassDef, model: Model) -> None:
    for stmt in cls.body:
        if not (isinstance(stmt, ast.ClassDef) and stmt.name == "Meta"):
            continue
        for item in stmt.body:
            if not isinstance(item, ast.Assign):
                continue
            names = {t.id for t in item.targets if isinstance(t, ast.Name)}
            if names & {"index_together", "unique_together"}:
                groups = item.value.elts if isinstance(item.value, (ast.List, ast.Tuple)) else []
                for g in groups:
                    first = strings(g)[:1] or strings(item.value)[:1]
                    model.indexed.update(first)
            if names & {"indexes", "constraints"} and isinstance(item.value, (ast.List, ast.Tuple)):
                for idx in item.value.elts:
                    if isinstance(idx, ast.Call):
                        model.indexed.update(f.lstrip("-") for f in strings(keyword(idx, "fields"))[:1])


_QUERY_CALLS = frozenset({
    "filter", "filter_by", "exclude", "get", "first", "one", "one_or_none", "scalar", "scalars", "count",
    "exists", "aggregate", "annotate", "values", "values_list", "order_by", "latest", "earliest", "all", "execute",
})
_QUERY_SOURCES = ("objects", "query", "session")
MAX_METHOD_NODES = 2_000


def _runs_query(fn: ast.FunctionDef | ast.AsyncFunctionDef, relations: set[str]) -> bool:
    """The method body calls a query method on a manager (`X.objects`), a query (`X.query`, `session`,
    `db.session`), a SQLAlchemy `filter_by`, or a relation of its own row (`self.orders.filter(...)`)."""
    for n, node in enumerate(ast.walk(fn)):
        if n > MAX_METHOD_NODES:
            return False
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _QUERY_CALLS):
            continue
        if node.func.attr == "filter_by":
            return True
        names: list[str] = []
        cur: ast.AST = node.func.value
        while isinstance(cur, (ast.Attribute, ast.Call)) and len(names) < 12:
            if isinstance(cur, ast.Attribute):
                names.append(cur.attr)
                cur = cur.value
            else:
                cur = cur.func
        root = cur.id if isinstance(cur, ast.Name) else ""
        if any(s in names for s in _QUERY_SOURCES) or root == "session":
            return True
        if root == "self" and names and (names[-1] in relations or names[-1].endswith("_set")):
            return True
    return False


def _read_query_methods(cls: ast.ClassDef, model: Model) -> None:
    """Methods and properties of a model class that run a query each time they are called."""
    relations = set(model.relations)
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and not stmt.name.startswith("__"):
            model.methods.add(stmt.name)
            decorators = {last_name(d) for d in stmt.decorator_list}
            if decorators & {"property", "cached_property"}:
                model.method_reads[stmt.name] = {  # the row's own attributes a property reads
                    n.attr for n in ast.walk(stmt)
                    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"
                }
            if _runs_query(stmt, relations):
                model.query_methods[stmt.name] = stmt.lineno
                if decorators & {"property", "cached_property", "hybrid_property"}:
                    model.query_properties.add(stmt.name)


def _read_django(cls: ast.ClassDef, path: str) -> Model:
    model = Model(cls.name, "django", path, cls.lineno)
    model.indexed.update({"id", "pk"})
    for stmt in cls.body:
        got = _field_call(stmt)
        if got is None:
            continue
        name, call = got
        kind = _DJANGO_RELATIONS.get(last_name(call.func))
        model.fields[name] = stmt.lineno
        if any(is_true(keyword(call, k)) for k in ("db_index", "unique", "primary_key")):
            model.indexed.add(name)
        if kind is None:
            continue
        target = _target_name(call.args[0] if call.args else keyword(call, "to"), cls.name)
        related = const_str(keyword(call, "related_name")) or ""
        null = keyword(call, "null")
        model.relations[name] = Relation(
            name, target, kind, path, stmt.lineno, many=kind == "many_to_many", related_name=related,
            nullable=isinstance(null, ast.Constant) and null.value is True,
        )
        if kind != "many_to_many":  # Django indexes foreign keys by default
            model.indexed.update({name, f"{name}_id"})
    _read_meta(cls, model)
    _read_query_methods(cls, model)
    return model


def _read_sqlalchemy(cls: ast.ClassDef, path: str) -> Model:
    model = Model(cls.name, "sqlalchemy", path, cls.lineno)
    model.indexed.add("id")
    for stmt in cls.body:
        got = _field_call(stmt)
        if got is None:
            continue
        name, call = got
        func = last_name(call.func)
        if func in {"Column", "mapped_column", "Field"}:
            model.fields[name] = stmt.lineno
            if any(is_true(keyword(call, k)) for k in ("index", "unique", "primary_key")):
                model.indexed.add(name)
        elif func == "relationship":
            target = _target_name(call.args[0] if call.args else None, cls.name)
            if not target and isinstance(stmt, ast.AnnAssign):
                target = _annotation_target(stmt.annotation)
            uselist = keyword(call, "uselist")
            many = not (isinstance(uselist, ast.Constant) and uselist.value is False) and _looks_many(stmt)
            lazy = const_str(keyword(call, "lazy")) or "select"
            model.relations[name] = Relation(name, target, "relationship", path, stmt.lineno, many=many, loading=lazy)
    _read_query_methods(cls, model)
    return model


def _annotation_target(node: ast.AST) -> str:
    text = ast.unparse(node)
    for token in ("Mapped[", "List[", "list[", "Optional[", "]", '"', "'"):
        text = text.replace(token, " ")
    parts = text.split()
    return parts[-1] if parts else ""


def _looks_many(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.AnnAssign):
        text = ast.unparse(stmt.annotation)
        return "List[" in text or "list[" in text or "Set[" in text
    return True


@dataclass
class ClassIndex:
    """Every class of the Python files read so far, so models can be found through base classes
    declared in other files (`class Question(ModelBase)`, `class Product(AbstractProduct)`)."""

    classes: dict[str, tuple[ast.ClassDef, str]] = field(default_factory=dict)

    def collect(self, tree: ast.Module, path: str) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name != "Meta":
                self.classes.setdefault(node.name, (node, path))


MAX_ROUNDS = 12


def _orm_of(cls: ast.ClassDef, known: dict[str, str]) -> str | None:
    bases = [last_name(b) for b in cls.bases]
    if _is_django_model(cls) or any(known.get(b) == "django" for b in bases):
        return "django"
    if _is_sqlalchemy_model(cls) or any(known.get(b) == "sqlalchemy" for b in bases):
        return "sqlalchemy"
    return None


def resolve_models(index: ClassIndex, facts: RepoFacts) -> None:
    """Add the indexed classes that are models (directly or through model base classes) to `facts`;
    a model inherits the fields, relations and indexes of its model bases."""
    known = {name: m.orm for name, m in facts.models.items()}
    order: list[str] = []
    for _ in range(MAX_ROUNDS):
        found = [n for n, (cls, _) in index.classes.items() if n not in known and _orm_of(cls, known)]
        for name in found:
            known[name] = _orm_of(index.classes[name][0], known) or ""
        order.extend(found)
        if not found:
            break
    for name in order:
        cls, path = index.classes[name]
        model = _read_django(cls, path) if known[name] == "django" else _read_sqlalchemy(cls, path)
        for base in (facts.models.get(last_name(b)) for b in cls.bases):
            if base is not None:
                for k, v in base.relations.items():
                    model.relations.setdefault(k, v)
                for k, line in base.fields.items():
                    model.fields.setdefault(k, line)
                model.indexed |= base.indexed
                for k, line in base.query_methods.items():
                    model.query_methods.setdefault(k, line)
                model.query_properties |= base.query_properties
        facts.models.setdefault(name, model)


def read_python_models(tree: ast.Module, path: str, facts: RepoFacts) -> None:
    """Add the module's Django and SQLAlchemy models to `facts` (bases known to `facts` count)."""
    index = ClassIndex()
    index.collect(tree, path)
    resolve_models(index, facts)


USER_MODEL_REFERENCES = frozenset({"AUTH_USER_MODEL", "get_user_model"})


def resolve_user_model(facts: RepoFacts) -> None:
    """`ForeignKey(settings.AUTH_USER_MODEL)` / `ForeignKey(get_user_model())` point at the model the
    AUTH_USER_MODEL setting names (Django's swappable user model); without the setting, at the
    project's own `User` model if it declares one (else Django's `auth.User`, which no file shows)."""
    named = facts.user_model.rsplit(".", 1)[-1] if facts.user_model else "User"
    target = facts.models.get(named)
    if target is None or target.orm != "django":
        return
    for model in facts.models.values():
        for rel in model.relations.values():
            if model.orm == "django" and rel.target in USER_MODEL_REFERENCES:
                rel.target = target.name


def add_reverse_accessors(facts: RepoFacts) -> None:
    """Django's reverse side of each relation: `related_name`, or `<model>_set` (`<model>` for one-to-one)."""
    for model in list(facts.models.values()):
        if model.orm != "django":
            continue
        for rel in list(model.relations.values()):
            related = rel.related_name
            target = facts.models.get(rel.target)
            if target is None or related.endswith("+") or rel.kind.startswith("reverse"):
                continue
            single = rel.kind == "one_to_one"
            name = related or (model.name.lower() if single else f"{model.name.lower()}_set")
            kind = "reverse_one_to_one" if single else "reverse_many_to_many"
            kind = "reverse_fk" if rel.kind == "foreign_key" else kind
            target.relations.setdefault(name, Relation(name, model.name, kind, rel.path, rel.line, many=not single))
