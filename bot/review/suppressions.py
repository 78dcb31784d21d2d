"""What a repository already decided about findings: memory across pull requests, and `ignore:` in its config.

Pure. A memory entry (a dismissal, an accepted risk, or a finding the specialist withdrew in a thread) is keyed
by rule and a code fingerprint that survives lines moving: the rule, the path, the finding's statement
(whitespace-normalised) and the header of the function around it. A later review whose finding has the same
fingerprint does not raise it again (on the pull request where the risk was accepted, it shows as accepted);
the summary counts what memory suppressed. A rule dismissed as a false positive `MUTE_AFTER` times in a
repository is shown with lowered confidence, so it can no longer fail the gate, until the config re-enables it
(`rules: {<rule>: on}`). The gate itself stays in bot.core.policy.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from bot.analyzers.indent_scopes import enclosing_lines
from bot.core.model import Acceptance, Finding, normalize_code
from bot.core.repo import glob_match
from bot.core.repo_config import RepoConfig
from bot.render.sanitize import one_line

MemoryKind = Literal["accept", "dismiss", "withdraw"]
MUTE_AFTER = 3
FUNCTION_LOOKBACK = 400
MAX_LISTED = 10
KIND_WORDS = {"accept": "risk accepted", "dismiss": "false positive", "withdraw": "withdrawn by the specialist"}
MEMORY_NOTE = ("{n} finding(s) not raised again: decided earlier in this repository ({listing}). "
               "`/scale-review memory` lists the entries, `scale-review memory revoke` removes one.")
IGNORED_NOTE = "{n} finding(s) left out by `ignore:` in the repository config ({listing})."
MUTED_NOTE = ("Rule `{rule}` was dismissed as a false positive {n} times in this repository: its findings are shown "
              "with lowered confidence and cannot fail the check until the config re-enables it "
              "(`rules: {{{rule}: on}}`).")
_HEADER = re.compile(r"^\s*(async\s+def|def|class|func|function|fn|module|sub|public|private|protected|static)\b"
                     r"|^\s*(export\s+)?(async\s+)?function\b")


class MemoryEntry(BaseModel):
    """One decision kept for a repository."""

    id: int = 0
    repo: str
    rule: str
    fingerprint: str
    finding_id: str
    kind: MemoryKind
    by: str
    reason: str
    pr: int
    comment_id: int = 0
    created_at: float = 0.0
    revoked: bool = False


class RepoMemory(BaseModel):
    """The live entries of a repository, and the fingerprints of this review's findings (id -> fingerprint)."""

    entries: list[MemoryEntry] = Field(default_factory=list)
    fingerprints: dict[str, str] = Field(default_factory=dict)


class Suppressed(BaseModel):
    findings: list[Finding] = Field(default_factory=list)
    accepted: list[Acceptance] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    stats: dict[str, int] = Field(default_factory=dict)


def rule_of(f: Finding) -> str:
    """The rule a decision is kept for: the analyzer rule, or the specialist and its category (a few dismissed
    specialist findings of one kind must not mute every specialist finding)."""
    return f"{f.source}:{f.category.value}" if f.source == "specialist" else f.source


def enclosing_function(lines: list[str], line: int) -> str:
    """The header line of the function (or class) around `line`, normalised; "" at the top level."""
    for i, text, _ in enclosing_lines(lines, line, FUNCTION_LOOKBACK):
        if i != line - 1 and _HEADER.match(text):
            return normalize_code(text)
    return ""


def code_fingerprint(rule: str, path: str, text: str, start: int, end: int) -> str:
    """Rule + path + the normalised statement at start..end + its enclosing function: no line numbers."""
    lines = text.splitlines()
    statement = normalize_code("\n".join(lines[max(0, start - 1):max(start, end)]))
    function = enclosing_function(lines, start)
    digest = hashlib.sha256(f"{rule}\0{path}\0{statement}\0{function}".encode()).hexdigest()
    return f"MF-{digest[:16]}"


def muted_rules(entries: Sequence[MemoryEntry], config: RepoConfig) -> dict[str, int]:
    """Rules dismissed (or withdrawn) as false positives at least MUTE_AFTER times and not re-enabled."""
    counts = Counter(e.rule for e in entries if e.kind in ("dismiss", "withdraw") and not e.revoked)
    return {rule: n for rule, n in counts.items() if n >= MUTE_AFTER and not reenabled(config, rule)}


def reenabled(config: RepoConfig, rule: str) -> bool:
    """The config names the rule as on (`rule: on` or `{enabled: true}`) explicitly."""
    override = config.rules.get(rule)
    return override is not None and "enabled" in override.model_fields_set and override.enabled


def _ignored(f: Finding, config: RepoConfig) -> bool:
    return any(i.rule in (f.source, rule_of(f), "*") and glob_match(f.path, i.path) for i in config.ignore)


def _listing(items: list[str]) -> str:
    shown = items[:MAX_LISTED]
    more = f", … {len(items) - len(shown)} more" if len(items) > len(shown) else ""
    return "; ".join(shown) + more


def _entry_text(f: Finding, e: MemoryEntry) -> str:
    return f"`{f.id}` {KIND_WORDS[e.kind]} by {one_line(e.by, 40)} on #{e.pr}: {one_line(e.reason, 160)}"


def apply_memory(findings: Sequence[Finding], config: RepoConfig, memory: RepoMemory | None = None,
                 pr: int = 0) -> Suppressed:
    """The findings still raised, acceptances from memory (this PR's), notes and counts for the summary."""
    memory = memory or RepoMemory()
    live = [e for e in memory.entries if not e.revoked]
    by_fp: dict[str, MemoryEntry] = {}
    for e in sorted(live, key=lambda e: (e.pr != pr, e.created_at)):  # this PR's decision first
        by_fp.setdefault(e.fingerprint, e)
    muted = muted_rules(live, config)
    lowered = round(config.gate.min_confidence / 2, 2)
    kept: list[Finding] = []
    accepted: list[Acceptance] = []
    remembered: list[str] = []
    ignored: list[str] = []
    for f in findings:
        if _ignored(f, config):
            ignored.append(f"`{f.id}` ({one_line(f.source, 60)}, {one_line(f.path, 120)})")
            continue
        entry = by_fp.get(memory.fingerprints.get(f.id, ""))
        if entry is not None and entry.kind == "accept" and entry.pr == pr:
            accepted.append(Acceptance(finding_id=f.id, by=entry.by, reason=entry.reason))
        elif entry is not None:
            remembered.append(_entry_text(f, entry))
            continue
        if rule_of(f) in muted and f.confidence > lowered:
            f = f.model_copy(update={"confidence": lowered})
        kept.append(f)
    notes = [MUTED_NOTE.format(rule=one_line(r, 80), n=n) for r, n in sorted(muted.items())
             if any(rule_of(f) == r for f in findings)]
    if remembered:
        notes.append(MEMORY_NOTE.format(n=len(remembered), listing=_listing(remembered)))
    if ignored:
        notes.append(IGNORED_NOTE.format(n=len(ignored), listing=_listing(ignored)))
    stats = {"memory_suppressed": len(remembered), "config_ignored": len(ignored)}
    return Suppressed(findings=kept, accepted=accepted, notes=notes, stats=stats)
