"""The repository model graph: ORM models, relations, indexes, serializers, admin pages and settings,
read from the head tree of a change (never executed), bounded in files, bytes and time."""

from bot.facts.build import FactsBudget, build_facts, facts_for, facts_provider, link_graph, read_source
from bot.facts.databases import DatabaseFacts, database_facts_for
from bot.facts.graph import Admin, Model, Relation, RepoFacts, Serializer

__all__ = [
    "Admin", "DatabaseFacts", "FactsBudget", "Model", "Relation", "RepoFacts", "Serializer",
    "build_facts", "database_facts_for", "facts_for", "facts_provider", "link_graph", "read_source",
]
