"""The model graph read from fixture projects: what each ORM reader knows, budgets, cache."""

from __future__ import annotations

from pathlib import Path

from bot.facts import FactsBudget, build_facts, facts_for, facts_provider
from bot.facts.build import candidate_files
from tests.support.memory_repo import MemoryRepo

PROJECTS = Path(__file__).resolve().parents[1] / "fixtures" / "facts"


def graph(project: str):  # noqa: ANN201 - a RepoFacts
    return build_facts(MemoryRepo.from_folder(PROJECTS / project))


def rel(facts, model: str, name: str) -> tuple[str, str, bool]:  # noqa: ANN001
    r = facts.models[model].relations[name]
    return (r.kind, r.target, r.many)


def test_django_relations_reverse_accessors_and_indexes() -> None:
    facts = graph("django_shop")
    assert rel(facts, "Order", "customer") == ("foreign_key", "Customer", False)
    assert rel(facts, "Order", "tags") == ("many_to_many", "Tag", True)
    assert rel(facts, "Customer", "order_set") == ("reverse_fk", "Order", True)  # default accessor
    assert rel(facts, "Region", "customers") == ("reverse_fk", "Customer", True)  # related_name
    assert rel(facts, "Order", "invoice") == ("reverse_one_to_one", "Invoice", False)
    assert {"email", "region", "id"} <= facts.models["Customer"].indexed  # unique, FK, pk
    assert "city" not in facts.models["Customer"].indexed
    assert "status" in facts.models["Order"].indexed  # leads Meta.indexes
    assert "created" not in facts.models["Order"].indexed  # second column of that index
    assert "code" in facts.models["Region"].indexed  # db_index
    # a foreign key to settings.AUTH_USER_MODEL points at the model the setting names (no django.db import there)
    assert rel(facts, "Tag", "created_by") == ("foreign_key", "Member", False)
    assert rel(facts, "Member", "tags") == ("reverse_fk", "Tag", True)
    coupon = facts.models["Coupon"]  # methods and properties whose body runs a query
    assert set(coupon.query_methods) == {"redemptions_for", "latest_redemption", "status", "holder_list"}
    assert coupon.query_properties == {"latest_redemption", "holder_list"} and "describe" in coupon.methods
    assert coupon.method_reads["holder_list"] == {"holders"}  # what a property reads on its row


def test_drf_serializers_admin_and_settings() -> None:
    facts = graph("django_shop")
    ser = facts.serializers["OrderSerializer"]
    assert ser.model == "Order"
    assert ser.nested == {"customer": "CustomerSerializer"}
    assert ser.sources == {"region_code": "customer.region.code"}
    assert set(ser.method_fields) == {"tag_count"} and "tags.count" in ser.method_reads
    typed = facts.serializers["TypedOrderSerializer"]  # `ModelSerializer[Order]`: still a serializer
    assert typed.model == "Order" and set(typed.method_fields) == {"tag_names"}
    admins = {a.name: a for a in facts.admins}
    assert admins["OrderAdmin"].model == "Order" and admins["OrderAdmin"].list_select_related is False
    assert admins["InvoiceAdmin"].model == "Invoice"  # from admin.site.register(Invoice, InvoiceAdmin)
    assert admins["InvoiceAdmin"].list_select_related == ("order",)
    assert "DEFAULT_PAGINATION_CLASS" not in facts.settings and "config/settings.py" in facts.files_read


def test_sqlalchemy_relationships_and_loading_strategy() -> None:
    facts = graph("django_shop")
    recipe = facts.models["Recipe"]
    assert rel(facts, "Recipe", "author") == ("relationship", "Author", False)
    assert recipe.relations["ingredients"].many and recipe.relations["ingredients"].eager_by_default
    assert not recipe.relations["author"].eager_by_default
    assert "slug" in recipe.indexed


