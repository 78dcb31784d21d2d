"""Reads Rails ActiveRecord, TypeORM, Sequelize, Prisma and GORM models with short, line-bounded regexes.

Each regex runs on one line of at most MAX_LINE characters and has no nested quantifiers, so hostile
source cannot make it slow.
"""

from __future__ import annotations

import re

from bot.facts.graph import Model, Relation, RepoFacts, ViewLoop

MAX_LINE = 400

_RB_CLASS = re.compile(r"^\s*class\s+([\w:]+)\s*<\s*([\w:]+)")
_RB_AR_BASE = re.compile(r"^(ApplicationRecord|ActiveRecord::Base|\w*Record|(\w+::)*Base)$")
_RB_ASSOC = re.compile(r"^\s*(belongs_to|has_many|has_one|has_and_belongs_to_many)\s+:(\w+)(.*)$")
_RB_ATTACHED = re.compile(r"^\s*has_(one|many)_attached\s+:(\w+)")
_RB_CLASS_NAME = re.compile(r"class_name:\s*['\"]([\w:]+)['\"]")
_RB_SCOPE = re.compile(r"^\s*scope\s+:(\w+)\s*,(.*)$")
_RB_DEFAULT_SCOPE = re.compile(r"^\s*default_scope\b(.*)$")
_RB_EAGER = re.compile(r"\b(?:includes|preload|eager_load)\(?\s*([^)]{0,300})")
_RB_SYMBOL = re.compile(r":(\w+)|(\w+):")
_RB_DEF = re.compile(r"^(\s*)def\s+(self\.)?([a-z_]\w*[?!]?)\s*(?:\(|$)")
_RB_END = re.compile(r"^(\s*)end\b")
_RB_BARE = re.compile(r"(?<![.:@\w])(?:self\.)?([a-z_]\w*)\b(?!\s*[(:]|\s*=[^=>~])")
MAX_METHOD_LINES = 60
MAX_METHOD_WORDS = 40
_RB_TABLE = re.compile(r"^\s*create_table\s+['\"](\w+)['\"]")
_RB_INDEX = re.compile(r"^\s*(?:t\.index|add_index\s+['\"](\w+)['\"],)\s*\[?\s*['\"](\w+)['\"]")
_TS_ENTITY = re.compile(r"^\s*@Entity\b")
_TS_CLASS = re.compile(r"^\s*export\s+(?:default\s+)?class\s+(\w+)")
_TS_REL = re.compile(r"@(ManyToOne|OneToMany|OneToOne|ManyToMany)\(\s*\(\)\s*=>\s*(\w+)")
_TS_PROP = re.compile(r"^\s*(?:public\s+|readonly\s+)*(\w+)[!?]?\s*:")
_TS_INDEX = re.compile(r"@(PrimaryGeneratedColumn|PrimaryColumn|Index|Unique)\b|unique:\s*true")
_SEQ_ASSOC = re.compile(r"\b(\w+)\.(belongsTo|hasMany|hasOne|belongsToMany)\(\s*(?:models\.)?(\w+)(.*)$")
_SEQ_AS = re.compile(r"\bas:\s*['\"](\w+)['\"]")
_PRISMA_MODEL = re.compile(r"^\s*model\s+(\w+)\s*\{")
_PRISMA_FIELD = re.compile(r"^\s*(\w+)\s+(\w+)(\[\])?(\?)?(.*)$")
_PRISMA_INDEX = re.compile(r"@@(?:index|unique|id)\(\s*(?:fields:\s*)?\[\s*(\w+)")
_GO_STRUCT = re.compile(r"^type\s+(\w+)\s+struct\s*\{")
_GO_FIELD = re.compile(r"^\s*(\w+)\s+(\*|\[\]\*?)?([\w.]+)\s*(`[^`]*`)?")
_GO_TAG_INDEX = re.compile(r"gorm:\"[^\"]*(?:\bindex|uniqueIndex|primaryKey|unique)")

