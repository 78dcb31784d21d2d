"""Builds the model graph of one commit from a RepoView: which files to read, within which budget.

Candidates are chosen by path (cheap), read in order of likelihood, and parsed without executing
anything. Files over the budget are named in `RepoFacts.not_read`. Graphs are cached per commit.
"""

from __future__ import annotations

import ast
import posixpath
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.repo import RepoAccessError, RepoView
from bot.facts.budgeted_read import read_within_budget
from bot.facts.commit_cache import CommitCache
from bot.facts.django_templates import read_django_template
from bot.facts.graph import RepoFacts
from bot.facts.other_orms import (
    inherit_rails_models,
    read_gorm,
    read_prisma,
    read_rails,
    read_rails_schema,
    read_rails_view,
    read_sequelize,
    read_typeorm,
)
from bot.facts.python_api import inherit_serializer_models, read_python_api
from bot.facts.python_models import (
    ClassIndex,
    add_reverse_accessors,
    read_python_models,
    resolve_models,
    resolve_user_model,
)


@dataclass(frozen=True)
class FactsBudget:
    max_files: int = 1200
    max_bytes: int = 12_000_000
    max_seconds: float = 8.0  # inside the engine's per-file analyzer budget (10 s)
    max_file_bytes: int = 600_000


_PY_NAMES = re.compile(
    r"(^|/)(serializers|admin|settings|base|tables|entities|schemas?|orm|db)(/[^/]+)?\.py$|(^|/)settings/[^/]*\.py$"
    r"|(^|/)models?/.*\.py$|[^/]*models?[^/]*\.py$|(^|/)(serializers|admin)/[^/]+/[^/]+\.py$"
)
_RB_MODEL = re.compile(r"(^|/)app/models/.+\.rb$")
_RB_VIEW = re.compile(r"(^|/)app/views/.+\.(erb|haml|slim|jbuilder|builder|rabl)$")
_DJ_TEMPLATE = re.compile(r"(^|/)templates/.+\.(html|txt|jinja2?|j2)$")
_TS_MODEL = re.compile(r"\.(entity|model)\.[jt]s$|(^|/)(models|entities|entity)/[^/]+\.[jt]s$|\.prisma$")
_GO_MODEL = re.compile(r"(^|/)(models?|entity|entities|schema|store|domain|db)(/[^/]+)?\.go$")
_SKIP = re.compile(r"(^|/)(node_modules|vendor|\.venv|venv|site-packages|dist|build|migrations|test|tests|spec)/")
_PY_HINT = re.compile(
    r"django\.db|django\.contrib\.auth|models\.Model|sqlalchemy|serializers|admin\.|REST_FRAMEWORK|__tablename__"
    r"|AUTH_USER_MODEL"
)


def candidate_files(paths: list[str]) -> list[str]:
    """Files likely to declare models, serializers, admin pages or settings, most likely first."""
    picked: list[tuple[int, str]] = []
    for p in paths:
        if _SKIP.search(p) and not p.endswith("schema.rb"):
            continue
        if _PY_NAMES.search(p):
            rank = 0 if posixpath.basename(p) in ("models.py", "serializers.py", "admin.py") else 1
        elif p.endswith("db/schema.rb") or _RB_MODEL.search(p):
            rank = 0
        elif _TS_MODEL.search(p) or _GO_MODEL.search(p):
            rank = 1
        elif _RB_VIEW.search(p):
            rank = 2
        elif _DJ_TEMPLATE.search(p) and not _RB_VIEW.search(p):
            rank = 3
        else:
            continue
        picked.append((rank, p))
    return [p for _, p in sorted(picked, key=lambda x: (x[0], x[1].count("/"), x[1]))]


def read_source(path: str, text: str, facts: RepoFacts, classes: ClassIndex | None = None) -> None:
    """Add what one file declares to `facts` (by language). With `classes`, Python models are only
    collected, for `resolve_models` to find once every file is read."""
    if path.endswith(".py"):
        if not _PY_HINT.search(text):
            return
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError):
            facts.not_read.append(f"{path}: does not parse")
            return
        if classes is None:
            read_python_models(tree, path, facts)
        else:
            classes.collect(tree, path)
        read_python_api(tree, path, facts)
    elif path.endswith("schema.rb"):
        read_rails_schema(text, facts)
    elif path.endswith(".rb"):
        read_rails(text, path, facts)
    elif _RB_VIEW.search(path):
        read_rails_view(text, path, facts)
    elif _DJ_TEMPLATE.search(path):
        read_django_template(text, path, facts)
    elif path.endswith(".prisma"):
        read_prisma(text, path, facts)
    elif path.endswith((".ts", ".js")):
        if "@Entity" in text:
            read_typeorm(text, path, facts)
        if "belongsTo(" in text or "hasMany(" in text:
            read_sequelize(text, path, facts)
    elif path.endswith(".go") and "gorm" in text:
        read_gorm(text, path, facts)


def build_facts(
    view: RepoView, budget: FactsBudget | None = None, clock: Callable[[], float] = time.monotonic
) -> RepoFacts:
    budget = budget or FactsBudget()
    facts = RepoFacts()
    started = clock()
    try:
        files = candidate_files(view.list_files())
    except RepoAccessError as exc:
        facts.not_read.append(f"cannot list files: {exc}")
        return facts
    schema_last = [p for p in files if not p.endswith("schema.rb")] + [p for p in files if p.endswith("schema.rb")]
    if len(schema_last) > budget.max_files:
        over = len(schema_last) - budget.max_files
        facts.not_read.append(f"{over} candidate files over the {budget.max_files}-file cap")
        schema_last = schema_last[: budget.max_files]
    classes = ClassIndex()
    for path, text in read_within_budget(view, schema_last, budget, facts, clock, started):
        read_source(path, text, facts, classes)
    resolve_models(classes, facts)
    link_graph(facts)
    return facts


def link_graph(facts: RepoFacts) -> None:
    """What the graph derives once its sources are read: inherited Rails models, Django's user model,
    inherited serializer models, reverse accessors (in that order: each reads what the one before filled in)."""
    inherit_rails_models(facts)
    resolve_user_model(facts)
    inherit_serializer_models(facts)
    add_reverse_accessors(facts)


_GRAPHS: CommitCache[RepoFacts] = CommitCache(8)


def facts_for(view: RepoView, budget: FactsBudget | None = None) -> RepoFacts:
    """The graph of `view`'s commit, built once per commit (a small LRU) and then shared."""
    return _GRAPHS.get(view, lambda: build_facts(view, budget))


def facts_provider(view: RepoView) -> Callable[[], RepoFacts]:
    """A callable that builds the graph on first use only (analyzers that never need it cost nothing)."""
    box: list[RepoFacts] = []

    def provide() -> RepoFacts:
        if not box:
            box.append(facts_for(view))
        return box[0]

    return provide
