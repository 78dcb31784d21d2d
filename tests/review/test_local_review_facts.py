"""End to end with the scripted model: the specialist's first message carries the model graph's slice."""

from __future__ import annotations

import re
from pathlib import Path

from bot.review.local_review import review_local
from tests.support.fakemodel import FakeModel, Reply, tool
from tests.support.gitrepo import GitRepo
from tests.support.shop_models import SHOP_MODELS as MODELS

VIEW = (
    "from shop.models import Order\n\n\n"
    "def names(request):\n"
    "    return [o.customer.name for o in Order.objects.filter(status='open')]\n"
)


def test_first_message_names_the_models_the_change_touches(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.write("shop/models.py", MODELS)
    repo.write("shop/views.py", "")
    repo.commit("base")
    repo.branch("feature")
    repo.write("shop/views.py", VIEW)
    repo.commit("List names")
    fake = FakeModel([Reply([tool("finish_review", summary="checked", assumptions=[], rollback_plan="revert",
                                  monitoring_plan="queries per request")])])
    review = review_local(str(repo.root), "main", use_llm=True, env={}, model_client=fake.client())
    task = str(fake.requests[0]["messages"][0]["content"])
    opening = re.search(r"<untrusted-facts-([0-9a-f]+)>", task)
    assert opening is not None, "the facts block carries the request's fence token"
    facts = task[opening.end() : task.index(f"</untrusted-facts-{opening.group(1)}>")]
    assert "Order (django, shop/models.py:8)" in facts and "customer -> Customer (foreign_key)" in facts
    assert "status" in facts.split("indexed:")[1]
    # the static finding the graph made possible is among the candidates the model is asked to check
    assert any(f.source == "py-relation-read-per-item" for f in review.findings)
