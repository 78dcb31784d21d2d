"""The part of the model graph a change touches, as short plain text for the specialist's first message.

A model is in the slice when it is declared in a changed file or its name appears in the diff. Names come
from the repository (untrusted): only identifier characters are kept, and the text is capped.
"""

from __future__ import annotations

import re

from bot.facts.graph import Model, RepoFacts

MAX_MODELS = 25
MAX_RELATIONS = 12
MAX_CHARS = 6000
NO_FACTS = "(no models of this repository are declared in or named by the change)"
_IDENT = re.compile(r"[^\w./:-]")
_WORD = re.compile(r"\b[A-Z]\w{1,60}\b")


def _clean(text: str, limit: int = 60) -> str:
    return _IDENT.sub("", text)[:limit]


def _describe(model: Model) -> str:
    rels = [
        f"{_clean(r.name)} -> {_clean(r.target)} ({r.kind}{', many' if r.many else ''}"
        f"{', loaded eagerly by default' if r.eager_by_default else ''})"
        for r in list(model.relations.values())[:MAX_RELATIONS]
    ]
    more = len(model.relations) - MAX_RELATIONS
    if more > 0:
        rels.append(f"... {more} more")
    indexed = ", ".join(sorted(_clean(c) for c in model.indexed)[:15]) or "none known"
    line = f"- {_clean(model.name)} ({model.orm}, {_clean(model.path, 200)}:{model.line}); indexed: {indexed}"
    if rels:
        line += "; relations: " + "; ".join(rels)
    if model.default_eager:
        line += "; default_scope eager-loads " + ", ".join(sorted(_clean(x) for x in model.default_eager))
    return line


def facts_slice(facts: RepoFacts, changed_paths: list[str], diff: str) -> str:
    """Models the change declares or names, their relations and indexes, and what the graph did not read."""
    named = set(_WORD.findall(diff[:2_000_000]))
    changed = set(changed_paths)
    picked = [m for m in facts.models.values() if m.path in changed]
    picked += [m for m in facts.models.values() if m.name in named and m.path not in changed]
    lines = [_describe(m) for m in picked[:MAX_MODELS]]
    if len(picked) > MAX_MODELS:
        lines.append(f"- ... {len(picked) - MAX_MODELS} more models")
    if facts.not_read:
        first = _clean(facts.not_read[0], 120)
        lines.append(f"(the graph left {len(facts.not_read)} files or notes unread, e.g. {first})")
    text = "\n".join(lines) if picked else NO_FACTS
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + "\n- ... (cut)"
