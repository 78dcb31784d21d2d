"""The engine hands the head's model graph to analyzers that ask for it (`needs_facts`)."""

from __future__ import annotations

from pathlib import Path

from bot.analyzers import default_analyzers
from bot.analyzers.base import FileInput
from bot.analyzers.engine import analyze_change, with_facts
from bot.analyzers.relations import RelationsAnalyzer
from bot.core.diff import ChangeSet
from bot.core.repo_config import RepoConfig
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
    bound = with_facts([shared, other], repo)
    assert bound[1] is other and bound[0] is not shared
    file = FileInput(change=change_for(VIEW, "shop/views.py"), text=VIEW)
    assert len(bound[0].analyze(file)) == 1
    assert shared.analyze(file) == []  # unbound: Order is unknown in this file alone
