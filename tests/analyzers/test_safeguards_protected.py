"""A removed eager load stays quiet when what it loaded is gone at head: the association was deleted from
the model (per the model graph, declared at base) or the change removed every read of it. It still fires
when the association exists and is read by code the change left alone."""

from __future__ import annotations

import itertools

from bot.analyzers import default_analyzers
from bot.analyzers.engine import analyze_change
from bot.core.diff import ChangeSet
from bot.core.model import Finding
from bot.core.repo_config import RepoConfig
from tests.support.memory_repo import MemoryRepo
from tests.support.two_sides import change_between

_REV = itertools.count()
RULE = "safeguard-eager-loading"

RB_MODEL = (
    "class Item < ApplicationRecord\n"
    "  belongs_to :organization\n"
    "  belongs_to :kit, optional: true\n"
    "  has_many :line_items\n"
    "end\n"
)
RB_MODEL_WITHOUT_KIT = RB_MODEL.replace("  belongs_to :kit, optional: true\n", "")
RB_CONTROLLER = (
    "class ItemsController < ApplicationController\n"
    "  def index\n"
    "    @items = current_organization\n"
    "      .items\n"
    "      .includes(:kit, :line_items)\n"
    "      .alphabetized\n"
    "    @storages = current_organization.storage_locations.active\n"
    "    @title = 'Items'\n"
    "  end\n"
    "end\n"
)
RB_CONTROLLER_HEAD = RB_CONTROLLER.replace(".includes(:kit, :line_items)", ".includes(:line_items)")
RB_VIEW = "<% @items.each do |item| %>\n  <%= item.name %> <%= item.kit&.name %>\n<% end %>\n"
RB_VIEW_WITHOUT_KIT = RB_VIEW.replace(" <%= item.kit&.name %>", "")
# another object's kit, still read at head: the reads of `.kit` did not all go
RB_HELPER = "module KitsHelper\n  def kit_label(box)\n    box.kit.name\n  end\nend\n"

PY_MODELS = (
    "from django.db import models\n\n\n"
    "class Customer(models.Model):\n"
    "    name = models.CharField(max_length=80)\n\n\n"
    "class Order(models.Model):\n"
    "    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)\n"
    "    shop = models.ForeignKey('Shop', on_delete=models.CASCADE)\n"
    "    total = models.IntegerField()\n"
)
PY_MODELS_WITHOUT_CUSTOMER = PY_MODELS.replace(
    "    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)\n", "    customer_name = models.CharField()\n"
)
PY_VIEW = (
    "from django.shortcuts import render\n\n"
    "from shop.models import Order\n\n\n"
    "def orders(request):\n"
    "    rows = Order.objects.select_related(\"customer\", \"shop\").filter(total__gt=0)\n"
    "    return render(request, \"orders.html\", {\"rows\": rows})\n"
)
PY_VIEW_HEAD = PY_VIEW.replace('select_related("customer", "shop")', 'select_related("shop")')
PY_TEMPLATE = "{% for row in rows %}{{ row.shop.name }} {{ row.customer.name }}{% endfor %}\n"
PY_TEMPLATE_WITHOUT_CUSTOMER = PY_TEMPLATE.replace(" {{ row.customer.name }}", "")
PY_EXPORT = "def label(invoice):\n    return invoice.customer.name\n"


def _review(base: dict[str, str], head: dict[str, str]) -> list[Finding]:
    """Review the change from `base` to `head` (the files that differ are the changed ones)."""
    n = next(_REV)
    changed = [p for p in sorted(head) if base.get(p) != head[p]]
    changes = ChangeSet(tuple(change_between(base[p], head[p], p) for p in changed))
    result = analyze_change(
        changes, MemoryRepo(head, rev=f"protected-head-{n}"), RepoConfig(), default_analyzers(),
        base_repo=MemoryRepo(base, rev=f"protected-base-{n}"),
    )
    # a removed eager load the template rule also sees is one problem, posted once (bot.analyzers.same_problem)
    return [f for f in result.findings if f.source == RULE or f"Also seen by `{RULE}`" in f.evidence]


def _rails(model_head: str, view_head: str = RB_VIEW, helper_head: str | None = None) -> list[Finding]:
    base = {"app/models/item.rb": RB_MODEL, "app/controllers/items_controller.rb": RB_CONTROLLER,
            "app/views/items/index.html.erb": RB_VIEW, "app/helpers/kits_helper.rb": RB_HELPER + "\n"}
    head = {"app/models/item.rb": model_head, "app/controllers/items_controller.rb": RB_CONTROLLER_HEAD,
            "app/views/items/index.html.erb": view_head, "app/helpers/kits_helper.rb": helper_head or base[
                "app/helpers/kits_helper.rb"]}
    return _review(base, head)


def test_rails_fires_when_the_association_is_still_declared_and_read() -> None:
    (finding,) = _rails(RB_MODEL)
    assert finding.path == "app/controllers/items_controller.rb" and ":kit" in finding.evidence


def test_rails_quiet_when_the_association_was_removed_from_the_model() -> None:
    # the helper still reads another object's `.kit` (changed, at head): only the model graph can tell
    assert _rails(RB_MODEL_WITHOUT_KIT, helper_head=RB_HELPER) == []


def test_rails_quiet_when_the_change_removed_every_read_of_the_relation() -> None:
    assert _rails(RB_MODEL, view_head=RB_VIEW_WITHOUT_KIT, helper_head="module KitsHelper\nend\n") == []


def _django(models_head: str, template_head: str = PY_TEMPLATE, export_head: str | None = None) -> list[Finding]:
    base = {"shop/models.py": PY_MODELS, "shop/views.py": PY_VIEW, "shop/templates/orders.html": PY_TEMPLATE,
            "shop/export.py": PY_EXPORT + "\n"}
    head = {"shop/models.py": models_head, "shop/views.py": PY_VIEW_HEAD, "shop/templates/orders.html": template_head,
            "shop/export.py": export_head or base["shop/export.py"]}
    return _review(base, head)


def test_django_fires_when_the_relation_is_still_declared_and_read() -> None:
    (finding,) = _django(PY_MODELS)
    assert finding.path == "shop/views.py" and "customer" in finding.evidence


def test_django_quiet_when_the_foreign_key_was_removed_from_the_model() -> None:
    assert _django(PY_MODELS_WITHOUT_CUSTOMER, export_head=PY_EXPORT) == []


def test_django_quiet_when_the_change_removed_every_read_of_the_relation() -> None:
    assert _django(PY_MODELS, template_head=PY_TEMPLATE_WITHOUT_CUSTOMER, export_head="X = 1\n") == []


def test_a_relation_the_base_model_never_declared_is_no_evidence_of_removal() -> None:
    # nothing declares `kit` on either side (a concern, a gem): the loss is reported as before
    base_model = RB_MODEL.replace("  belongs_to :kit, optional: true\n", "")
    base = {"app/models/item.rb": base_model, "app/controllers/items_controller.rb": RB_CONTROLLER,
            "app/views/items/index.html.erb": RB_VIEW}
    head = {**base, "app/controllers/items_controller.rb": RB_CONTROLLER_HEAD}
    assert len(_review(base, head)) == 1
