"""Loops bounded by literals written in the file: per-item findings inside them are silenced; the same
shapes over a queryset, a parameter or a list filled from one still fire."""

from __future__ import annotations

from bot.analyzers.calibrate import calibrate
from bot.analyzers.mitigations import loop_bound
from bot.core.model import Category, Finding, Severity

DATA_MIGRATION = '''from django.db import migrations

TOPICS = [
    {"slug": "a", "title": "A, [first]"},
    {"slug": "b", "title": "B"},
]


def forward(apps, schema_editor):
    Topic = apps.get_model("products", "Topic")
    Link = apps.get_model("products", "Link")
    pending = []
    for entry in TOPICS:
        topic, _ = Topic.objects.get_or_create(slug=entry["slug"])
        if not Link.objects.filter(topic=topic).exists():
            pending.append(topic)
    for offset, topic in enumerate(pending):
        Link.objects.create(topic=topic, order=offset)


class Migration(migrations.Migration):
    operations = [migrations.RunPython(forward)]
'''
CREATE_LINE = 18


def _finding(line: int) -> Finding:
    return Finding(id="SR-x", category=Category.per_item_writes, severity=Severity.medium, path="app/migrations/2.py",
                   start_line=line, end_line=line, title="t", evidence="seen", risk="r", rollback="", monitoring="",
                   source="py-save-in-loop", confidence=0.75)


def test_a_list_filled_only_inside_a_loop_over_a_module_literal_is_bounded() -> None:
    assert loop_bound("m.py", DATA_MIGRATION, CREATE_LINE) == (
        "the loop runs over pending, filled one item at a time inside loops over literals")
    assert calibrate(_finding(CREATE_LINE), DATA_MIGRATION) is None


def test_the_same_shape_over_a_queryset_still_fires() -> None:
    over_rows = DATA_MIGRATION.replace("for entry in TOPICS:", "for entry in Topic.objects.all():")
    assert loop_bound("m.py", over_rows, CREATE_LINE) is None
    calibrated = calibrate(_finding(CREATE_LINE), over_rows)
    # a data migration runs once: reported, at most low and never gating
    assert calibrated is not None and calibrated.severity == Severity.low and calibrated.confidence < 0.8
    extended = DATA_MIGRATION.replace("pending.append(topic)", "pending.extend(Topic.objects.all())")
    assert loop_bound("m.py", extended, CREATE_LINE) is None
    rebound = DATA_MIGRATION.replace(
        "    for offset, topic", "    pending = list(Topic.objects.all())\n    for offset, topic")
    assert loop_bound("m.py", rebound, CREATE_LINE + 1) is None


def _loop(setup: str, iterable: str) -> str:
    return f"{setup}\n\ndef sync(items):\n    for x in {iterable}:\n        Thing.objects.get(pk=x)\n"


def test_names_bound_to_literals_in_any_scope_and_their_views_are_bounded() -> None:
    bounded = [
        ("CODES = ('a', 'b')", "CODES"),
        ("CODES = {'a': 1, 'b': 2}", "CODES.items()"),
        ("CODES = ['a', 'b']", "enumerate(CODES, start=1)"),
        ("CODES = ['a', 'b']", "zip(items, CODES)"),
        ("CODES = {'a', 'b'}", "sorted(CODES)"),
    ]
    for setup, iterable in bounded:
        assert loop_bound("m.py", _loop(setup, iterable), 5), iterable
    local = "def sync(items):\n    codes = [{'k': 1}, {'k': 2}]\n    for c in codes:\n        Thing.objects.get(**c)\n"
    assert loop_bound("m.py", local, 4) == "the loop runs over codes, a literal defined in this function"
    klass = ("class Sync:\n    CODES = ['a', 'b']\n\n    def run(self):\n"
             "        for c in self.CODES:\n            Thing.objects.get(code=c)\n")
    assert loop_bound("m.py", klass, 6) == "the loop runs over CODES, a literal defined in the class body"


def test_names_that_can_grow_are_not_bounded() -> None:
    unbounded = [
        ("CODES = load()", "CODES"),
        ("CODES = [c for c in load()]", "CODES"),
        ("CODES = [*load()]", "CODES"),
        ("CODES = ['a']\nCODES.extend(load())", "CODES"),
        ("CODES = ['a']", "zip(items, items)"),
        ("items = ['a']", "items"),  # the parameter shadows the module name
        ("", "list(items)"),
    ]
    for setup, iterable in unbounded:
        assert loop_bound("m.py", _loop(setup, iterable), 5 + setup.count("\n")) is None, (setup, iterable)
    klass = ("class Sync:\n    CODES = ['a', 'b']\n\n    def run(self):\n        self.CODES = load()\n"
             "        for c in self.CODES:\n            Thing.objects.get(code=c)\n")
    assert loop_bound("m.py", klass, 7) is None


def test_every_loop_around_the_line_must_be_bounded() -> None:
    nested = ("def sync():\n    for row in Thing.objects.all():\n        for code in ('a', 'b'):\n"
              "            Other.objects.get(row=row, code=code)\n")
    assert loop_bound("m.py", nested, 4) is None
    assert loop_bound("m.py", nested.replace("Thing.objects.all()", "range(3)"), 4)
    polling = ("def sync():\n    while True:\n        for code in ('a', 'b'):\n"
               "            Other.objects.get(code=code)\n")
    assert loop_bound("m.py", polling, 4) is None


def test_a_for_header_split_over_lines_is_read_whole() -> None:
    text = "CODES = ['a', 'b']\n\n\ndef sync():\n    for i, code in enumerate(\n        CODES\n    ):\n" \
           "        Thing.objects.get(code=code)\n"
    assert loop_bound("m.py", text, 8)


def test_lists_filled_from_lists_filled_from_literals_stay_cheap() -> None:
    lines = ["def f():", "    l0 = []", "    l1 = []", "    l2 = []", "    for x in ('a', 'b'):"]
    lines += ["        l0.append(x)"] * 40
    for k in (1, 2):
        lines.append(f"    for y in l{k - 1}:")
        lines += [f"        l{k}.append(y)"] * 40
    lines += ["    for z in l2:", "        Thing.objects.get(pk=z)"]
    assert loop_bound("m.py", "\n".join(lines) + "\n", len(lines))  # memoised: one scan per name, not 40**3


def test_a_multi_line_display_with_a_trailing_comma_counts_its_elements() -> None:
    from bot.analyzers.literal_bounds import display_size

    assert display_size(["[", "    'a',", "    'b',", "]"], 0, 0) == 2
    assert display_size(["[", "    'a',", "    'b'", "]"], 0, 0) == 2
    assert display_size(["[1, 2].freeze"], 0, 0) is None  # not a plain display unless the caller allows the tail
    assert display_size(["[1, 2].freeze"], 0, 0, tails=(".freeze",)) == 2
