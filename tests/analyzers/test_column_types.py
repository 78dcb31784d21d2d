"""A text column widened is catalog-only in PostgreSQL: the earlier migration's declaration decides."""

from __future__ import annotations

from pathlib import Path

from bot.analyzers.column_types import TextType, text_type
from bot.core.model import Severity
from tests.analyzers.test_differential import _review

RULE = "sql-alter-column-type"
CREATE_SQL = (
    'CREATE TABLE "search_doc" (\n  "id" bigint PRIMARY KEY,\n  "content_type" varchar(63) NOT NULL,\n'
    '  "size" integer\n);\n'
)
DJANGO_CREATE = (
    "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
    "    operations = [\n        migrations.CreateModel(\n            name='Doc',\n            fields=[\n"
    "                ('id', models.BigAutoField(primary_key=True)),\n"
    "                ('content_type', models.CharField(blank=True, max_length=63)),\n"
    "            ],\n        ),\n    ]\n"
)


def _alter(column: str, new_type: str) -> str:
    return f'ALTER TABLE "search_doc" ALTER COLUMN "{column}" TYPE {new_type};\n'


def _type_findings(tmp_path: Path, earlier: dict[str, str], statement: str):
    result = _review(tmp_path, earlier, {**earlier, "search/migrations/0061_widen.sql": statement})
    return [f for f in result.findings if f.source == RULE]


def test_widening_a_varchar_declared_in_an_earlier_sql_migration_is_quiet(tmp_path: Path) -> None:
    assert _type_findings(tmp_path, {"search/migrations/0059_doc.sql": CREATE_SQL},
                          _alter("content_type", "varchar(255)")) == []


def test_widening_a_django_charfield_to_text_is_quiet(tmp_path: Path) -> None:
    assert _type_findings(tmp_path, {"search/migrations/0059_doc.py": DJANGO_CREATE},
                          _alter("content_type", "text")) == []


def test_narrowing_or_changing_another_type_stays(tmp_path: Path) -> None:
    narrowed = _type_findings(tmp_path / "a", {"search/migrations/0059_doc.sql": CREATE_SQL},
                              _alter("content_type", "varchar(32)"))
    from_int = _type_findings(tmp_path / "b", {"search/migrations/0059_doc.sql": CREATE_SQL},
                              _alter("size", "varchar(20)"))
    assert len(narrowed) == 1 and narrowed[0].severity.rank >= Severity.medium.rank
    assert len(from_int) == 1 and from_int[0].severity.rank >= Severity.medium.rank


def test_an_old_type_nowhere_in_sight_stays_low_and_asks(tmp_path: Path) -> None:
    found = _type_findings(tmp_path, {"search/migrations/0059_other.sql": "CREATE TABLE other (id int);\n"},
                           _alter("content_type", "text"))
    assert len(found) == 1
    assert found[0].severity == Severity.low and found[0].confidence == 0.5
    assert "do not show the column's old type" in found[0].evidence


def test_type_spellings() -> None:
    assert text_type("varchar(255)") == TextType(255)
    assert text_type("character varying(40) NOT NULL") == TextType(40)
    assert text_type("TEXT") == TextType(None)
    assert text_type("`Sequelize.STRING`") == TextType(255)
    assert text_type("Sequelize.STRING(64)") == TextType(64)
    assert text_type("models.CharField(blank=True, max_length=63)") == TextType(63)
    assert text_type("integer") is None
    assert TextType(None).holds(TextType(63)) and TextType(255).holds(TextType(63))
    assert not TextType(32).holds(TextType(63)) and not TextType(255).holds(TextType(None))
