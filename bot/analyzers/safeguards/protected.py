"""Whether what a removed eager load protected is still there at head, seen beyond its own file:

- the association is gone: the query's model (per the head's model graph) no longer declares it, while
  the model's base version did (a relation deleted together with its `includes(:kit)` or
  `select_related("kit")` entry: nothing is left to load, so there is nothing to ask);
- its reads are gone: the changed files read the relation at base (`item.kit`, `{{ order.customer }}`)
  and none of them does at head (the eager load went with its last reads in the change).

Either answer needs what the whole change offers (bot.analyzers.change_context); without it, both are no.
"""

from __future__ import annotations

import re

from bot.analyzers.change_context import ChangeContext
from bot.analyzers.safeguards.model import Kind, Safeguard
from bot.analyzers.test_paths import reason_if_test
from bot.facts.graph import Model, RepoFacts
from bot.facts.other_orms import camelize, singular

MAX_CHANGED_FILES = 200  # files searched for reads of the relation
MAX_FILE_CHARS = 400_000
_QUERY_WORDS = frozenset(
    {
        "objects", "all", "where", "filter", "exclude", "order", "order_by", "includes", "preload", "eager_load",
        "select_related", "prefetch_related", "joins", "limit", "offset", "distinct", "active", "visible", "none",
        "unscoped", "with_deleted", "get_queryset", "query", "session", "self", "current_user", "current_organization",
    }
)
_NAME = re.compile(r"^[A-Za-z_]\w*$")


def _relation(s: Safeguard) -> str | None:
    """The association the eager load names on the query's own model (its first segment)."""
    name = s.key.split(":", 1)[-1].strip("\"' ").split("__", 1)[0].split(".", 1)[0]
    return name if _NAME.match(name) else None


def model_candidates(target: str) -> list[str]:
    """Model class names a query chain may be on, most likely first: a constant that starts it
    (`Order.objects…`, `Item.where…`), else the association it walks last (`org.items…` → Item)."""
    parts = [p for p in target.removeprefix("eager:").split(".") if p]
    if not parts:
        return []
    if parts[0][:1].isupper():
        return [parts[0].split("::")[-1]]
    words = [p for p in reversed(parts) if _NAME.match(p) and p not in _QUERY_WORDS]
    return [camelize(singular(w)) for w in words]


def _model_at(facts: RepoFacts, target: str) -> Model | None:
    return next((m for name in model_candidates(target) if (m := facts.model(name)) is not None), None)


def _declared_at_base(model: Model, relation: str, context: ChangeContext) -> bool:
    if context.read_base is None:
        return False
    text = context.read_base(model.path)
    if text is None:
        return False
    from bot.facts import read_source

    base = RepoFacts()
    read_source(model.path, text, base)
    return base.relation(model.name, relation) is not None


def association_gone(s: Safeguard, context: ChangeContext) -> bool:
    """The query's model declared the relation at base and no longer does at head."""
    if s.kind is not Kind.eager_loading or context.head_facts is None:
        return False
    relation = _relation(s)
    if relation is None:
        return False
    model = _model_at(context.head_facts(), s.target)
    if model is None or relation in model.relations:
        return False
    return _declared_at_base(model, relation, context)


def _reads(name: str, texts: list[str]) -> bool:
    pattern = re.compile(rf"\.{re.escape(name)}(?!\w)")
    return any(pattern.search(text) for text in texts)


def reads_dropped_in_change(s: Safeguard, context: ChangeContext) -> bool:
    """The changed files (tests left out) read the relation at base and none of them reads it at head."""
    if s.kind is not Kind.eager_loading or not context.files:
        return False
    name = _relation_read(s)
    if name is None:
        return False
    files = [f for f in context.files[:MAX_CHANGED_FILES] if reason_if_test(f.path, ()) is None]
    base = [f.base[:MAX_FILE_CHARS] for f in files if f.base is not None]
    head = [f.head[:MAX_FILE_CHARS] for f in files]
    return _reads(name, base) and not _reads(name, head)


def _relation_read(s: Safeguard) -> str | None:
    """The relation whose reads the eager load serves: the last segment of a nested path (`shop__owner` → owner)."""
    name = s.key.split(":", 1)[-1].strip("\"' ").replace("__", ".").rsplit(".", 1)[-1]
    return name if _NAME.match(name) else None
