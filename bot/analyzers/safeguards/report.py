"""A lost safeguard as a Finding: texts per kind come from kinds/<kind>.yml (data, not code)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot.analyzers.safeguards.model import Kind, Loss, Side, Verdict
from bot.core.model import Category, Finding, Severity, fingerprint
from bot.render.sanitize import clip, strip_control

KINDS_DIR = Path(__file__).with_name("kinds")
QUOTE_CHARS = 120
RULE_PREFIX = "safeguard-"
_WRITE_KEYS = re.compile(r"bulk|insert|upsert|create|import|executemany|write|chunk|batches|update_all|delete_all")
_PAGE_KEYS = re.compile(r"page|paginat|per")
_QUERY_TARGET = re.compile(r"objects|query|session|filter|\bget\b|find|select|fetch|\.all$|execute")
_REL_LAST = re.compile(r"[\w]+$")


@dataclass(frozen=True)
class KindText:
    kind: Kind
    category: Category
    severity: Severity
    noun: str
    title: str
    risk: str
    advice: str
    rollback: str
    monitoring: str
    confidence_seen: float
    confidence_unseen: float
    alt_category: Category | None = None


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed: same documents, faster


@cache
def kind_text(kind: Kind) -> KindText:
    data = yaml.load((KINDS_DIR / f"{kind.value}.yml").read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - safe loader
    alt = data.get("write_category") or data.get("page_category") or data.get("query_category")
    return KindText(
        kind=kind,
        category=Category(data["category"]),
        severity=Severity(data["severity"]),
        noun=data["noun"],
        title=data["title"],
        risk=" ".join(data["risk"].split()),
        advice=" ".join(data["advice"].split()),
        rollback=data["rollback"],
        monitoring=data["monitoring"],
        confidence_seen=float(data["confidence_seen"]),
        confidence_unseen=float(data["confidence_unseen"]),
        alt_category=Category(alt) if alt else None,
    )


def rule_ids() -> list[str]:
    return [RULE_PREFIX + k.value.replace("_", "-") for k in Kind]


@dataclass(frozen=True)
class SafeguardRule:
    """One kind as a rule, in the shape rule listings (SARIF) read."""

    id: str
    title: str
    category: Category
    severity: Severity
    description: str
    risk: str
    advice: str
    rollback: str
    monitoring: str


def rules() -> list[SafeguardRule]:
    out = []
    for kind in Kind:
        text = kind_text(kind)
        out.append(
            SafeguardRule(
                id=RULE_PREFIX + kind.value.replace("_", "-"),
                title=f"Removed or weakened safeguard: {text.noun}",
                category=text.category,
                severity=text.severity,
                description=f"A {text.noun} present at base is gone or weakened at head.",
                risk=text.risk,
                advice=text.advice,
                rollback=text.rollback,
                monitoring=text.monitoring,
            )
        )
    return out


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """One bounded line of code as a Markdown code span that its own backticks cannot close."""
    flat = " ".join(strip_control(text).split())
    flat = clip(flat, limit) if len(flat) > limit else flat
    run = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (run + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}" if flat else "(empty)"


def _short_key(key: str) -> str:
    return clip(" ".join(strip_control(key.split(":", 1)[-1]).split()), 60)


def _category(loss: Loss, text: KindText) -> Category:
    key = loss.safeguard.key.lower()
    if text.alt_category is None:
        return text.category
    if loss.safeguard.kind is Kind.batching and _WRITE_KEYS.search(key):
        return text.alt_category
    if loss.safeguard.kind is Kind.limit and _PAGE_KEYS.search(key):
        return text.alt_category
    if loss.safeguard.kind is Kind.hoisting and _QUERY_TARGET.search(loss.safeguard.target.lower()):
        return text.alt_category
    return text.category


def _scope_text(scope: str, head: Side, head_text: str) -> str:
    """The head's text of the function the safeguard sat in (a read elsewhere in a long views file says nothing
    about this query's rows); the whole file when the function is not known."""
    span = head.spans.get(scope) if scope else None
    if span is None:
        return head_text
    lines = head_text.splitlines()
    return "\n".join(lines[span[0] - 1 : span[1]])


def still_used(loss: Loss, head: Side, head_text: str) -> bool:
    """Whether the head still visibly uses what the safeguard protected."""
    s = loss.safeguard
    if s.kind is Kind.hoisting:
        return True
    if s.kind is Kind.eager_loading:
        rel = _REL_LAST.search(s.key.split(":", 1)[-1].replace("__", "."))
        if rel is None:
            return False
        return (
            bool(rel)
            and rel.group(0) != "*"
            and re.search(rf"\.{re.escape(rel.group(0))}\b", _scope_text(s.scope, head, head_text), re.I) is not None
        )
    if s.kind is Kind.db_index:
        cols = [c.strip("\"' []:") for c in s.key.split(":", 1)[-1].split(",")]
        return any(
            c
            and re.search(
                rf"(?i)(filter|where|order_by|find_by|exclude|get)\b[^\n]{{0,120}}\b{re.escape(c)}\b", head_text
            )
            for c in cols[:5]
        )
    root = ".".join(s.target.split(".")[:2])
    if not root or not head.calls:
        return False
    return any(c.scope == s.scope and c.target.startswith(root) for c in head.calls)


def to_finding(loss: Loss, path: str, head: Side, head_text: str) -> Finding:
    s = loss.safeguard
    text = kind_text(s.kind)
    used = still_used(loss, head, head_text)
    verdict = "weakened" if loss.verdict is Verdict.weakened else "removed"
    where = f" in `{clip(s.scope, 60)}`" if s.scope else ""
    detail = f" ({loss.detail})" if loss.detail else ""
    evidence = (
        f"The base version had {quote(s.text or s.key)} at line {s.line}{where}; the head has {verdict} it{detail}."
    )
    if used:
        evidence += " What it protected is still used at head."
    title = text.title.format(key=_short_key(s.key), verdict=verdict)
    severity = (
        text.severity if used else Severity.medium if text.severity.rank > Severity.medium.rank else text.severity
    )
    return Finding(
        id=fingerprint(RULE_PREFIX + s.kind.value, path, f"{s.key}\0{s.text}\0{s.scope}"),
        category=_category(loss, text),
        severity=severity,
        path=path,
        start_line=loss.start_line,
        end_line=loss.end_line,
        title=f"Removed safeguard: {title}" if loss.verdict is Verdict.removed else f"Weakened safeguard: {title}",
        evidence=evidence,
        risk=text.risk,
        suggestion=loss.suggestion,
        advice=f"Why did this {text.noun} go? {text.advice}",
        rollback=text.rollback,
        monitoring=text.monitoring,
        confidence=text.confidence_seen if used else text.confidence_unseen,
        source=RULE_PREFIX + s.kind.value.replace("_", "-"),
    )
