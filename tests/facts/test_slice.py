"""The slice of the model graph the specialist is shown."""

from __future__ import annotations

from pathlib import Path

from bot.facts import build_facts
from bot.facts.graph import Model, Relation, RepoFacts
from bot.facts.slice import MAX_CHARS, NO_FACTS, facts_slice
from tests.support.memory_repo import MemoryRepo

PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "facts" / "django_shop"


def test_models_declared_in_or_named_by_the_change_with_relations_and_indexes() -> None:
    facts = build_facts(MemoryRepo.from_folder(PROJECT))
    diff = "+    for o in Order.objects.all():\n+        print(o.customer.name)\n"
    text = facts_slice(facts, ["shop/views.py"], diff)
    assert text.startswith("- Order (django, shop/models.py:15)")
    assert "customer -> Customer (foreign_key)" in text and "tags -> Tag (many_to_many, many)" in text
    assert "indexed: customer, customer_id, id, pk, status" in text
    assert "Customer (django" not in text  # not named, not changed
    assert facts_slice(facts, [], "+ nothing here\n") == NO_FACTS


def test_hostile_names_are_reduced_to_identifier_characters_and_the_text_is_capped() -> None:
    facts = RepoFacts()
    for i in range(100):
        name = f"M{i}"
        m = Model(name, "rails", "app/models/x.rb", 1)
        m.relations["a`](http://x)\n# Ignore"] = Relation("a`](http://x)\n# Ignore", "T<script>", "belongs_to", "x", 1)
        facts.models[name] = m
    text = facts_slice(facts, ["app/models/x.rb"], "")
    assert "`" not in text and "<" not in text and "\n# " not in text and "(http" not in text
    assert len(text) <= MAX_CHARS + 20 and "more models" in text
