"""The coverage matrix: generated from the rules, and the README's copy must match the rule pack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.analyzers.coverage_matrix import (
    END_MARKER,
    GAP,
    START_MARKER,
    build_matrix,
    builtin_cells,
    gaps,
    readme_block,
    render_matrix,
    stale_reasons,
    update_readme,
)
from bot.core.model import Category

README = Path(__file__).parents[2] / "README.md"
REGENERATE = (
    ".venv/bin/python -c 'import pathlib; from bot.analyzers.coverage_matrix import *; "
    'p = pathlib.Path("README.md"); p.write_text(update_readme(p.read_text(), render_matrix(builtin_cells())))\''
)


@dataclass(frozen=True)
class FakeRule:
    id: str
    category: Category
    languages: tuple[str, ...] = ()


def test_readme_matrix_matches_the_rule_pack() -> None:
    assert readme_block(README.read_text(encoding="utf-8")) == render_matrix(builtin_cells()), (
        f"README's coverage matrix is out of date; regenerate it with: {REGENERATE}"
    )


def test_every_cell_of_every_language_has_rules_or_a_reason() -> None:
    cells = builtin_cells()
    assert gaps(cells) == []
    assert stale_reasons(cells) == []


def test_go_ruby_and_js_cover_the_textbook_cases() -> None:
    cells = builtin_cells()
    assert "go-http-default-client" in cells[("Go", "timeouts")].rules
    assert "rb-query-in-each" in cells[("Ruby", "n_plus_one")].rules
    assert "js-sync-fs-in-handler" in cells[("JavaScript / TypeScript", "event_loop")].rules


def test_a_rule_lands_in_its_language_row_and_category_column_only() -> None:
    cells = build_matrix([FakeRule("go-x", Category.n_plus_one, ("go",))], [], not_applicable={})
    assert cells[("Go", "n_plus_one")].rules == ("go-x",)
    assert cells[("Ruby", "n_plus_one")].rules == ()
    assert cells[("Go", "timeouts")].rules == ()


def test_typescript_and_tsx_rules_count_for_the_javascript_row() -> None:
    cells = build_matrix([FakeRule("js-x", Category.missing_timeout, ("typescript", "tsx"))], [], not_applicable={})
    assert cells[("JavaScript / TypeScript", "timeouts")].rules == ("js-x",)


def test_migration_rules_count_for_every_language_and_two_categories_share_a_column() -> None:
    cells = build_matrix(
        [
            FakeRule("rb-page", Category.missing_pagination, ("ruby",)),
            FakeRule("rb-all", Category.unbounded_query, ("ruby",)),
        ],
        [FakeRule("sql-lock", Category.locking_migration)],
        not_applicable={},
    )
    rows = ("Python", "Go", "Ruby", "JavaScript / TypeScript")
    assert all(cells[(row, "migrations")].rules == ("sql-lock",) for row in rows)
    assert cells[("Ruby", "unbounded")].rules == ("rb-all", "rb-page")


def test_an_empty_cell_shows_its_reason_or_a_gap() -> None:
    cells = build_matrix([], [], not_applicable={("Go", "event_loop"): "no event loop"})
    text = render_matrix(cells)
    assert "| blocking work on an event loop | — no event loop |" in text
    assert f"| retries without backoff | {GAP} |" in text
    assert ("Go", "retries") in gaps(cells)
    assert ("Go", "event_loop") not in gaps(cells)


def test_a_reason_for_a_cell_that_has_rules_is_stale() -> None:
    reasons = {("Go", "n_plus_one"): "does not apply"}
    cells = build_matrix([FakeRule("go-x", Category.n_plus_one, ("go",))], [], not_applicable=reasons)
    assert stale_reasons(cells, reasons) == [("Go", "n_plus_one")]


def test_rules_outside_the_columns_are_listed_as_other() -> None:
    cells = build_matrix([FakeRule("go-y", Category.missing_limits, ("go",))], [], not_applicable={})
    assert "| other categories | `go-y` (missing_limits) |" in render_matrix(cells)


def test_update_readme_replaces_only_the_marked_block() -> None:
    text = f"intro\n{START_MARKER}\nold table\n{END_MARKER}\noutro\n"
    assert update_readme(text, "new table\n") == f"intro\n{START_MARKER}\nnew table\n{END_MARKER}\noutro\n"
    assert readme_block(update_readme(text, "new table\n")) == "new table\n"


def test_update_readme_without_markers_fails() -> None:
    with pytest.raises(ValueError):
        update_readme("no markers here", "table")
