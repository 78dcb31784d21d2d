"""What a reviewer sees from the removed-safeguard analyzer: restoring suggestions, weakened
safeguards, confidence that follows the evidence, categories, bounded evidence, and its budgets."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.analyzers import default_analyzers
from bot.analyzers.base import FileInput
from bot.analyzers.safeguards import MAX_FILE_CHARS, SafeguardAnalyzer, read_side
from bot.core.model import Category, Finding
from tests.support.two_sides import change_between, file_input

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "safeguards"


def _findings(base: str, head: str, path: str = "app/views.py") -> list[Finding]:
    return SafeguardAnalyzer().analyze(file_input(base, head, path))


def _apply(head: str, finding: Finding) -> str:
    lines = head.splitlines(keepends=True)
    assert finding.suggestion is not None
    lines[finding.start_line - 1 : finding.end_line] = [finding.suggestion]
    return "".join(lines)


def _safeguards(path: str, text: str) -> Counter[tuple[str, str]]:
    return Counter((s.kind.value, s.key) for s in read_side(path, text).safeguards)


@pytest.mark.parametrize(
    "case",
    [
        "timeout/python",
        "eager_loading/python",
        "limit/python",
        "timeout/javascript",
        "eager_loading/go",
        "batching/python",
        "concurrency/python",
        "eager_loading/ruby",
    ],
)
def test_the_suggestion_puts_the_safeguard_back(case: str) -> None:
    folder = FIXTURES / case
    base_file = next(folder.glob("base.*"))
    base, head = base_file.read_text(), next(folder.glob("head.*")).read_text()
    path = f"src/x{base_file.suffix}"
    (finding,) = [f for f in _findings(base, head, path) if f.suggestion]
    restored = _apply(head, finding)
    assert _safeguards(path, restored) == _safeguards(path, base)
    assert _findings(base, restored, path) == []


def test_an_edited_line_gets_its_base_version_back() -> None:
    base = "import requests\n\n\ndef ping(url):\n    return requests.get(url, timeout=5)\n"
    head = base.replace(", timeout=5", "")
    (finding,) = _findings(base, head)
    assert finding.suggestion == "    return requests.get(url, timeout=5)\n"
    assert (finding.start_line, finding.end_line) == (5, 5)


def test_no_suggestion_when_the_line_changed_in_other_ways() -> None:
    base = "def ping(url):\n    return requests.get(url, timeout=5)\n"
    head = "def ping(url):\n    return requests.get(url.strip(), verify=False)\n"
    (finding,) = _findings(base, head)
    assert finding.suggestion is None
    assert finding.advice and finding.advice.startswith("Why did this timeout go?")


def test_a_timeout_raised_tenfold_is_weakened() -> None:
    base = (FIXTURES / "timeout/python/base.py").read_text()
    (finding,) = _findings(base, base.replace("timeout=10", "timeout=300"))
    assert finding.title.startswith("Weakened safeguard")
    assert "10 → 300" in finding.evidence
    assert _findings(base, base.replace("timeout=10", "timeout=30")) == []


def test_a_go_deadline_raised_tenfold_is_weakened() -> None:
    base = (FIXTURES / "timeout/go/base.go").read_text()
    findings = _findings(base, base.replace("15 * time.Second", "15 * time.Minute"), "remote/client.go")
    assert [f.title.split(":")[0] for f in findings] == ["Weakened safeguard"]


def test_a_slice_raised_a_hundredfold_is_weakened() -> None:
    base = (FIXTURES / "limit/python/base.py").read_text()
    (finding,) = _findings(base, base.replace("[:50]", "[:5000]"))
    assert finding.title.startswith("Weakened safeguard") and finding.category is Category.unbounded_query


def test_a_timeout_kept_on_one_branch_only_is_weakened() -> None:
    base = (
        "def sync(url, fast):\n"
        "    if fast:\n"
        "        return requests.get(url, timeout=5)\n"
        "    return requests.get(url + '?full=1', timeout=5)\n"
    )
    head = base.replace("'?full=1', timeout=5)", "'?full=1')")
    (finding,) = _findings(base, head)
    assert finding.title.startswith("Weakened safeguard")
    assert "fewer paths" in finding.evidence
    assert finding.start_line == 4


def test_confidence_is_high_when_the_relation_is_still_read_and_low_when_it_cannot_be_seen() -> None:
    base = (FIXTURES / "eager_loading/python/base.py").read_text()
    head = (FIXTURES / "eager_loading/python/head.py").read_text()
    (seen,) = _findings(base, head)
    assert seen.confidence >= 0.85 and "still used" in seen.evidence
    unseen_base = base.replace("p.author.name", "p.title")
    unseen_head = head.replace("p.author.name", "p.title")
    (unseen,) = _findings(unseen_base, unseen_head)
    assert unseen.confidence <= 0.6


def test_an_eager_load_removed_with_the_last_read_of_its_relation_stays_quiet() -> None:
    base = (FIXTURES / "eager_loading/python/base.py").read_text()
    head = (FIXTURES / "eager_loading/python/head.py").read_text().replace(" by {p.author.name}", "")
    assert _findings(base, head) == []


def test_a_block_rewritten_into_something_else_stays_quiet() -> None:
    base = (
        "def index(org):\n"
        "    rows = (org.participants\n"
        "            .select_related('donations')\n"
        "            .filter(active=True)\n"
        "            .order_by('name'))\n"
        "    selected = request.GET.get('name')\n"
        "    return render(rows, selected)\n"
    )
    head = (
        "def index(org):\n"
        "    rows, selected = ParticipantsView(org, request).values()\n"
        "    return render(rows, selected)\n"
    )
    assert _findings(base, head) == []


@pytest.mark.parametrize(
    ("case", "category"),
    [
        ("eager_loading/python", Category.n_plus_one),
        ("index/python", Category.missing_index),
        ("timeout/python", Category.missing_timeout),
        ("batching/python", Category.load_all_into_memory),
        ("batching/go", Category.per_item_writes),
        ("limit/python", Category.unbounded_query),
        ("hoisting/python", Category.quadratic_loop),
        ("concurrency/go", Category.other),
    ],
)
def test_each_kind_maps_to_its_category(case: str, category: Category) -> None:
    folder = FIXTURES / case
    base_file = next(folder.glob("base.*"))
    findings = _findings(base_file.read_text(), next(folder.glob("head.*")).read_text(), f"src/x{base_file.suffix}")
    assert {f.category for f in findings} == {category}


def test_page_sizes_are_pagination_and_queries_moved_into_loops_are_n_plus_one() -> None:
    base = "class Listing(ListView):\n    model = Post\n    paginate_by = 25\n    template_name = 'x.html'\n"
    (page,) = _findings(base, base.replace("    paginate_by = 25\n", ""))
    assert page.category is Category.missing_pagination
    base = (
        "def names(ids):\n    users = User.objects.filter(pk__in=ids)\n    out = []\n"
        "    for i in ids:\n        out.append(i)\n    return out, users\n"
    )
    head = (
        "def names(ids):\n    out = []\n    for i in ids:\n"
        "        out.append(User.objects.filter(pk__in=ids))\n    return out\n"
    )
    (hoisted,) = _findings(base, head)
    assert hoisted.category is Category.n_plus_one and hoisted.confidence >= 0.85


def test_evidence_is_one_bounded_line_whose_code_span_cannot_be_broken() -> None:
    hostile = "`@admin #1 " + "x" * 500
    base = f'def f():\n    return Post.objects.select_related("{hostile}").all()\n'
    head = "def f():\n    return Post.objects.all()\n"
    (finding,) = _findings(base, head)
    assert "\n" not in finding.evidence
    assert len(finding.evidence) < 400
    assert "``" in finding.evidence  # a longer fence than the backtick inside the quote


def test_no_base_text_means_no_findings_and_huge_files_are_skipped() -> None:
    base = (FIXTURES / "timeout/python/base.py").read_text()
    head = (FIXTURES / "timeout/python/head.py").read_text()
    change = change_between(base, head, "a.py")
    assert SafeguardAnalyzer().analyze(FileInput(change=change, text=head)) == []
    padding = "#" * MAX_FILE_CHARS + "\n"
    assert SafeguardAnalyzer().analyze(FileInput(change=change, text=head + padding, base_text=base + padding)) == []


def test_test_files_and_unparsable_sides_are_skipped() -> None:
    base = (FIXTURES / "timeout/python/base.py").read_text()
    head = (FIXTURES / "timeout/python/head.py").read_text()
    assert _findings(base, head, "tests/test_notify.py") == []
    assert _findings(base, head + "def broken(:\n") == []


def test_registered_among_the_default_analyzers() -> None:
    analyzers = default_analyzers()
    assert any(isinstance(a, SafeguardAnalyzer) for a in analyzers)
    (ours,) = [a for a in analyzers if isinstance(a, SafeguardAnalyzer)]
    assert "safeguard-eager-loading" in ours.rule_ids()


def test_an_eager_load_of_a_query_the_head_no_longer_makes_stays_quiet() -> None:
    base = (
        "class KitsController\n  def index\n"
        "    @kits = current_organization.kits.includes(kit_item: {line_items: :item})\n"
        "  end\nend\n"
    )
    head = base.replace("kits.includes(kit_item: {line_items: :item})", "kit_items.includes(line_items: :item)")
    assert _findings(base, head, "app/controllers/kits_controller.rb") == []
    same_query = base.replace("kit_item: {line_items: :item}", "line_items: :item")
    assert _findings(base, same_query, "app/controllers/kits_controller.rb") != []


def test_a_relation_named_only_in_an_import_path_is_not_a_read() -> None:
    base = (
        "import { z } from './organisation-invites.types';\n\n"
        "export async function count(id) {\n"
        "  const org = await prisma.organisation.findFirst({\n"
        "    where: { id },\n"
        "    include: {\n"
        "      invites: true,\n"
        "    },\n"
        "  });\n"
        "  return org.invites.length;\n"
        "}\n"
    )
    head = base.replace("      invites: true,\n", "").replace("return org.invites.length", "return 0")
    assert _findings(base, head, "src/count.ts") == []


def test_a_set_based_write_replaced_by_a_batched_read_and_per_row_saves_is_reported() -> None:
    base = (
        "class Address\n  def unassign\n"
        "    Order.incomplete.where(ship_address_id: id).update_all(ship_address_id: nil)\n"
        "  end\nend\n"
    )
    head = (
        "class Address\n  def unassign\n"
        "    Order.incomplete.where(ship_address_id: id).find_each do |order|\n"
        "      order.update!(ship_address_id: nil)\n"
        "    end\n"
        "  end\nend\n"
    )
    (finding,) = _findings(base, head, "app/models/address.rb")
    assert finding.category is Category.per_item_writes


def test_prisma_equivalents_stay_quiet_a_shorthand_limit_and_a_relation_select() -> None:
    base = (
        "export async function teams(uid: string) {\n"
        "  return prisma.teamMember.findMany({\n"
        "    take: 10,\n"
        "    where: { userUid: uid },\n"
        "    include: {\n"
        "      team: true,\n"
        "    },\n"
        "  });\n"
        "}\n"
    )
    shorthand = base.replace("uid: string) {", "uid: string, take = 10) {").replace("take: 10,", "take,")
    assert _findings(base, shorthand, "src/team.service.ts") == []
    selected = base.replace("include: {\n      team: true,", "select: {\n      team: { select: { name: true } },")
    assert _findings(base, selected, "src/team.service.ts") == []


def test_vendored_code_is_skipped() -> None:
    base = (FIXTURES / "timeout/go/base.go").read_text()
    head = (FIXTURES / "timeout/go/head.go").read_text()
    assert _findings(base, head, "backend/vendor/github.com/x/y/client.go") == []
    assert _findings(base, head, "backend/client.go") != []


def test_every_kind_is_listed_as_a_rule_for_sarif() -> None:
    from bot.render.sarif import rules_from_analyzers

    metas = {m.id: m for m in rules_from_analyzers([SafeguardAnalyzer()])}
    assert set(metas) == set(SafeguardAnalyzer().rule_ids())
    assert "100x" in metas["safeguard-timeout"].help


def test_a_relation_taken_out_of_an_admin_list_select_related_is_reported() -> None:
    base = (
        "from django.contrib import admin\n\n\n"
        "class OrderAdmin(admin.ModelAdmin):\n"
        "    list_display = ('reference', 'customer', 'region')\n"
        "    list_select_related = ('customer', 'region')\n"
    )
    head = base.replace("('customer', 'region')\n", "('customer',)\n")
    found = [f for f in _findings(base, head, "shop/admin.py") if f.source == "safeguard-eager-loading"]
    assert found and "'region'" in found[0].evidence
    assert _findings(base, base.replace("('customer', 'region')", "('region', 'customer')"), "shop/admin.py") == []


RAILS_FIND = '''class RoomsController < ApplicationController
  private
    def find_messages
{query}
      @messages = messages.last_page
    end
end
'''


def test_a_loading_chain_cut_back_to_its_receiver_is_a_removed_eager_load() -> None:
    base = RAILS_FIND.format(query="      messages = @room.messages.with_rich_text_body_and_embeds\n"
                                   "                               .with_attached_attachment\n"
                                   "                               .preload(creator: :avatar_attachment)\n"
                                   "                               .includes(boosts: :booster)")
    cut = RAILS_FIND.format(query="      messages = @room.messages.with_creator")
    found = _findings(base, cut, "app/controllers/rooms_controller.rb")
    assert [(f.source, f.start_line) for f in found] == [("safeguard-eager-loading", 4)]
    other_query = RAILS_FIND.format(query="      messages = Message.visible_to(Current.user)")
    assert _findings(base, other_query, "app/controllers/rooms_controller.rb") == []


DJANGO_VIEW = '''def notifications(request):
    notifications = request.user.notification_list
    title = request.user.name
    return render(request, "notifications.html", {{"notifications": {shown}, "title": {title}}})
'''


def test_a_page_cap_on_a_collection_taken_off_is_a_removed_limit() -> None:
    base = DJANGO_VIEW.format(shown="notifications[:100]", title="title[:50]")
    uncapped = DJANGO_VIEW.format(shown="notifications", title="title[:50]")
    found = _findings(base, uncapped, "app/views.py")
    assert [(f.source, f.start_line) for f in found] == [("safeguard-limit", 4)]
    assert "[:100]" in found[0].evidence
    # a short string or a pair cut from the front is not a page of rows
    assert _findings(base.replace("title[:50]", "title[:50]"), DJANGO_VIEW.format(shown="notifications[:100]",
                                                                                 title="title"), "app/views.py") == []
    pairs = DJANGO_VIEW.format(shown="notifications[:2]", title="title")
    assert _findings(pairs, DJANGO_VIEW.format(shown="notifications", title="title"), "app/views.py") == []
