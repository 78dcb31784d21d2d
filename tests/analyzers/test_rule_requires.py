"""The text a rule needs: rules that cannot match a file are skipped before ast-grep compiles them, and never one
that could have matched."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.analyzers.astgrep import AstGrepAnalyzer, language_for
from bot.analyzers.base import FileInput
from bot.analyzers.rule_pack import builtin_rules
from bot.analyzers.rule_requires import Requirement, loosened, requirement
from tests.support.rules_harness import FIXTURES, all_lines_added, expected_marks

RULES = builtin_rules()


WITHOUT = AstGrepAnalyzer([dataclasses.replace(r, requires=None, trims=()) for r in RULES])
WITH = AstGrepAnalyzer(RULES)
FIXTURE_FILES = sorted(p for p in FIXTURES.glob("*/*") if p.is_file() and language_for(p.name))


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_rule_fixture_gets_the_same_findings_with_the_requirements_as_without(fixture: Path) -> None:
    text = fixture.read_text(encoding="utf-8")
    file = FileInput(all_lines_added(f"app/{fixture.parent.name}/{fixture.name}", text), text)
    assert WITH.analyze(file) == WITHOUT.analyze(file)
    for rule in RULES:  # and a rule the fixture is for is never skipped on it
        if rule.id in {r for r, _ in expected_marks(text)}:
            assert rule.may_match(text), rule.id


def test_most_of_the_pack_has_a_requirement() -> None:
    assert sum(r.requires is not None for r in RULES) >= len(RULES) * 3 // 4


def test_a_handler_that_reads_a_file_synchronously_is_not_searched_for_sync_cpu_calls() -> None:
    [rule] = [r for r in RULES if r.id == "js-sync-cpu-in-handler"]
    handler = 'app.get("/r", (req, res) => {\n  res.send(fs.readFileSync("a.html"));\n});\n'
    assert rule.prefilter is not None and rule.prefilter.search(handler)  # the old prefilter let it through
    assert not rule.may_match(handler)
    assert rule.may_match(handler.replace("fs.readFileSync", "crypto.pbkdf2Sync"))


def test_a_skipped_rule_is_one_that_would_have_found_nothing() -> None:
    text = (
        "import axios from 'axios';\nimport fs from 'fs';\n"
        "app.get('/r', async (req, res) => {\n  for (const id of ids) {\n"
        "    await prisma.user.findUnique({ where: { id } });\n"
        "  }\n  res.send(fs.readFileSync('a.html'));\n  await axios.get(url);\n});\n"
    )
    file = FileInput(all_lines_added("src/app.ts", text), text)
    assert len(WITH.candidates(file)) < len(WITHOUT.candidates(file))
    assert WITH.analyze(file) == WITHOUT.analyze(file) != []


def test_non_ascii_text_is_never_filtered() -> None:
    need = Requirement("all", ("pbkdf2Sync",))
    assert not need.holds("x = 1\n")
    assert need.holds("x = 'é'\n")


@pytest.mark.parametrize(
    ("regex", "piece"),
    [
        (r"^fetch$", "await fetch(url)"),
        (r"\bsession\.(query|execute)\b", "rows = self.session.query(User)"),
        (r"(?i)^(this\.)?\w*queue\.add$", "await this.emailQueue.add(job)"),
        (r"^[^.]+\.save$", "order.save()"),
        (r"\A\d+\z", "sleep(2000)"),
    ],
)
def test_a_loosened_regex_finds_the_piece_the_node_was_cut_from(regex: str, piece: str) -> None:
    pattern = loosened(regex)
    assert pattern is not None and pattern.search(piece)


@pytest.mark.parametrize(
    "regex",
    [
        "[[:word:]]+",  # POSIX classes: Python reads them as plain brackets
        "[a-z&&[^aeiou]]",  # class set operations
        r"^http\.Get$|(?i)client\.Do$",  # flags in mid-pattern
        r"\x{41}",
        r"\p{L}+",
        r"[^\w.]",  # a negated class escape could shrink
        "(?x) a b",
        "ß",
    ],
)
def test_a_regex_python_reads_differently_requires_nothing(regex: str) -> None:
    assert loosened(regex) is None


def test_not_and_an_any_branch_without_a_regex_require_nothing() -> None:
    assert requirement({"rule": {"kind": "call_expression", "not": {"regex": "^x$"}}}) is None
    assert requirement({"rule": {"any": [{"regex": "^a$"}, {"kind": "identifier"}]}}) is None
    need = requirement({"rule": {"kind": "call", "has": {"matches": "io"}}, "utils": {"io": {"regex": "^get$"}}})
    assert need is not None and need.holds("x.get(1)") and not need.holds("x.put(1)")


def test_the_constraint_of_a_metavariable_the_pattern_always_binds_is_required() -> None:
    config = {"rule": {"pattern": "$LIB.$METHOD($$$ARGS)"},
              "constraints": {"LIB": {"regex": "^(requests|httpx)$"}, "ARGS": {"regex": "timeout"}}}
    need = requirement(config)
    assert need is not None and need.holds("requests.get(url)") and not need.holds("session.get(url)")
    assert need.holds("requests.get(url)")  # ARGS (a multi metavariable) requires nothing
    unbound = {"rule": {"any": [{"pattern": "$LIB.get()"}, {"kind": "call"}]}, "constraints": {"LIB": {"regex": "^x$"}}}
    assert requirement(unbound) is None
