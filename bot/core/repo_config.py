"""`.github/scale-review.yml`: schema, defaults, org-level merge, and exact error messages.

A broken file never stops a review: `load_repo_config` returns the defaults plus a list of
messages naming the file, the key and what is wrong, which the check run shows.
"""

from __future__ import annotations

import difflib
import json
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.core.model import Severity

CONFIG_PATH = ".github/scale-review.yml"
RULES_DIR = ".github/scale-review/rules"  # the repository's own rules (bot.analyzers.repo_rules)
MAX_RULE_FILE_BYTES = 256_000
MAX_CONFIG_BYTES = 64_000
ORG_SOURCE = f"organisation .github/{CONFIG_PATH.split('/')[-1]}"

Permission = Literal["read", "triage", "write", "maintain", "admin"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathFilters(_Strict):
    include: list[str] = Field(default_factory=list, description="Globs of files to review (empty: all).")
    exclude: list[str] = Field(
        default_factory=lambda: ["**/vendor/**", "**/node_modules/**", "**/*.min.js", "**/migrations/*.lock"],
        description="Globs of files never reviewed.",
    )
    tests: list[str] = Field(
        default_factory=list,
        description="Globs of test code, not reviewed (besides files named like tests: test_*.py, *_test.go, "
        "*_spec.rb, *.test.ts, ...). A folder name alone (fixtures/, spec/, e2e/) does not make code a test.",
    )
    generated: Literal["skip", "review"] = Field(
        default="skip",
        description="Generated and vendored files (base .gitattributes linguist-generated/-vendored/-diff, "
        "'Code generated ... DO NOT EDIT.' or @generated markers the base already had, protobuf stubs, "
        "lockfiles, minified bundles) are left out and named; 'review' reviews them too. Migrations are "
        "always reviewed.",
    )


class RuleOverride(_Strict):
    enabled: bool = True
    severity: Severity | None = None


class LlmConfig(_Strict):
    enabled: bool = True
    model: str | None = None
    max_turns: int = Field(default=12, ge=1, le=50)
    max_cost_usd: float = Field(default=1.0, gt=0, le=50)
    max_input_tokens: int = Field(default=400_000, ge=1_000)
    max_output_tokens: int = Field(default=32_000, ge=256)
    max_seconds: int = Field(default=300, ge=10, le=3600)


class CommandsConfig(_Strict):
    min_permission: Permission = "write"


class GateConfig(_Strict):
    incomplete: Literal["neutral", "failure"] = Field(
        default="neutral",
        description="Conclusion when the review could not read everything (a file over a cap or out of time, "
        "code shown as binary, the model unavailable) and nothing else fails: neutral, or failure for "
        "required checks.",
    )
    min_confidence: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description="Only findings with at least this confidence can fail the check; lower ones are shown.",
    )


class IgnoreEntry(_Strict):
    """A finding kept out of reviews as code (the reply to a dismissal offers one)."""

    rule: str = Field(min_length=1, max_length=200, description="Rule id (a finding's source), or '*' for every rule.")
    path: str = Field(default="**", max_length=500, description="Glob of the files it applies to.")
    reason: str = Field(default="", max_length=500, description="Why: shown to whoever reads the config.")