SINGULAR_ENDINGS = (("ies", "y"), ("ses", "s"), ("s", ""))


def camelize(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.split("_"))


def singular(name: str) -> str:
    for end, repl in SINGULAR_ENDINGS:
        if name.endswith(end) and len(name) > len(end) + 1:
            return name[: -len(end)] + repl
    return name


def _lines(text: str) -> list[str]:
    return [line[:MAX_LINE] for line in text.splitlines()]


_RB_WITH_ATTACHED = re.compile(r"\bwith_attached_(\w+)")
_RB_ATTACHMENT_KEY = re.compile(r"^(\w+?)_(?:attachments?|blobs?)$")


def eager_names(text: str) -> set[str]:
    """Association names inside `includes(...)`/`preload(...)`/`eager_load(...)` on one line, and the
    Active Storage attachments a `with_attached_x` scope or an `x_attachment: :blob` include loads (as `x`)."""
    out: set[str] = set()
    for m in _RB_EAGER.finditer(text[:MAX_LINE]):
        out.update(a or b for a, b in _RB_SYMBOL.findall(m.group(1)))
    out.update(w.group(1) for w in _RB_WITH_ATTACHED.finditer(text[:MAX_LINE]))
    out.update(a.group(1) for name in list(out) if (a := _RB_ATTACHMENT_KEY.match(name)))
    return out


def read_rails(text: str, path: str, facts: RepoFacts) -> None:
    """A class under app/models/ with a superclass is taken as a model (`< ApplicationRecord`,
    `< Spree::Base`, `< Post` for STI); one elsewhere only when it derives from an ActiveRecord base."""
    model: Model | None = None
    in_models = "app/models/" in path
    method: tuple[str, str, int] | None = None  # (name, indent, first line) of the instance method being read
    for n, line in enumerate(_lines(text), 1):
        if model is not None and method is not None:
            method = _method_line(model, method, line, n)
        if model is not None and method is None and (d := _RB_DEF.match(line)) and not d.group(2):
            if not line.rstrip().endswith("end"):  # a one-line `def x = ...; end` reads too little to matter
                method = (d.group(3), d.group(1), n)
                model.method_reads.setdefault(d.group(3), set())
        if m := _RB_ASSOC.match(line) or _RB_ATTACHED.match(line):
            facts.rails_associations.add(m.group(2))
        if m := _RB_CLASS.match(line):
            name = m.group(1).rsplit("::", 1)[-1]
            if not (in_models or _RB_AR_BASE.match(m.group(2))):
                model = None
                continue
            model = facts.models.setdefault(name, Model(name, "rails", path, n, indexed={"id"}))
            model.parent = model.parent or m.group(2).rsplit("::", 1)[-1]
        elif model is None:
            continue
        elif m := _RB_ASSOC.match(line):
            kind, assoc, rest = m.groups()
            named = _RB_CLASS_NAME.search(rest)
            many = kind in {"has_many", "has_and_belongs_to_many"}
            target = named.group(1).rsplit("::", 1)[-1] if named else camelize(singular(assoc) if many else assoc)
            model.relations[assoc] = Relation(assoc, target, kind, path, n, many=many)
            if kind == "belongs_to":
                model.fields.setdefault(f"{assoc}_id", n)
        elif m := _RB_ATTACHED.match(line):
            # Active Storage: reading the attachment loads its attachment and blob rows (two queries per record)
            many, name = m.group(1) == "many", m.group(2)
            model.relations[name] = Relation(name, "ActiveStorage::Attachment", f"has_{m.group(1)}_attached", path, n,
                                             many=many)
        elif m := _RB_SCOPE.match(line):
            model.scopes[m.group(1)] = eager_names(m.group(2))
        elif m := _RB_DEFAULT_SCOPE.match(line):
            model.default_eager |= eager_names(m.group(1))


MAX_INHERITANCE = 8


