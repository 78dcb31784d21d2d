"""Rule metadata as data for the plain-parser analyzers (SQL migrations, Kubernetes manifests).

Each analyzer keeps its rules in one YAML file under `rules/` (id, category, severity, title,
description, evidence template, risk at 10x/100x, advice, optional fix note, rollback, monitoring,
confidence). A check produces a `Hit` (rule id, head-side lines, code, evidence values); `to_finding`
turns it into a Finding with the rule's text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.analyzers.base import FileInput
from bot.analyzers.rule_pack import ERR_PREFIX, REQUIRED_TEXT
from bot.core.code_span import code_span
from bot.core.model import Category, Finding, Severity, fingerprint, normalize_code

RULES_DIR = Path(__file__).parent / "rules"
KNOWN_KEYS = {"id", "category", "severity", "confidence", "fix", *REQUIRED_TEXT}
ERR_RULE = ERR_PREFIX
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed: ~10x faster, same documents


class RuleInfoError(ValueError):
    """A rule metadata file is not valid."""


@dataclass(frozen=True)
class RuleInfo:
    """What a rule says about a problem: shape-compatible with the ast-grep pack's rules."""

    id: str
    category: Category
    severity: Severity
    title: str
    description: str
    evidence: str  # template: `{name}` fields are filled from the hit
    risk: str
    advice: str
    rollback: str
    monitoring: str
    confidence: float = 0.8
    fix: str | None = None  # describes the mechanical rewrite, when the analyzer offers one


@dataclass(frozen=True)
class Hit:
    """One match of a check, on head-side lines of the file."""

    rule_id: str
    start_line: int
    end_line: int
    code: str
    values: dict[str, str] = field(default_factory=dict)
    suggestion: str | None = None
    severity: Severity | None = None  # overrides the rule's severity for this hit
    confidence: float | None = None
    note: str | None = None  # appended to the rule's advice


# evidence values the analyzers write themselves (one line, their own code spans around identifiers)
PROSE_VALUES = frozenset({"also", "server", "detail"})


class _SafeValues(dict[str, str]):
    """Evidence values: those copied from the code become one-line inline code (issue 14: a container
    name carrying a newline and a suggestion fence must not become a block); a missing one is '?'."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__({k: v if k in PROSE_VALUES else code_span(str(v)) for k, v in values.items()})

    def __missing__(self, key: str) -> str:
        return "?"


def _parse(doc: Any, source: str) -> RuleInfo:
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        raise RuleInfoError(ERR_RULE.format(where=source, what="a rule must be a mapping with an 'id'"))
    where = f"{doc['id']} ({source})"
    extra = sorted(set(doc) - KNOWN_KEYS)
    if extra:
        raise RuleInfoError(ERR_RULE.format(where=where, what=f"unknown key {extra[0]!r}"))
    for key in REQUIRED_TEXT:
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise RuleInfoError(ERR_RULE.format(where=where, what=f"missing text field '{key}'"))
    try:
        category, severity = Category(str(doc.get("category"))), Severity(str(doc.get("severity")))
    except ValueError as exc:
        raise RuleInfoError(ERR_RULE.format(where=where, what=str(exc))) from None
    confidence = doc.get("confidence", 0.8)
    if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        raise RuleInfoError(ERR_RULE.format(where=where, what="'confidence' must be between 0 and 1"))
    return RuleInfo(
        id=doc["id"],
        category=category,
        severity=severity,
        confidence=float(confidence),
        fix=doc.get("fix"),
        **{k: " ".join(doc[k].split()) for k in REQUIRED_TEXT},
    )


def load_rule_infos(path: Path) -> tuple[RuleInfo, ...]:
    """Every rule in one YAML file (one document per rule); ids must be unique."""
    try:
        docs = [d for d in yaml.load_all(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) if d is not None]  # noqa: S506
    except yaml.YAMLError as exc:
        raise RuleInfoError(ERR_RULE.format(where=str(path), what=f"not valid YAML: {exc}")) from exc
    rules = [_parse(doc, str(path)) for doc in docs]
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise RuleInfoError(ERR_RULE.format(where=str(path), what="duplicate rule id"))
    return tuple(rules)


def findings_from_hits(
    rules: Mapping[str, RuleInfo], file: FileInput, hits: Iterable[Hit], limit: int
) -> list[Finding]:
    """The hits that touch the change, as findings, at most `limit`.

    Identical code met several times in one file is numbered in line order (the same
    whitespace-insensitive text the fingerprint uses), so each occurrence keeps its own stable id.
    """
    seen: Counter[tuple[str, str]] = Counter()
    out: list[Finding] = []
    for hit in sorted(hits, key=lambda h: (h.start_line, h.rule_id)):
        key = (hit.rule_id, normalize_code(hit.code))
        occurrence = seen[key]
        seen[key] += 1
        rule = rules.get(hit.rule_id)
        if rule is None or not file.change.touches(hit.start_line, hit.end_line):
            continue
        out.append(to_finding(rule, hit, file.path, occurrence))
        if len(out) >= limit:
            break
    return out


def to_finding(rule: RuleInfo, hit: Hit, path: str, occurrence: int = 0) -> Finding:
    """The Finding for one hit, with the rule's text and the hit's evidence values.

    `occurrence` tells apart identical code met several times in one file (a stable id each).
    """
    kind = rule.id if occurrence == 0 else f"{rule.id}#{occurrence}"
    advice = f"{rule.advice} {hit.note}" if hit.note else rule.advice
    return Finding(
        id=fingerprint(kind, path, hit.code),
        category=rule.category,
        severity=hit.severity or rule.severity,
        path=path,
        start_line=hit.start_line,
        end_line=hit.end_line,
        title=rule.title,
        evidence=rule.evidence.format_map(_SafeValues(hit.values)),
        risk=rule.risk,
        suggestion=hit.suggestion,
        advice=advice,
        rollback=rule.rollback,
        monitoring=rule.monitoring,
        confidence=hit.confidence if hit.confidence is not None else rule.confidence,
        source=rule.id,
    )