def test_rails_associations_scopes_default_scope_and_schema_indexes() -> None:
    facts = graph("rails_blog")
    assert rel(facts, "Post", "author") == ("belongs_to", "User", False)  # class_name
    assert rel(facts, "Post", "comments") == ("has_many", "Comment", True)
    assert rel(facts, "Post", "tags") == ("has_and_belongs_to_many", "Tag", True)
    assert rel(facts, "Post", "cover") == ("has_one_attached", "ActiveStorage::Attachment", False)
    assert {"author", "comments", "tags", "cover"} <= facts.rails_associations
    assert facts.models["Post"].scopes == {"with_author": {"author"}, "published": set()}
    assert facts.models["Comment"].default_eager == {"user"}
    assert rel(facts, "Announcement", "comments") == ("has_many", "Comment", True)  # STI: Post's, read later
    assert rel(facts, "Announcement", "pins") == ("has_many", "Pin", True)
    assert facts.models["Announcement"].scopes["with_author"] == {"author"}
    assert "comments" in facts.models["Post"].method_reads["latest_comment"]  # a method reading an association
    assert "comments" in facts.models["Announcement"].method_reads["latest_comment"]  # inherited
    assert "author_id" in facts.models["Post"].indexed and "slug" not in facts.models["Post"].indexed
    assert "post_id" in facts.models["Comment"].indexed  # add_index
    loops = {(v.ivar, v.var): v.reads for v in facts.view_loops["app/views/posts"]}
    assert loops[("posts", "post")] == {"title": 3, "author.name": 3}
    assert loops[("recent", "post")] == {"comments.count": 2}


def test_typeorm_prisma_sequelize_and_gorm() -> None:
    facts = graph("node_go")
    order = facts.models["Order"]
    assert order.orm == "typeorm"
    assert rel(facts, "Order", "customer") == ("ManyToOne", "Customer", False)
    assert order.relations["customer"].eager_by_default  # eager: true on the next line
    assert rel(facts, "Order", "lines") == ("OneToMany", "OrderLine", True)
    assert facts.models["Order"].relations["warehouse"].loading == "lazy"  # Promise<...>: a query per access
    assert "reference" in order.indexed and "status" not in order.indexed
    assert rel(facts, "Post", "author") == ("relation", "User", False)
    assert rel(facts, "User", "posts") == ("relation", "Post", True)
    assert {"authorId", "id"} <= facts.models["Post"].indexed and "email" in facts.models["User"].indexed
    assert rel(facts, "Project", "tasks") == ("hasMany", "Task", True)
    assert rel(facts, "Task", "project") == ("belongsTo", "Project", False)
    assert facts.models["Employee"].orm == "gorm"
    assert rel(facts, "Employee", "Company") == ("association", "Company", False)
    assert "Email" in facts.models["Employee"].indexed and "Nickname" not in facts.models["Employee"].indexed
    assert "notAModel" not in facts.models


def test_candidates_skip_vendored_and_test_trees_and_rank_model_files_first() -> None:
    paths = ["node_modules/x/models.py", "app/tests/models.py", "app/views.py", "app/util/db.py", "app/models.py",
             "app/models/post.rb", "db/schema.rb", "README.md"]
    assert candidate_files(paths) == ["app/models.py", "db/schema.rb", "app/models/post.rb", "app/util/db.py"]


def test_budget_names_what_was_not_read() -> None:
    repo = MemoryRepo.from_folder(PROJECTS / "django_shop")
    facts = build_facts(repo, FactsBudget(max_files=2))
    assert len(facts.files_read) == 2
    assert any("over the 2-file cap" in note for note in facts.not_read)
    ticks = iter(range(100))
    slow = build_facts(repo, FactsBudget(max_seconds=2.5), clock=lambda: float(next(ticks)))
    assert len(slow.files_read) == 2 and any("left unread after 2.5s" in n for n in slow.not_read)
    small = build_facts(repo, FactsBudget(max_file_bytes=100))
    assert small.files_read == [] and any("over the size budget" in n for n in small.not_read)


def test_broken_and_hostile_sources_are_noted_not_fatal() -> None:
    repo = MemoryRepo({"app/models.py": "from django.db import models\nclass X(models.Model:\n",
                       "app/models/a.rb": "class A < ApplicationRecord\n  has_many :" + "x" * 100_000 + "\nend\n"})
    facts = build_facts(repo)
    assert any("does not parse" in n for n in facts.not_read)
    assert "X" not in facts.models


def test_graph_is_built_once_per_commit_and_only_when_asked() -> None:
    repo = MemoryRepo.from_folder(PROJECTS / "rails_blog", rev="commit-a")
    provide = facts_provider(repo)
    assert repo.reads == []  # lazy: nothing read until an analyzer asks
    first = provide()
    reads = len(repo.reads)
    assert provide() is first and facts_for(repo) is first and len(repo.reads) == reads
    other = MemoryRepo(repo.files, rev="commit-b", root=repo.root)
    assert facts_for(other) is not first
