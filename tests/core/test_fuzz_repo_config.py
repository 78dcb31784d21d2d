"""The repo config loader under generated files (hypothesis): near-valid configs with wrong types and odd
keys, YAML's own oddities (tags, anchors, merge keys, complex and non-string keys, several documents),
mutated text and broken encodings. `load_repo_config` never raises: it returns a RepoConfig and
messages that name the file; and a near-valid file the published schema accepts loads without a message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.repo_config import CONFIG_PATH, ORG_SOURCE, RepoConfig, json_schema, load_repo_config

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOURCES = (CONFIG_PATH, ORG_SOURCE)
TOP_KEYS = ["fail_on", "auto_review", "drafts", "review_event", "paths", "rules", "llm", "commands",
            "instructions", "focus", "failon", "Paths", ""]
SUB_KEYS = ["include", "exclude", "enabled", "severity", "model", "max_turns", "max_cost_usd", "max_input_tokens",
            "max_output_tokens", "max_seconds", "min_permission", "py-requests-no-timeout", "services/**"]
WORDS = ["high", "medium", "low", "critical", "info", "off", "on", "yes", "no", "COMMENT", "REQUEST_CHANGES",
         "write", "admin", "none", "**/*.py", "~", "null", ".inf", "0x1F", "1_000", "2024-01-01"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.sampled_from(WORDS),
                    st.text(max_size=20), st.dates())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(SUB_KEYS), st.text(max_size=8)), inner, max_size=4)), max_leaves=15)
configs = st.dictionaries(st.one_of(st.sampled_from(TOP_KEYS), st.text(max_size=10), st.integers(), st.booleans()),
                          values, max_size=6)
SNIPPETS = [
    "? [a, b]\n: 1\n", "? {x: 1}\n: 2\n", "1: one\n", "null: x\n", "true: x\n", "2024-01-01: d\n",
    "base: &b {enabled: false}\nrules: {r1: *b, r2: *b}\n", "<<: {drafts: true}\n", "<<: 1\n",
    "fail_on: !!binary aGVsbG8=\n", "fail_on: !!timestamp 2001-13-01\n", "llm: !!set {a, b}\n",
    "focus: !!omap [a: 1]\n", "x: !python/object:os.system ls\n", "focus: [*undefined]\n",
    "---\ndrafts: true\n---\ndrafts: false\n", "rules:\n  r: {severity: high, severity: low}\n",
    "paths:\n\tinclude: [a]\n", "llm: {max_turns: 1e999}\n", "fail_on: \"\\ud800\"\n", "rules: {? [x]: off}\n",
    "instructions: {[a]: b}\n", "focus: [" * 200 + "]" * 200 + "\n", "%YAML 1.1\n---\ndrafts: yes\n",
]


def dump(data: dict[Any, Any]) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return "{}\n"


@st.composite
def files(draw: st.DrawFn) -> str | bytes | None:
    kind = draw(st.sampled_from(["dump", "snippets", "mutated", "bytes", "encoded", "none"]))
    if kind == "none":
        return None
    if kind == "bytes":
        return draw(st.binary(max_size=600))
    text = dump(draw(configs))
    if kind == "snippets":
        text = "".join(draw(st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=3))) + text
    if kind == "mutated" and text:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["\t", ": ", "- ", "&a ", "*a", "!!int ", "{", "[", "'", "\"",
                                                 "\n  ", "\x00", "\ufeff", "#"])) + text[at:]
    if kind == "encoded":
        return text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"])), "replace")
    return text


def plain(value: Any) -> Any:
    """YAML's dates as strings, as JSON Schema sees a document."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


@FUZZ
@given(text=files(), org=st.one_of(st.none(), files()))
def test_the_loader_never_raises_and_every_message_names_its_file(text: str | bytes | None,
                                                                   org: str | bytes | None) -> None:
    config, errors = load_repo_config(text, CONFIG_PATH, org)
    assert isinstance(config, RepoConfig) and isinstance(errors, list)
    assert all(isinstance(e, str) and e.startswith(SOURCES) for e in errors), errors
    assert len(errors) < 200


severities = st.sampled_from(["info", "low", "medium", "high", "critical", "HIGH", "severe", "off", ""])
flags = st.one_of(st.booleans(), st.sampled_from(["yes", "true", "off", 1, 0, None]))
globs = st.lists(st.sampled_from(["**/*.py", "src/**", "", "*", "a/[b"]), max_size=3)
rule_values = st.one_of(st.just("off"), st.just(False), severities, flags,
                        st.fixed_dictionaries({}, optional={"enabled": flags, "severity": severities}))
near_valid = st.fixed_dictionaries({}, optional={
    "fail_on": severities, "auto_review": flags, "drafts": flags,
    "review_event": st.sampled_from(["COMMENT", "REQUEST_CHANGES", "APPROVE", "comment"]),
    "paths": st.fixed_dictionaries({}, optional={"include": globs, "exclude": globs}),
    "rules": st.dictionaries(st.sampled_from(["py-requests-no-timeout", "sql-n-plus-one", "x"]), rule_values,
                             max_size=3),
    "llm": st.fixed_dictionaries({}, optional={
        "enabled": flags, "model": st.one_of(st.none(), st.text(max_size=8)), "max_turns": st.integers(-2, 60),
        "max_cost_usd": st.one_of(st.integers(-1, 60), st.floats(-1, 60)), "max_seconds": st.integers(0, 4000),
        "max_input_tokens": st.integers(0, 10**6), "max_output_tokens": st.integers(0, 10**5)}),
    "commands": st.fixed_dictionaries({}, optional={"min_permission": st.sampled_from(
        ["read", "triage", "write", "maintain", "admin", "owner"])}),
    "instructions": st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), st.integers()), max_size=2),
    "focus": st.lists(st.one_of(st.sampled_from(["db", "cache", "http"]), st.integers()), max_size=3),
})


def schema_problems(text: str) -> list[str]:
    parsed = yaml.safe_load(text) or {}
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in jsonschema.Draft7Validator(json_schema()).iter_errors(plain(parsed))]


@FUZZ
@given(data=near_valid)
def test_a_near_valid_file_the_published_schema_accepts_is_loaded_without_a_word(data: dict[str, Any]) -> None:
    """An editor validating with the schema never passes a file the App then refuses. (The other way round
    the loader is laxer: it takes 'yes', 'off', 0 and 1 for booleans, which the schema refuses.)"""
    text = dump(data)
    _, errors = load_repo_config(text)
    if not schema_problems(text):
        assert errors == [], text


def test_the_loader_is_laxer_than_the_schema_on_booleans() -> None:
    for text in ("drafts: 'yes'\n", "auto_review: 0\n", "llm: {enabled: 'off'}\n"):
        config, errors = load_repo_config(text)
        assert errors == [] and schema_problems(text), text
    assert load_repo_config("drafts: 'yes'\n")[0].drafts is True


@pytest.mark.parametrize("text", ["fail_on: !!int\n", "x: !!float\n", "x: !!bool\n", "x: !!timestamp x\n"])
def test_an_empty_tagged_scalar_gives_defaults_and_a_message(text: str) -> None:
    config, errors = load_repo_config(text)
    assert config == RepoConfig() and errors and errors[0].startswith(CONFIG_PATH)