class RepoConfig(_Strict):
    fail_on: Severity = Field(default=Severity.high, description="Fail the check at or above this severity.")
    auto_review: bool = True
    drafts: bool = False
    review_event: Literal["COMMENT", "REQUEST_CHANGES"] = "COMMENT"
    paths: PathFilters = Field(default_factory=PathFilters)
    rules: dict[str, RuleOverride] = Field(default_factory=dict)
    llm: LlmConfig = Field(default_factory=LlmConfig)
    commands: CommandsConfig = Field(default_factory=CommandsConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    instructions: dict[str, str] = Field(
        default_factory=dict, description="Extra guidance per path glob, e.g. 'services/payments/**': '...'"
    )
    focus: list[str] = Field(default_factory=list, description="Areas to look at first (db, cache, http, ...).")
    ignore: list[IgnoreEntry] = Field(
        default_factory=list, max_length=500,
        description="Findings never raised: each entry a rule id and a path glob (and why).",
    )

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_shorthand(cls, v: Any) -> Any:
        # `rules: {py-requests-no-timeout: off}` or `... : medium` are accepted shorthands
        if isinstance(v, dict):
            out: dict[str, Any] = {}
            for key, val in v.items():
                if val is False or val == "off":
                    out[key] = {"enabled": False}
                elif val is True or val == "on":  # re-enables a rule memory muted (bot.review.suppressions)
                    out[key] = {"enabled": True}
                elif isinstance(val, str):
                    out[key] = {"severity": val}
                else:
                    out[key] = val
            return out
        return v

    def rule_enabled(self, rule_id: str) -> bool:
        o = self.rules.get(rule_id)
        return o is None or o.enabled

    def severity_for(self, rule_id: str, default: Severity) -> Severity:
        o = self.rules.get(rule_id)
        return o.severity if o and o.severity else default


UNKNOWN_KEY = "unknown key"
UNKNOWN_KEY_HINT = "unknown key (did you mean '{hint}'?)"


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed next to the last part of `loc` (empty when that is not a fixed mapping)."""
    model: type[BaseModel] = RepoConfig
    parts = list(loc[:-1])
    while parts:
        field = model.model_fields.get(str(parts.pop(0)))
        annotation = field.annotation if field else None
        if get_origin(annotation) is dict and parts:  # e.g. rules.<rule-id>.<key>
            annotation = get_args(annotation)[1]
            parts.pop(0)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _message(err: Any) -> str:
    if err["type"] != "extra_forbidden":
        return str(err["msg"])
    close = difflib.get_close_matches(str(err["loc"][-1]), _known_keys(err["loc"]), n=1)
    return UNKNOWN_KEY_HINT.format(hint=close[0]) if close else UNKNOWN_KEY


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _parse_yaml(text: str | bytes | None, source: str, errors: list[str]) -> dict[str, Any]:
    if text is None:
        return {}
    if isinstance(text, bytes):
        if len(text) > MAX_CONFIG_BYTES:
            errors.append(f"{source}: file is {len(text):,} bytes, over the {MAX_CONFIG_BYTES:,}-byte limit")
            return {}
        raw = text
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            errors.append(f"{source}: line {line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x})")
            return {}
    if len(text) > MAX_CONFIG_BYTES:
        errors.append(f"{source}: file is over the {MAX_CONFIG_BYTES:,}-byte limit")
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        errors.append(f"{source}:{where}: not valid YAML: {problem}")
        return {}
    except (RecursionError, ValueError, IndexError, KeyError, AttributeError, TypeError) as exc:
        errors.append(f"{source}: not valid YAML: {exc}")
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        errors.append(f"{source}: the top level must be a mapping, not {type(data).__name__}")
        return {}
    return data


def load_repo_config(
    text: str | bytes | None, source: str = CONFIG_PATH, org_text: str | bytes | None = None
) -> tuple[RepoConfig, list[str]]:
    """Parse the repo's (and optionally the org's) config; on any error use defaults and say why."""
    errors: list[str] = []
    org = _valid_keys(_parse_yaml(org_text, ORG_SOURCE, errors), ORG_SOURCE, errors)
    own = _parse_yaml(text, source, errors)
    merged = _valid_keys(_deep_merge(org, own), source, errors)
    try:
        return RepoConfig.model_validate(merged), errors
    except ValidationError:
        return RepoConfig(), errors


def _valid_keys(data: dict[str, Any], source: str, errors: list[str]) -> dict[str, Any]:
    """`data` without the top-level keys that fail validation, each failure named in `errors`.

    One bad key should not throw away the rest; the org file is checked on its own first, so
    its mistakes are reported against the org file, not the repo's.
    """
    if not data:
        return data
    try:
        RepoConfig.model_validate(data)
        return data
    except ValidationError as exc:
        problems = exc.errors()
    for err in problems:
        errors.append(f"{source}: key '{_location(err['loc'])}': {_message(err)}")
    bad = {str(e["loc"][0]) for e in problems if e["loc"]}
    return {k: v for k, v in data.items() if str(k) not in bad}


def json_schema() -> dict[str, Any]:
    """The JSON Schema published for editors (schema/scale-review.schema.json)."""
    schema = RepoConfig.model_json_schema()
    # the loader also accepts the shorthands `rule-id: off` and `rule-id: <severity>`; editors must too
    schema["properties"]["rules"]["additionalProperties"] = {
        "anyOf": [
            {"$ref": "#/$defs/RuleOverride"},
            {"enum": [False, "off"], "description": "Disable the rule."},
            {"enum": [True, "on"], "description": "Enable the rule (also after repeated false-positive dismissals)."},
            {"$ref": "#/$defs/Severity", "description": "Override the rule's severity."},
        ]
    }
    schema["properties"]["rules"]["description"] = "Per rule id: off, on, a severity, or {enabled, severity}."
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = "scale-review configuration (.github/scale-review.yml)"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
