"""ASCII classes in rule regexes: rewritten outside and inside brackets, everything else untouched."""

from __future__ import annotations

import re

import pytest
from ast_grep_py import SgRoot

from bot.analyzers.rule_regex import ascii_classes, ascii_config


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (r"^\w+\.(get|post)$", r"^[[:word:]]+\.(get|post)$"),
        (r"[\w.]*readFile", r"[[:word:].]*readFile"),
        (r"\d+\s*\*\s*time\.Second", r"[[:digit:]]+[[:space:]]*\*[[:space:]]*time\.Second"),
        (r"[^\s,]+", r"[^[:space:],]+"),
        (r"\S+\W", r"[[:^space:]]+[[:^word:]]"),
        (r"\\w", r"\\w"),  # an escaped backslash followed by a letter stays as it is
        (r"\bfetch\b\(", r"\bfetch\b\("),
        (r"[]\w]", r"[][:word:]]"),
        (r"[[:alpha:]\d]", r"[[:alpha:][:digit:]]"),
    ],
)
def test_classes_become_ascii(before: str, after: str) -> None:
    assert ascii_classes(before) == after


@pytest.mark.parametrize("regex", [r"^\w+\.(get|post)$", r"[\w.]*readFile\(", r"^\(\s*[\d_]+\s*\)$", r"[^\s,]+x"])
def test_rewritten_regex_matches_the_same_ascii_text(regex: str) -> None:
    for text in ["axios.get", "fs.readFile(", "( 1_000 )", "abc x", "a,b x", "é.get"]:
        # Python's re understands neither POSIX classes, so compare with an ASCII-flagged original
        assert bool(re.search(regex, text, re.ASCII)) == bool(_posix_to_python(ascii_classes(regex), text))


def _posix_to_python(regex: str, text: str) -> re.Match[str] | None:
    table = {"[:word:]": r"\w", "[:digit:]": r"\d", "[:space:]": r"\s", "[:^space:]": r"\S", "[:^word:]": r"\W"}
    for posix, py in table.items():
        regex = regex.replace(f"[{posix}]", py).replace(posix, py)
    return re.search(regex, text, re.ASCII)


def test_config_rewrites_only_regex_values_and_ast_grep_accepts_them() -> None:
    config = {"rule": {"kind": "call_expression", "has": {"field": "function", "regex": r"^\w+\.get$"}}, "fix": r"\w"}
    out = ascii_config(config)
    assert out["fix"] == r"\w"
    assert out["rule"]["has"]["regex"] == r"^[[:word:]]+\.get$"
    root = SgRoot("axios.get(url); fetch(url);", "javascript").root()
    assert [m.text() for m in root.find_all(config=out)] == ["axios.get(url)"]
