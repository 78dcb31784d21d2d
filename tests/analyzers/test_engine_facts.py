"""The engine hands the head's model graph to analyzers that ask for it (`needs_facts`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.analyzers import default_analyzers
from bot.analyzers.base import FileInput
from bot.analyzers.engine import analyze_change, with_facts
from bot.analyzers.relations import RelationsAnalyzer
from bot.core.diff import ChangeSet
from bot.core.repo import RepoView
from bot.core.repo_config import RepoConfig
from bot.facts import RepoFacts, facts_provider
from bot.facts.build import FactsBudget
from tests.support.analyzer_fixtures import change_for
from tests.support.memory_repo import MemoryRepo

PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "facts" / "django_shop"
VIEW = (
    "from shop.models import Order\n\n\n"
    "def names(request):\n"
    "    return [o.customer.name for o in Order.objects.filter(status='open')]\n"
)


def test_a_relation_declared_in_another_file_is_found_through_the_graph() -> None:
    repo = MemoryRepo({**MemoryRepo.from_folder(PROJECT).files, "shop/views.py": VIEW}, rev="engine-1")
    changes = ChangeSet((change_for(VIEW, "shop/views.py"),))
    result = analyze_change(changes, repo, RepoConfig(), default_analyzers())
    assert [(f.source, f.start_line) for f in result.findings] == [("py-relation-read-per-item", 5)]
    assert "relations" in result.coverage[0].analyzers


def test_binding_leaves_the_shared_instance_untouched_and_other_analyzers_as_they_are() -> None:
    shared = RelationsAnalyzer()
    other = default_analyzers()[0]
    repo = MemoryRepo({**MemoryRepo.from_folder(PROJECT).files, "shop/views.py": VIEW}, rev="engine-2")
    bound = with_facts([shared, other], facts_provider(repo))
    assert bound[1] is other and bound[0] is not shared
    file = FileInput(change=change_for(VIEW, "shop/views.py"), text=VIEW)
    assert len(bound[0].analyze(file)) == 1
    assert shared.analyze(file) == []  # unbound: Order is unknown in this file alone


RAILS_MODELS = {
    "app/models/application_record.rb": "class ApplicationRecord < ActiveRecord::Base\n  primary_abstract_class\nend\n",
    "app/models/order.rb": "class Order < ApplicationRecord\n  has_many :items\n  include Labelled\nend\n",
    "app/models/concerns/labelled.rb": (
        "module Labelled\n  extend ActiveSupport::Concern\n  included do\n    has_many :labels\n  end\nend\n"),
}
LOOPS = (
    "class Report\n"
    "  def initialize(values, orders)\n"
    "    @values = values\n"
    "    @orders = orders\n"
    "  end\n\n"
    "  def aliases\n"
    "    @values.each do |value|\n"
    "      value.aliases.each do |name|\n"
    "        puts name\n"
    "      end\n"
    "    end\n"
    "  end\n\n"
    "  def totals\n"
    "    @orders.each do |order|\n"
    "      order.items.each do |item|\n"
    "        puts item.price\n"
    "      end\n"
    "    end\n"
    "  end\n\n"
    "  def labels\n"
    "    @orders.each do |record|\n"
    "      record.labels.each do |label|\n"
    "        puts label\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
)


def _association_findings(files: dict[str, str], rev: str) -> list[tuple[int, float]]:
    repo = MemoryRepo({**files, "app/lib/report.rb": LOOPS}, rev=rev)
    changes = ChangeSet((change_for(LOOPS, "app/lib/report.rb"),))
    result = analyze_change(changes, repo, RepoConfig(), default_analyzers())
    return [(f.start_line, f.confidence) for f in result.findings if f.source == "rb-association-in-each"]


def test_an_association_no_rails_model_declares_is_a_plain_attribute() -> None:
    found = dict(_association_findings(RAILS_MODELS, "rails-assoc-1"))
    assert 9 not in found  # `aliases`: no model declares it, so `value` is a plain object
    assert found[17] == 0.7  # Order declares `items` and `order` names an Order: confirmed
    assert found[25] == 0.55  # declared in a concern: kept as the rule guessed
    # without ActiveRecord models the rule's guess stands
    assert [line for line, _ in _association_findings({}, "rails-assoc-2")] == [9, 17, 25]
    # a model that declares `aliases` keeps the first one
    declares = {**RAILS_MODELS, "app/models/value.rb": "class Value < ApplicationRecord\n  has_many :aliases\nend\n"}
    assert dict(_association_findings(declares, "rails-assoc-3"))[9] == 0.7


def test_one_change_builds_the_head_graph_once_even_when_it_cannot_be_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.facts.build as build

    real, calls = build.build_facts, []

    def counted(view: RepoView, budget: FactsBudget | None = None) -> RepoFacts:
        calls.append(view)
        return real(view, budget)

    monkeypatch.setattr(build, "build_facts", counted)
    repo = MemoryRepo({**RAILS_MODELS, "app/lib/report.rb": LOOPS}, rev="")  # no revision: no per-commit cache
    changes = ChangeSet((change_for(LOOPS, "app/lib/report.rb"),))
    result = analyze_change(changes, repo, RepoConfig(), default_analyzers())
    assert any(f.source == "rb-association-in-each" for f in result.findings)  # the graph was needed after the run
    assert len(calls) == 1
