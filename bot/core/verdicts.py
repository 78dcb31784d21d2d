"""The specialist's verdicts on low-confidence static findings, applied by code before the gate.

Only an analyzer's finding below `gate.min_confidence` is open to a verdict (`judgeable`); a verdict on
any other id, or a second verdict on the same id, is ignored here (the tool refuses both already, this
is the second lock). The gate is computed by code from what comes out:

- confirmed: the finding's confidence is raised to at least `min_confidence` (it can now block, like
  any confident finding at or above `fail_on`) and it is marked as confirmed, with the reason;
- dismissed: the finding leaves `findings` (not posted inline, not annotated, never gating) and is
  listed in `Review.dismissed` with the reason, for the summary's collapsed section and the JSON.

A confident finding (at or above `min_confidence`) is never judgeable: text in a pull request that talks
the model into "dismissing everything" cannot clear what the analyzers are sure of.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.core.model import Finding

CONFIRMED = "confirmed"
DISMISSED = "dismissed"
SPECIALIST_SOURCE = "specialist"
MAX_REASON_CHARS = 500
IGNORED_NOTE = "{n} specialist verdict(s) ignored: only low-confidence analyzer findings can be judged, once each"


class Verdict(BaseModel):
    """One verdict of the specialist on one judgeable finding."""

    model_config = ConfigDict(frozen=True)

    finding_id: str = Field(max_length=100)
    verdict: Literal["confirm", "dismiss"]
    reason: str = Field(max_length=MAX_REASON_CHARS)


@dataclass
class Judged:
    findings: list[Finding] = field(default_factory=list)  # kept (confirmed ones raised)
    dismissed: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def judgeable(findings: Iterable[Finding], min_confidence: float) -> list[Finding]:
    """The analyzers' findings the specialist may confirm or dismiss: those below the gate's confidence."""
    return [f for f in findings if f.source != SPECIALIST_SOURCE and f.confidence < min_confidence]


def apply_verdicts(findings: Sequence[Finding], verdicts: Iterable[Verdict], min_confidence: float) -> Judged:
    """Findings after the verdicts (first verdict per judgeable id wins; the rest are ignored)."""
    open_ids = {f.id for f in judgeable(findings, min_confidence)}
    chosen: dict[str, Verdict] = {}
    ignored = 0
    for v in verdicts:
        if v.finding_id in open_ids and v.finding_id not in chosen:
            chosen[v.finding_id] = v
        else:
            ignored += 1
    out = Judged()
    for f in findings:
        given = chosen.get(f.id)
        if given is None:
            out.findings.append(f)
        elif given.verdict == "confirm":
            out.findings.append(f.model_copy(update={"confidence": max(f.confidence, min_confidence),
                                                     "verdict": CONFIRMED, "verdict_reason": given.reason}))
        else:
            out.dismissed.append(f.model_copy(update={"verdict": DISMISSED, "verdict_reason": given.reason}))
    if ignored:
        out.notes.append(IGNORED_NOTE.format(n=ignored))
    return out
