"""One comment for a pattern: a rule firing on three or more statements of one file is reported once."""

from __future__ import annotations

from pathlib import Path

from bot.analyzers.repeats import group_repeats
from bot.core.model import Category, Finding, Severity
from tests.analyzers.test_differential import _review


def _finding(source: str, line: int, *, path: str = "db/migrate.sql", severity: Severity = Severity.medium,
             confidence: float = 0.8) -> Finding:
    return Finding(id=f"{source}-{path}-{line}", category=Category.locking_migration, severity=severity, path=path,
                   start_line=line, end_line=line, title=source, evidence=f"statement at {line}.", risk="r",
                   rollback="r", monitoring="m", confidence=confidence, source=source)


def test_three_statements_of_one_rule_in_one_file_are_one_comment_naming_the_others() -> None:
    found = group_repeats([_finding("sql-create-index-not-concurrently", n) for n in (4, 9, 14)])
    assert len(found) == 1
    assert found[0].start_line == 4
    assert "The same at lines 9, 14 of this file (3 statements in all)" in found[0].evidence
    assert found[0].also_at == (9, 14) and found[0].json_dict()["also_at"] == [9, 14]


def test_the_most_severe_statement_carries_the_comment() -> None:
    found = group_repeats([_finding("r", 4), _finding("r", 9, severity=Severity.high), _finding("r", 14)])
    assert [(f.start_line, f.severity) for f in found] == [(9, Severity.high)]
    assert "lines 4, 14" in found[0].evidence


def test_pairs_other_rules_and_other_files_stay_apart() -> None:
    findings = [_finding("a", 1), _finding("a", 2), _finding("b", 3), _finding("a", 4, path="other.sql"),
                _finding("specialist", 5), _finding("specialist", 6), _finding("specialist", 7)]
    assert group_repeats(findings) == findings


def test_each_n_plus_one_stays_its_own_comment() -> None:
    loops = [_finding("py-relation-read-per-item", n).model_copy(update={"category": Category.n_plus_one})
             for n in (3, 8, 13)]
    assert group_repeats(loops) == loops


def test_a_long_run_names_a_dozen_lines_and_counts_the_rest() -> None:
    found = group_repeats([_finding("r", n) for n in range(1, 21)])
    assert len(found) == 1 and "and 7 more of this file (20 statements in all)" in found[0].evidence


def test_a_migration_creating_many_indexes_gets_one_comment_end_to_end(tmp_path: Path) -> None:
    tables = [f"t{i}" for i in range(5)]
    old = "".join(f"CREATE TABLE {t} (id bigint primary key, owner_id bigint);\n" for t in tables)
    new = "".join(f"CREATE INDEX {t}_owner ON {t} (owner_id);\n" for t in tables)
    result = _review(tmp_path, {"db/migrations/001_init.sql": old},
                     {"db/migrations/001_init.sql": old, "db/migrations/002_indexes.sql": new})
    locks = [f for f in result.findings if f.source == "sql-create-index-not-concurrently"]
    assert len(locks) == 1, [(f.source, f.start_line) for f in result.findings]
    assert "(5 statements in all)" in locks[0].evidence