def inherit_rails_models(facts: RepoFacts) -> None:
    """A Rails model whose superclass is another model (single-table inheritance) has its associations,
    scopes and default eager loads too, wherever the files declaring them were read in the order;
    its own declarations win. Chains are followed up to MAX_INHERITANCE levels, cycles stop."""
    for model in facts.models.values():
        if model.orm != "rails":
            continue
        seen = {model.name}
        parent = facts.models.get(model.parent)
        while parent is not None and parent.orm == "rails" and parent.name not in seen and len(seen) <= MAX_INHERITANCE:
            seen.add(parent.name)
            model.relations = {**parent.relations, **model.relations}
            model.scopes = {**parent.scopes, **model.scopes}
            model.default_eager |= parent.default_eager
            for name, reads in parent.method_reads.items():
                model.method_reads.setdefault(name, reads)
            parent = facts.models.get(parent.parent)


def _method_line(model: Model, method: tuple[str, str, int], line: str, n: int) -> tuple[str, str, int] | None:
    """One line of an instance method's body: the bare names it reads; None once its `end` is reached
    (or MAX_METHOD_LINES later: a method that long is not read further)."""
    name, indent, start = method
    end = _RB_END.match(line)
    if (end and end.group(1) == indent) or n - start > MAX_METHOD_LINES:
        return None
    reads = model.method_reads.setdefault(name, set())
    if len(reads) < MAX_METHOD_WORDS:
        reads.update(w.group(1) for w in _RB_BARE.finditer(line[:MAX_LINE]))
    return method


def read_rails_schema(text: str, facts: RepoFacts) -> None:
    """db/schema.rb: the leading column of each index, by table, onto the model of that table."""
    table = ""
    for line in _lines(text):
        if m := _RB_TABLE.match(line):
            table = m.group(1)
        elif m := _RB_INDEX.match(line):
            model = facts.models.get(camelize(singular(m.group(1) or table)))
            if model is not None:
                model.indexed.add(m.group(2))


def read_typeorm(text: str, path: str, facts: RepoFacts) -> None:
    lines = _lines(text)
    model: Model | None = None
    pending: tuple[str, str, int, bool] | None = None
    entity_next = False
    depth = 0  # open parentheses of a decorator spanning lines
    for n, line in enumerate(lines, 1):
        inside, depth = depth > 0, max(0, depth + line.count("(") - line.count(")"))
        if _TS_ENTITY.match(line):
            entity_next = True
        if (m := _TS_CLASS.match(line)) and entity_next:
            model = facts.models.setdefault(m.group(1), Model(m.group(1), "typeorm", path, n, indexed={"id"}))
            entity_next = False
            continue
        if model is None:
            continue
        if m := _TS_REL.search(line):
            pending = (m.group(1), m.group(2), n, "eager: true" in line)
        elif pending and "eager: true" in line:
            pending = (pending[0], pending[1], pending[2], True)
        if (p := _TS_PROP.match(line)) and "@" not in line and not inside:
            if pending:
                kind, target, at, eager = pending
                lazy = "Promise<" in line  # a lazy relation: each access of the property runs a query
                model.relations[p.group(1)] = Relation(
                    p.group(1), target, kind, path, at, many=kind.endswith("Many"),
                    loading="eager" if eager else "lazy" if lazy else "",
                )
                pending = None
            model.fields.setdefault(p.group(1), n)
            if any(_TS_INDEX.search(lines[i]) for i in range(max(0, n - 4), n - 1) if "@" in lines[i]):
                model.indexed.add(p.group(1))


def read_sequelize(text: str, path: str, facts: RepoFacts) -> None:
    for n, line in enumerate(_lines(text), 1):
        if m := _SEQ_ASSOC.search(line):
            owner, kind, target, rest = m.groups()
            alias = _SEQ_AS.search(rest)
            many = kind in {"hasMany", "belongsToMany"}
            name = alias.group(1) if alias else target[:1].lower() + target[1:] + ("s" if many else "")
            model = facts.models.setdefault(owner, Model(owner, "sequelize", path, n, indexed={"id"}))
            model.relations[name] = Relation(name, target, kind, path, n, many=many)


