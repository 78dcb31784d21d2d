"""Reads Django REST framework serializers, Django admin classes and settings from Python source (`ast`)."""

from __future__ import annotations

import ast

from bot.facts.graph import Admin, RepoFacts, Serializer
from bot.facts.python_models import const_str, dotted, is_true, keyword, last_name, strings

SETTINGS_KEYS = ("DEFAULT_PAGINATION_CLASS", "PAGE_SIZE")


def _class_attr(cls: ast.ClassDef, name: str) -> ast.Assign | None:
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
            return stmt
    return None


def _meta_model(cls: ast.ClassDef) -> str | None:
    for stmt in cls.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            found = _class_attr(stmt, "model")
            if found is not None:
                return last_name(found.value) or None
    return None


def _is_serializer(cls: ast.ClassDef) -> bool:
    return any(last_name(b).endswith("Serializer") for b in cls.bases)


def attribute_reads(func: ast.FunctionDef | ast.AsyncFunctionDef, param: int = 1) -> set[str]:
    """`p.a` and `p.a.b` read in a function body, for its `param`-th parameter, as "a" and "a.b"."""
    args = func.args.args
    if len(args) <= param:
        return set()
    name = args[param].arg
    out: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name:
            out.add(node.attr)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id == name
        ):
            out.add(f"{node.value.attr}.{node.attr}")
    return out


def _read_serializer(cls: ast.ClassDef, path: str) -> Serializer:
    ser = Serializer(cls.name, path, cls.lineno, _meta_model(cls), bases=tuple(last_name(b) for b in cls.bases))
    funcs = {s.name: s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    methods = {name: f.lineno for name, f in funcs.items()}
    for stmt in cls.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        name, call = stmt.targets[0].id, stmt.value
        if not isinstance(call, ast.Call):
            continue
        func = last_name(call.func)
        source = const_str(keyword(call, "source"))
        if func == "SerializerMethodField":
            method = const_str(keyword(call, "method_name")) or (const_str(call.args[0]) if call.args else None)
            method = method or f"get_{name}"
            if method in methods:
                ser.method_fields[name] = methods[method]
                ser.method_reads |= attribute_reads(funcs[method])
        elif func.endswith("Serializer"):
            ser.nested[name] = func
            if source and source != "*":
                ser.sources[name] = source
        elif source and source != "*":
            ser.sources[name] = source
    return ser


def _register_target(deco: ast.expr) -> str | None:
    """`@admin.register(Model)` -> Model."""
    if isinstance(deco, ast.Call) and last_name(deco.func) == "register" and deco.args:
        return last_name(deco.args[0]) or None
    return None


def _is_admin(cls: ast.ClassDef) -> bool:
    return any(last_name(b).endswith("Admin") for b in cls.bases)


def _read_admin(cls: ast.ClassDef, path: str, registered: dict[str, str]) -> Admin:
    model = next((m for d in cls.decorator_list if (m := _register_target(d))), None) or registered.get(cls.name)
    admin = Admin(cls.name, path, cls.lineno, model)
    shown = _class_attr(cls, "list_display")
    if shown is not None:
        admin.list_display = strings(shown.value)
        admin.list_display_line = shown.lineno
    related = _class_attr(cls, "list_select_related")
    if related is not None:
        names = strings(related.value)
        admin.list_select_related = tuple(names) if names else is_true(related.value)
    return admin


def _site_registrations(tree: ast.Module) -> dict[str, str]:
    """`admin.site.register(Model, ModelAdmin)` -> {ModelAdmin: Model}."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and dotted(node.func).endswith("register") and len(node.args) >= 2:
            found[last_name(node.args[1])] = last_name(node.args[0])
    return found


def _read_settings(tree: ast.Module, facts: RepoFacts) -> None:
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "AUTH_USER_MODEL" for t in stmt.targets)
            and const_str(stmt.value)
        ):
            facts.user_model = facts.user_model or (const_str(stmt.value) or "")[:200]
        if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Dict)):
            continue
        if not any(isinstance(t, ast.Name) and t.id == "REST_FRAMEWORK" for t in stmt.targets):
            continue
        for key, value in zip(stmt.value.keys, stmt.value.values, strict=False):
            name = const_str(key)
            if name in SETTINGS_KEYS and value is not None:
                facts.settings.setdefault(name, ast.unparse(value)[:200])


MAX_SERIALIZER_DEPTH = 8


def inherit_serializer_models(facts: RepoFacts) -> None:
    """A serializer without a `Meta.model` of its own (`class Meta(Base.Meta)`, or no Meta) serializes its
    base serializer's model, as DRF's inherited Meta does; bases are followed up to MAX_SERIALIZER_DEPTH."""
    for ser in facts.serializers.values():
        current, depth = ser, 0
        while ser.model is None and depth < MAX_SERIALIZER_DEPTH:
            base = next((facts.serializers[b] for b in current.bases if b in facts.serializers), None)
            if base is None or base is ser:
                break
            ser.model, current, depth = base.model, base, depth + 1


def read_python_api(tree: ast.Module, path: str, facts: RepoFacts) -> None:
    """Add the module's serializers, admin classes and REST_FRAMEWORK settings to `facts`."""
    registered = _site_registrations(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        if _is_serializer(node):
            facts.serializers.setdefault(node.name, _read_serializer(node, path))
        elif _is_admin(node):
            facts.admins.append(_read_admin(node, path, registered))
    _read_settings(tree, facts)
