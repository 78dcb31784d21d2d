"""`--format sarif`: SARIF 2.1.0, one run, one rule per analyzer rule, ready for code scanning upload.

Levels: critical/high -> error, medium -> warning, low/info -> note. Each result carries the
finding id as a partial fingerprint (so alerts track across commits), a fix when the finding has
a suggestion, and an external suppression when someone accepted its risk.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol
from urllib.parse import quote

from bot import __version__
from bot.core.model import Acceptance, Category, Finding, Review, Severity
from bot.render.rule_meta import RuleMeta

SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "scale-review"
FINGERPRINT_KEY = "scaleReviewFindingId/v1"
SRCROOT = "%SRCROOT%"
SPECIALIST_TITLE = "Scalability specialist finding"
FIX_DESCRIPTION = "Replace lines {start}-{end} with the suggested change"
LEVELS = {
    Severity.critical: "error",
    Severity.high: "error",
    Severity.medium: "warning",
    Severity.low: "note",
    Severity.info: "note",
}
MAX_MESSAGE = 8_000

HELP_SECTIONS = (
    ("risk", "Risk at scale"),
    ("advice", "What to do"),
    ("rollback", "Rollback"),
    ("monitoring", "Monitor"),
)

TEAM_RULE_TAG = "team-rule"

__all__ = ["RuleMeta", "render_sarif", "rules_from_analyzers", "sarif_log", "team_rule_metas"]


class RuleLike(Protocol):
    """What the analyzers' rule objects (ast-grep pack, SQL, Kubernetes) have in common."""

    id: str
    title: str
    category: Category
    severity: Severity


def rule_meta(rule: RuleLike) -> RuleMeta:
    """A RuleMeta from an analyzer rule; its help is the description, then risk, advice, rollback, monitor."""
    parts = [str(getattr(rule, "description", "") or "").strip()]
    for attr, label in HELP_SECTIONS:
        text = str(getattr(rule, attr, "") or "").strip()
        if text:
            parts.append(f"**{label}.** {text}")
    return RuleMeta(
        id=rule.id, title=rule.title, category=rule.category, severity=rule.severity,
        help="\n\n".join(p for p in parts if p),
    )


def rules_from_analyzers(analyzers: Iterable[object]) -> list[RuleMeta]:
    """One RuleMeta per rule of every analyzer that lists its rules (`analyzer.rules`), first id wins."""
    out: dict[str, RuleMeta] = {}
    for analyzer in analyzers:
        for rule in getattr(analyzer, "rules", None) or []:
            if all(hasattr(rule, a) for a in ("id", "title", "category", "severity")) and rule.id not in out:
                out[rule.id] = rule_meta(rule)
    return list(out.values())


def team_rule_metas(team_rules: Iterable[Any]) -> list[RuleMeta]:
    """RuleMetas of the team's own rules (bot.analyzers.repo_rules.RepoRule: `.rule`, `.origin`, `.source`)."""
    out = []
    for team in team_rules:
        meta = rule_meta(team.rule)
        out.append(RuleMeta(id=meta.id, title=meta.title, category=meta.category, severity=meta.severity,
                            help=meta.help, origin=str(team.origin), source=str(team.source)))
    return out


def _uri(path: str) -> str:
    clean = path.replace("\\", "/").lstrip("/")
    while clean.startswith("./"):
        clean = clean[2:]
    return quote(clean, safe="/")


def _rule_name(rule_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in rule_id.replace("_", "-").split("-") if part)


def _rule(meta: RuleMeta) -> dict[str, Any]:
    help_text = meta.help or meta.title
    properties: dict[str, Any] = {"tags": ["scalability", meta.category.value], "severity": meta.severity.value}
    if meta.origin:  # the team's own rule: say whose, and from which file
        properties["tags"].append(TEAM_RULE_TAG)
        properties.update(origin=meta.origin, source=meta.source)
    return {
        "id": meta.id,
        "name": _rule_name(meta.id) or meta.id,
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": help_text.split("\n\n")[0]},
        "help": {"text": help_text.replace("**", ""), "markdown": help_text},
        "defaultConfiguration": {"level": LEVELS[meta.severity]},
        "properties": properties,
    }


def _derived_rule(f: Finding) -> RuleMeta:
    title = SPECIALIST_TITLE if f.source == "specialist" else f.title
    return RuleMeta(id=f.source, title=title, category=f.category, severity=f.severity, help=f.risk)


def _location(f: Finding) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(f.path), "uriBaseId": SRCROOT},
            "region": {"startLine": f.start_line, "endLine": f.end_line},
        }
    }


def _fix(f: Finding) -> dict[str, Any]:
    return {
        "description": {"text": FIX_DESCRIPTION.format(start=f.start_line, end=f.end_line)},
        "artifactChanges": [
            {
                "artifactLocation": {"uri": _uri(f.path), "uriBaseId": SRCROOT},
                "replacements": [
                    {
                        "deletedRegion": {"startLine": f.start_line, "endLine": f.end_line},
                        "insertedContent": {"text": (f.suggestion or "").removesuffix("\n")},
                    }
                ],
            }
        ],
    }


def _result(f: Finding, rule_index: int, acceptance: Acceptance | None) -> dict[str, Any]:
    message = f"{f.title}. {f.risk}".strip()
    out: dict[str, Any] = {
        "ruleId": f.source,
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": message[:MAX_MESSAGE]},
        "locations": [_location(f)],
        "partialFingerprints": {FINGERPRINT_KEY: f.id},
        "properties": {
            "findingId": f.id,
            "severity": f.severity.value,
            "category": f.category.value,
            "confidence": f.confidence,
            "evidence": f.evidence[:MAX_MESSAGE],
            "rollback": f.rollback[:MAX_MESSAGE],
            "monitoring": f.monitoring[:MAX_MESSAGE],
        },
    }
    if f.suggestion is not None:
        out["fixes"] = [_fix(f)]
    if acceptance is not None:
        why = f"@{acceptance.by.lstrip('@')}: {acceptance.reason}"
        out["suppressions"] = [{"kind": "external", "status": "accepted", "justification": why}]
    return out


def sarif_log(review: Review, rules: list[RuleMeta] | None = None) -> dict[str, Any]:
    """The SARIF log as a dict: the given rules first, then one derived rule per unknown finding source."""
    metas: list[RuleMeta] = []
    index: dict[str, int] = {}
    for meta in rules or []:
        if meta.id not in index:
            index[meta.id] = len(metas)
            metas.append(meta)
    for f in review.findings:
        if f.source not in index:
            index[f.source] = len(metas)
            metas.append(_derived_rule(f))
    accepted = {a.finding_id: a for a in review.accepted}
    results = [_result(f, index[f.source], accepted.get(f.id)) for f in review.findings]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if review.notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "warning", "message": {"text": note[:MAX_MESSAGE]}} for note in review.notes
        ]
    run = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(m) for m in metas],
            }
        },
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(review: Review, rules: list[RuleMeta] | None = None) -> str:
    """The review as a SARIF 2.1.0 log (JSON text)."""
    return json.dumps(sarif_log(review, rules), indent=2, ensure_ascii=False) + "\n"