def read_prisma(text: str, path: str, facts: RepoFacts) -> None:
    lines = _lines(text)
    names = {m.group(1) for line in lines if (m := _PRISMA_MODEL.match(line))}
    model: Model | None = None
    for n, line in enumerate(lines, 1):
        if m := _PRISMA_MODEL.match(line):
            model = facts.models.setdefault(m.group(1), Model(m.group(1), "prisma", path, n))
        elif model is None or line.strip() == "}":
            model = None if line.strip() == "}" else model
        elif m := _PRISMA_INDEX.search(line):
            model.indexed.add(m.group(1))
        elif m := _PRISMA_FIELD.match(line):
            field, typ, many, _opt, rest = m.groups()
            model.fields[field] = n
            if "@id" in rest or "@unique" in rest:
                model.indexed.add(field)
            if typ in names:
                model.relations[field] = Relation(field, typ, "relation", path, n, many=bool(many))


def read_gorm(text: str, path: str, facts: RepoFacts) -> None:
    """Structs that embed gorm.Model or carry gorm tags; fields typed by another such struct are relations."""
    structs: dict[str, list[tuple[int, str, str, str, str]]] = {}
    current: list[tuple[int, str, str, str, str]] | None = None
    for n, line in enumerate(_lines(text), 1):
        if m := _GO_STRUCT.match(line):
            current = structs.setdefault(m.group(1), [])
        elif current is not None and line.startswith("}"):
            current = None
        elif current is not None and (f := _GO_FIELD.match(line)):
            current.append((n, f.group(1), f.group(2) or "", f.group(3), f.group(4) or ""))
    for name, fields in structs.items():
        if any(t == "gorm.Model" or "gorm:" in tag for _, _, _, t, tag in fields):
            at = fields[0][0] - 1 if fields else 1
            facts.models.setdefault(name, Model(name, "gorm", path, max(1, at), indexed={"ID", "id"}))
    for name, fields in structs.items():
        model = facts.models.get(name)
        if model is None or model.path != path:
            continue
        for n, field, ptr, typ, tag in fields:
            model.fields[field] = n
            if _GO_TAG_INDEX.search(tag):
                model.indexed.add(field)
            if typ in facts.models or typ in structs and "foreignKey" in tag:
                model.relations[field] = Relation(field, typ, "association", path, n, many="[]" in ptr)


_VIEW_LOOP = re.compile(r"@(\w+)\.(?:each|each_with_index|map|collect|find_each)\s*(?:do\s*\|(\w+)|\{\s*\|(\w+))")
MAX_VIEW_BLOCK = 150


def read_rails_view(text: str, path: str, facts: RepoFacts) -> None:
    """Loops over instance variables in a template, with what each reads from the loop variable
    (the block is bounded: MAX_VIEW_BLOCK lines, or up to the next loop over an instance variable)."""
    lines = _lines(text)
    folder = path.rsplit("/", 1)[0]
    for n, line in enumerate(lines):
        m = _VIEW_LOOP.search(line)
        if m is None:
            continue
        var = m.group(2) or m.group(3)
        loop = ViewLoop(path, n + 1, m.group(1), var)
        reads = re.compile(rf"\b{re.escape(var)}\.(\w+)(?:\.(\w+[?!]?))?")
        for k in range(n, min(len(lines), n + MAX_VIEW_BLOCK)):
            if k > n and _VIEW_LOOP.search(lines[k]):
                break
            for assoc, then in reads.findall(lines[k][m.end() if k == n else 0 :]):
                loop.reads.setdefault(f"{assoc}.{then}" if then else assoc, k + 1)
        facts.view_loops.setdefault(folder, []).append(loop)
