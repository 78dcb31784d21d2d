"""The relations analyzer on fixture files, against the model graph of two fixture projects.

Every fixture under tests/fixtures/relations/fires/ marks each line a rule must report with
`expect: <rule-id>`; files under quiet/ must produce no finding at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.analyzers.base import FileInput
from bot.analyzers.relations import RelationsAnalyzer
from bot.core.model import Category, Severity
from bot.facts import RepoFacts, build_facts
from tests.support.analyzer_fixtures import change_for, fixture_path, marked_lines
from tests.support.memory_repo import MemoryRepo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "relations"
PROJECTS = Path(__file__).resolve().parents[1] / "fixtures" / "facts"
MARK = re.compile(r"(?:#|//)\s*expect:\s*([\w\- ]+)")


def project_facts() -> RepoFacts:
    files: dict[str, str] = {}
    for project in ("django_shop", "rails_blog"):
        files.update(MemoryRepo.from_folder(PROJECTS / project).files)
    return build_facts(MemoryRepo(files))


FACTS = project_facts()


def analyzer() -> RelationsAnalyzer:
    return RelationsAnalyzer().bind_facts(lambda: FACTS)


def run(path: str, text: str, added: set[int] | None = None) -> list[tuple[int, str]]:
    found = analyzer().analyze(FileInput(change=change_for(text, path, added), text=text))
    return sorted((f.start_line, f.source) for f in found)


def fixtures(kind: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / kind).rglob("*") if p.is_file())


@pytest.mark.parametrize("fixture", fixtures("fires"), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fires_exactly_where_marked(fixture: Path) -> None:
    text = fixture.read_text()
    assert analyzer().supports(fixture_path(fixture, FIXTURES), text)
    expected = sorted(marked_lines(text, MARK))
    assert expected, "a fires fixture must mark at least one line"
    assert run(fixture_path(fixture, FIXTURES), text) == expected


@pytest.mark.parametrize("fixture", fixtures("quiet"), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_quiet_fixtures_report_nothing(fixture: Path) -> None:
    assert run(fixture_path(fixture, FIXTURES), fixture.read_text()) == []


def test_every_rule_has_a_firing_fixture() -> None:
    fired = {rule for p in fixtures("fires") for _, rule in marked_lines(p.read_text(), MARK)}
    # the JS/TS rule reads the node_go project's Sequelize/TypeORM graph: tests/analyzers/test_relations_js.py
    from tests.analyzers.test_relations_js import FIRES
    from tests.analyzers.test_relations_js import run as run_js

    fired |= {f.source for f in run_js(FIRES)}
    assert fired == set(analyzer().rule_ids())


def test_finding_names_the_relation_and_offers_the_eager_load() -> None:
    text = (
        "from shop.models import Order\n\n\n"
        "def names(request):\n"
        "    orders = Order.objects.filter(status='open')\n"
        "    return [o.customer.name for o in orders]\n"
    )
    [f] = analyzer().analyze(FileInput(change=change_for(text, "shop/views.py"), text=text))
    assert f.category == Category.n_plus_one and f.severity == Severity.high
    assert f.confidence >= 0.9
    assert "`o.customer` is read for each Order row" in f.evidence
    assert f.start_line == 5
    assert f.suggestion == "    orders = Order.objects.filter(status='open').select_related(\"customer\")"


def test_a_loop_over_a_parameter_is_typed_by_its_select_related_list() -> None:
    text = (
        "def export(queryset):\n"
        "    queryset = queryset.select_related('tags', 'customer')\n"
        "    for invoice in queryset:\n"
        "        print(invoice.order.reference)\n"
    )
    # `tags` + `customer` fit only Order, so `invoice` is an Order: no `order` relation there, nothing to say
    assert run("shop/export.py", text) == []
    text2 = text.replace("print(invoice.order.reference)", "print(invoice.invoice.number)")
    found = analyzer().analyze(FileInput(change=change_for(text2, "shop/export.py"), text=text2))
    assert [(f.start_line, f.confidence) for f in found] == [(2, 0.8)]


def test_a_guess_by_loop_variable_name_is_low_confidence_and_never_high() -> None:
    text = "def export(rows):\n    for order in rows.all():\n        print(order.customer.name)\n"
    assert run("shop/export.py", text) == []  # `rows` is not a followed queryset
    text = "def export(queryset):\n    for order in queryset:\n        print(order.customer.name)\n"
    [f] = analyzer().analyze(FileInput(change=change_for(text, "shop/export.py"), text=text))
    assert f.confidence <= 0.5 and f.severity == Severity.medium


def test_only_lines_the_change_touches_are_reported() -> None:
    text = (FIXTURES / "fires" / "shop" / "views.py").read_text()
    assert run("shop/views.py", text, added={1}) == []


def test_offline_scripts_are_at_most_low_and_tests_are_not_read() -> None:
    text = "from shop.models import Order\nfor o in Order.objects.all()[:9]:\n    print(o.customer.name)\n"
    [f] = analyzer().analyze(FileInput(change=change_for(text, "scripts/seed_demo.py"), text=text))
    assert f.severity == Severity.low
    assert not analyzer().supports("shop/tests/test_views.py", text)


def test_pagination_from_settings_silences_list_views() -> None:
    text = (
        "from rest_framework import viewsets\nfrom shop.models import Order\n\n\n"
        "class Orders(viewsets.ReadOnlyModelViewSet):\n    queryset = Order.objects.none()\n"
    )
    facts = project_facts()
    assert run("shop/views.py", text) == [(6, "py-list-view-unpaginated")]
    facts.settings["DEFAULT_PAGINATION_CLASS"] = "'rest_framework.pagination.CursorPagination'"
    bound = RelationsAnalyzer().bind_facts(lambda: facts)
    assert bound.analyze(FileInput(change=change_for(text, "shop/views.py"), text=text)) == []


def test_without_a_graph_the_file_own_models_are_used() -> None:
    text = (
        "from django.db import models\n\n\n"
        "class Book(models.Model):\n    author = models.ForeignKey('Author', on_delete=models.CASCADE)\n\n\n"
        "def titles():\n    return [b.author.name for b in Book.objects.all()[:10]]\n"
    )
    found = RelationsAnalyzer().analyze(FileInput(change=change_for(text, "books/models.py"), text=text))
    assert [(f.start_line, f.source) for f in found] == [(9, "py-relation-read-per-item")]


def test_hostile_input_reports_nothing_and_does_not_raise() -> None:
    text = "def f(:\n" + "x." * 5000
    assert run("shop/views.py", text + "objects") == []
    assert run("app/controllers/a_controller.rb", "Post.where(" * 2000 + ".each do |p|\n p.author\nend\n") == []


def test_a_controller_instance_variable_is_checked_against_its_template_loops() -> None:
    text = "class PostsController < ApplicationController\n  def index\n    @posts = Post.published\n  end\nend\n"
    assert analyzer().supports("app/controllers/posts_controller.rb", text)
    [f] = analyzer().analyze(FileInput(change=change_for(text, "app/controllers/posts_controller.rb"), text=text))
    assert (f.source, f.start_line) == ("rb-association-per-record", 3)
    assert "app/views/posts/index.html.erb reads `post.author`" in f.evidence
    with_includes = text.replace("Post.published", "Post.published.includes(:author)")
    change = change_for(with_includes, "app/controllers/posts_controller.rb")
    assert analyzer().analyze(FileInput(change=change, text=with_includes)) == []
    other = text.replace("def index", "def archive")  # archive.html.erb does not exist: no template read
    change = change_for(other, "app/controllers/posts_controller.rb")
    assert analyzer().analyze(FileInput(change=change, text=other)) == []


def test_rules_name_their_languages_for_coverage() -> None:
    from bot.eval.run import covered_pairs

    pairs = covered_pairs([analyzer()])
    assert ("n_plus_one", "python") in pairs and ("n_plus_one", "ruby") in pairs
    assert not any(lang in ("go", "*") for _, lang in pairs)


def test_a_large_hostile_ruby_file_is_read_quickly() -> None:
    import time

    line = "  x" + ".each" * 70 + " = " + "Post.where(a: 1)." * 20 + "\n"
    text = "class A\n" + line * 3000 + "end\n"
    started = time.perf_counter()
    run("app/controllers/a_controller.rb", text)
    assert time.perf_counter() - started < 5


def test_the_engine_deadline_is_honoured_when_the_file_carries_one() -> None:
    class Expired(Exception):
        pass

    class Deadline:
        def check(self) -> None:
            raise Expired

    text = (FIXTURES / "fires" / "shop" / "views.py").read_text()
    file = FileInput(change=change_for(text, "shop/views.py"), text=text)
    object.__setattr__(file, "deadline", Deadline())
    with pytest.raises(Expired):
        analyzer().analyze(file)


def test_a_record_typed_by_its_variable_name_is_reported_below_the_gate() -> None:
    text = "class Report\n  def rows(post)\n    post.comments.flat_map(&:post)\n  end\nend\n"
    [f] = analyzer().analyze(FileInput(change=change_for(text, "app/models/report.rb"), text=text))
    assert (f.source, f.start_line) == ("rb-association-per-record", 3)
    assert f.confidence < 0.8 and "`record.post`" in f.evidence
    typed = "class Report\n  def rows\n    Comment.where(spam: false).flat_map(&:post)\n  end\nend\n"
    [g] = analyzer().analyze(FileInput(change=change_for(typed, "app/models/report.rb"), text=typed))
    assert g.confidence >= 0.8
    unknown = "class Report\n  def rows(entry)\n    entry.comments.flat_map(&:post)\n  end\nend\n"
    assert analyzer().analyze(FileInput(change=change_for(unknown, "app/models/report.rb"), text=unknown)) == []


NULLABLE_MODELS = '''from django.db import models


class Coupon(models.Model):
    code = models.CharField(max_length=20)


class Order(models.Model):
    reference = models.CharField(max_length=40)
    coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.SET_NULL)
'''
NULLABLE_ADMIN = '''from django.contrib import admin

from shop.models import Order


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("reference", "coupon")
'''


def test_a_nullable_foreign_key_column_is_not_joined_by_the_change_lists_select_related() -> None:
    # Django's select_related() with no arguments follows non-null foreign keys only
    facts = build_facts(MemoryRepo({"shop/models.py": NULLABLE_MODELS, "shop/admin.py": NULLABLE_ADMIN}))
    assert facts.models["Order"].relations["coupon"].nullable
    found = RelationsAnalyzer().bind_facts(lambda: facts).analyze(
        FileInput(change=change_for(NULLABLE_ADMIN, "shop/admin.py", None), text=NULLABLE_ADMIN))
    assert [f.source for f in found] == ["py-admin-list-through-relation"]
    non_null = NULLABLE_MODELS.replace("null=True, blank=True, on_delete=models.SET_NULL", "on_delete=models.CASCADE")
    facts = build_facts(MemoryRepo({"shop/models.py": non_null, "shop/admin.py": NULLABLE_ADMIN}))
    found = RelationsAnalyzer().bind_facts(lambda: facts).analyze(
        FileInput(change=change_for(NULLABLE_ADMIN, "shop/admin.py", None), text=NULLABLE_ADMIN))
    assert found == []
