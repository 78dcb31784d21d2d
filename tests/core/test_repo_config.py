"""`.github/scale-review.yml`: defaults, overrides, exact error messages, hostile files, the published schema."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.core.model import Category, Finding, Review, Severity
from bot.core.policy import finalize
from bot.core.repo_config import CONFIG_PATH, RepoConfig, json_schema, json_schema_text, load_repo_config
from bot.render.markdown import render_summary

FIXTURES = Path(__file__).parents[1] / "fixtures" / "config"
SCHEMA_FILE = Path(__file__).parents[2] / "schema" / "scale-review.schema.json"
SRC = CONFIG_PATH
ORG = "organisation .github/scale-review.yml"
DEFAULT = RepoConfig()


def load(name: str, org: str | None = None) -> tuple[RepoConfig, list[str]]:
    org_bytes = (FIXTURES / org).read_bytes() if org else None
    return load_repo_config((FIXTURES / name).read_bytes(), SRC, org_bytes)


@pytest.mark.parametrize("text", [None, "", b"", "# only comments\n", b"\n\n"])
def test_missing_or_empty_file_gives_defaults_silently(text: str | bytes | None) -> None:
    assert load_repo_config(text) == (DEFAULT, [])


def test_defaults_are_the_documented_ones() -> None:
    assert DEFAULT.fail_on == Severity.high
    assert DEFAULT.auto_review is True and DEFAULT.drafts is False
    assert DEFAULT.commands.min_permission == "write"
    assert DEFAULT.llm.enabled is True


def test_full_example() -> None:
    config, errors = load("full.yml")
    assert errors == []
    assert config.fail_on == Severity.medium
    assert config.paths.include == ["src/**", "services/**"]
    assert config.paths.exclude == ["**/vendor/**", "**/*_pb2.py"]
    assert not config.rule_enabled("py-requests-no-timeout")
    assert config.rule_enabled("py-orm-in-loop") and config.rule_enabled("some-other-rule")
    assert config.severity_for("py-orm-in-loop", Severity.medium) == Severity.critical
    assert config.severity_for("sql-index-not-concurrently", Severity.critical) == Severity.high
    assert config.severity_for("some-other-rule", Severity.low) == Severity.low
    assert (config.llm.model, config.llm.max_turns, config.llm.max_cost_usd) == ("claude-sonnet-4-5", 8, 0.5)
    assert config.commands.min_permission == "maintain"
    assert config.instructions == {"services/payments/**": "money movement, idempotency first"}
    assert config.focus == ["db", "cache"]


def test_str_and_bytes_give_the_same_config() -> None:
    text = (FIXTURES / "full.yml").read_text(encoding="utf-8")
    assert load_repo_config(text) == load_repo_config(text.encode())


def test_rule_shorthand_off_as_string() -> None:
    config, errors = load_repo_config('rules:\n  py-x: "off"\n  py-y: low\n')
    assert errors == []
    assert not config.rule_enabled("py-x")
    assert config.severity_for("py-y", Severity.high) == Severity.low


def test_malformed_yaml_names_line_and_column_and_uses_defaults() -> None:
    assert load("malformed.yml") == (
        DEFAULT,
        [f"{SRC}: line 4, column 10: not valid YAML: expected ',' or ']', but got ':'"],
    )


def test_wrong_types_name_every_key() -> None:
    config, errors = load("wrong_types.yml")
    assert config == DEFAULT
    assert errors == [
        f"{SRC}: key 'fail_on': Input should be 'info', 'low', 'medium', 'high' or 'critical'",
        f"{SRC}: key 'drafts': Input should be a valid boolean, unable to interpret input",
        f"{SRC}: key 'paths.include': Input should be a valid list",
        f"{SRC}: key 'llm.max_turns': Input should be less than or equal to 50",
        f"{SRC}: key 'commands.min_permission': Input should be 'read', 'triage', 'write', 'maintain' or 'admin'",
    ]


def test_unknown_keys_are_named_and_good_keys_kept() -> None:
    config, errors = load("unknown_keys.yml")
    assert sorted(errors) == [
        f"{SRC}: key 'fail_om': unknown key (did you mean 'fail_on'?)",
        f"{SRC}: key 'llm.temperature': unknown key",
    ]
    assert config.drafts is True  # the valid key survives
    assert config.fail_on == Severity.high  # the misspelt one does not apply


def test_one_bad_key_does_not_throw_away_the_rest() -> None:
    config, errors = load("one_bad_key.yml")
    assert errors == [f"{SRC}: key 'drafts': Input should be a valid boolean, unable to interpret input"]
    assert (config.fail_on, config.drafts, config.focus) == (Severity.critical, False, ["db"])


def test_top_level_list() -> None:
    assert load("top_level_list.yml") == (DEFAULT, [f"{SRC}: the top level must be a mapping, not list"])


def test_non_utf8_file() -> None:
    assert load("non_utf8.yml") == (DEFAULT, [f"{SRC}: line 3: not valid UTF-8 (byte 0xe9)"])


def test_utf8_bom_is_accepted() -> None:
    config, errors = load_repo_config(b"\xef\xbb\xbffail_on: low\n")
    assert (config.fail_on, errors) == (Severity.low, [])


def test_huge_file_is_refused_without_parsing() -> None:
    data = (FIXTURES / "huge.yml").read_bytes()
    assert load_repo_config(data) == (DEFAULT, [f"{SRC}: file is 70,004 bytes, over the 64,000-byte limit"])
    config, errors = load_repo_config(data.decode())
    assert errors == [f"{SRC}: file is over the 64,000-byte limit"]


def test_yaml_bomb_is_cheap_and_refused() -> None:
    started = time.perf_counter()
    config, errors = load("yaml_bomb.yml")
    assert time.perf_counter() - started < 2.0
    assert config == DEFAULT
    assert f"{SRC}: key 'a': unknown key" in errors
    assert f"{SRC}: key 'focus.0': Input should be a valid string" in errors


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    config, errors = load_repo_config("focus: " + "[" * 5000 + "]" * 5000)
    assert config == DEFAULT
    assert errors == [f"{SRC}: not valid YAML: maximum recursion depth exceeded"]


def test_python_tags_are_never_executed(tmp_path: Path) -> None:
    config, errors = load("python_tag.yml")
    assert config == DEFAULT
    assert len(errors) == 1
    assert errors[0].startswith(f"{SRC}: line 1, column 10: not valid YAML: could not determine a constructor")
    assert not Path("/tmp/scale-review-pwned").exists()


def test_non_string_key() -> None:
    config, errors = load_repo_config("fail_on: critical\n1: x\n")
    assert errors == [f"{SRC}: key '1': Keys should be strings"]
    assert config.fail_on == Severity.critical


def test_org_defaults_merge_under_the_repo_file() -> None:
    config, errors = load_repo_config("fail_on: medium\nllm:\n  model: m1\n", SRC, (FIXTURES / "org.yml").read_text())
    assert errors == []
    assert config.fail_on == Severity.medium  # the repo wins
    assert config.drafts is True  # from the org
    assert config.paths.exclude == ["**/generated/**"]  # from the org
    assert (config.llm.model, config.llm.max_turns) == ("m1", 4)  # nested keys merge


def test_org_errors_name_the_org_file() -> None:
    config, errors = load_repo_config("drafts: true\n", SRC, "fail_on: 3\nllm: {max_turns: 4}\n")
    assert errors == [f"{ORG}: key 'fail_on': Input should be 'info', 'low', 'medium', 'high' or 'critical'"]
    assert (config.drafts, config.fail_on, config.llm.max_turns) == (True, Severity.high, 4)


def test_broken_org_file_does_not_block_the_repo_file() -> None:
    config, errors = load_repo_config("fail_on: low\n", SRC, "[unclosed\n")
    assert config.fail_on == Severity.low
    assert len(errors) == 1 and errors[0].startswith(f"{ORG}: line 2, column 1: not valid YAML")


def test_invalid_config_review_runs_on_defaults_and_says_why() -> None:
    config, errors = load("wrong_types.yml")
    high = Finding(
        id="SR-0000000001", category=Category.n_plus_one, severity=Severity.high, path="a.py", start_line=1,
        end_line=1, title="t", evidence="e", risk="r", rollback="b", monitoring="m", source="py-orm-in-loop",
    )
    review = finalize(Review(findings=[high], notes=errors), config)
    assert review.conclusion.value == "failure"  # the default fail_on: high applies
    summary = render_summary(review)
    assert f"- {SRC}: key 'fail_on': Input should be 'info', 'low', 'medium', 'high' or 'critical'" in summary


# the published JSON Schema -------------------------------------------------------------------


def test_committed_schema_equals_generated() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "schema/scale-review.schema.json is stale; regenerate it: python -c "
        "'from bot.core.repo_config import json_schema_text as t; print(t(), end=\"\")' "
        "> schema/scale-review.schema.json"
    )


def test_schema_is_valid_draft7_and_accepts_the_example() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    example = yaml.safe_load((FIXTURES / "full.yml").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(example)
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load((FIXTURES / "org.yml").read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", ["wrong_types.yml", "unknown_keys.yml", "one_bad_key.yml", "top_level_list.yml"])
def test_schema_rejects_what_the_loader_rejects(name: str) -> None:
    data = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    assert list(jsonschema.Draft7Validator(json_schema()).iter_errors(data))


@pytest.mark.parametrize("value", [False, "off", "critical", {"enabled": False}, {"severity": "low"}])
def test_schema_accepts_every_rule_form_the_loader_accepts(value: object) -> None:
    doc = {"rules": {"py-x": value}}
    jsonschema.Draft7Validator(json_schema()).validate(doc)
    assert load_repo_config(yaml.safe_dump(doc))[1] == []


def test_misspelt_nested_keys_get_a_hint() -> None:
    _, errors = load_repo_config("paths: {exclued: []}\nrules: {py-x: {enabeld: false}}\nllm: {max_turn: 3}\n")
    assert errors == [
        f"{SRC}: key 'paths.exclued': unknown key (did you mean 'exclude'?)",
        f"{SRC}: key 'rules.py-x.enabeld': unknown key (did you mean 'enabled'?)",
        f"{SRC}: key 'llm.max_turn': unknown key (did you mean 'max_turns'?)",
    ]
