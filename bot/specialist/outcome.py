"""The end of a specialist review: validated findings, notes, usage -> SpecialistResult.

Also `carry_forward`, which keeps earlier validated findings on lines a follow-up push did not
touch (shifted to their new line numbers), so an incremental review only pays for what changed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from bot.core.diff import ChangeSet, FileChange, FileStatus
from bot.core.model import Finding
from bot.core.repo import RepoView
from bot.core.verdicts import Verdict
from bot.specialist.budget import Usage
from bot.specialist.validate import SOURCE, recheck_carried, validate_findings

MASKED_NOTE = "{n} secret{s} masked: credential-shaped text was replaced before anything went to the model provider"
DROPPED_NOTE = "{n} specialist finding(s) dropped by validation: {reasons}"
CARRIED_NOTE = "{n} earlier specialist finding(s) kept on lines this push did not change"
CARRIED_DROPPED_NOTE = "{n} earlier specialist finding(s) no longer apply to this pull request's diff: {reasons}"
UNPRICED_NOTE = "model {model} is not in the price table; dollars use the most expensive known price"
MAX_REASONS_IN_NOTE = 5


class SpecialistResult(BaseModel):
    """What the review publishes from the specialist (bot.review.pipeline.SpecialistOutcome)."""

    findings: list[Finding] = Field(default_factory=list)
    dropped: int = 0
    dropped_reasons: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    degraded: str | None = None
    complete: bool = False  # the model called finish_review
    stop_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    prompts: dict[str, str] = Field(default_factory=dict)  # name -> "id@version"
    turns: int = 0
    summary: str = ""
    assumptions: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    handoffs: list[str] = Field(default_factory=list)
    rollback_plan: str = ""
    monitoring_plan: str = ""
    plan: list[dict[str, str]] = Field(default_factory=list)
    since: str | None = None  # incremental: the last reviewed head; None: the whole change was reviewed
    carried: int = 0  # earlier findings kept on lines the follow-up push did not change
    verdicts: list[Verdict] = Field(default_factory=list)  # on low-confidence analyzer findings (judge_finding)

    @property
    def prompt_version(self) -> str:
        return ", ".join(self.prompts.values())

    def stats(self) -> dict[str, Any]:
        """The specialist part of the review's JSON `stats` (flat keys under "specialist")."""
        usage = self.usage
        return {
            "specialist": {
                "model": self.model,
                "prompt_version": self.prompt_version,
                "turns": self.turns,
                "scope": "incremental" if self.since else "full",
                "since": self.since,
                "carried": self.carried,
                "stop_reason": self.stop_reason,
                "complete": self.complete,
                "degraded": self.degraded,
                "findings": len(self.findings),
                "dropped": self.dropped,
                "confirmed": sum(v.verdict == "confirm" for v in self.verdicts),
                "dismissed": sum(v.verdict == "dismiss" for v in self.verdicts),
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cache_read_tokens": usage.cache_read_tokens,
                "cache_write_tokens": usage.cache_write_tokens,
                "cost_usd": usage.cost_usd,
                "model_requests": usage.requests,
            }
        }


def _touched(fc: FileChange, start: int, end: int) -> bool:
    """Whether a hunk of this (follow-up) diff changes base-side lines start..end."""
    for h in fc.hunks:
        if h.base_length and h.base_start <= end and start <= h.base_start + h.base_length - 1:
            return True
        if not h.base_length and start <= h.base_start < end:
            return True
    return False


def _shift(fc: FileChange, line: int) -> int:
    delta = 0
    for h in fc.hunks:
        last_base = h.base_start + h.base_length - 1 if h.base_length else h.base_start
        if last_base < line:
            delta += h.head_length - h.base_length
    return line + delta


def carry_forward(previous: list[Finding], changes: ChangeSet) -> list[Finding]:
    """Earlier specialist findings whose lines `changes` (the follow-up diff) did not touch, re-numbered."""
    by_old = {fc.old_path: fc for fc in changes.files if fc.old_path}
    kept: list[Finding] = []
    for f in previous:
        if f.source != SOURCE or f.path in by_old:
            continue
        fc = changes.get(f.path)
        if fc is None:
            kept.append(f)
            continue
        if fc.status in (FileStatus.deleted, FileStatus.binary) or _touched(fc, f.start_line, f.end_line):
            continue
        start, end = _shift(fc, f.start_line), _shift(fc, f.end_line)
        kept.append(f if (start, end) == (f.start_line, f.end_line) else
                    f.model_copy(update={"start_line": start, "end_line": end}))
    return kept


def checked_verdicts(state: dict[str, Any], candidates: list[Finding] | None = None) -> list[Verdict]:
    """The recorded verdicts, checked again by code: judgeable ids only, the first per id, valid shape. Then
    the verdicts remembered from the last reviewed head (incremental review, reuse) on findings that are still
    among `candidates` and were not judged again now (the gate re-checks their confidence)."""
    out: list[Verdict] = []
    seen: set[str] = set()
    sources = ((state.get("verdicts", []), set(state.get("judgeable", []))),
               (state.get("previous_verdicts", []), {c.id for c in candidates or []}))
    for recorded, allowed in sources:
        for raw in recorded:
            try:
                v = Verdict.model_validate(raw)
            except ValidationError:
                continue
            if v.finding_id in allowed and v.finding_id not in seen:
                seen.add(v.finding_id)
                out.append(v)
    return out


def finish(
    state: dict[str, Any], *, changes: ChangeSet, candidates: list[Finding], repo: RepoView,
    follow_up: ChangeSet | None = None,
) -> SpecialistResult:
    """Validate what the model reported and assemble the result (code decides, not the model).

    `changes` is the whole change (the pull request's diff): every finding must sit on lines it
    shows. `follow_up`, for an incremental review, is the diff since the last reviewed head: earlier
    findings on lines it did not touch are carried forward, then checked against `changes` too."""
    degraded = state.get("degraded")
    reported = [] if degraded else state["reported"]
    checked = validate_findings(reported, changes=changes, candidates=candidates, repo=repo, reads=state["reads"])
    previous = [Finding.model_validate(f) for f in state.get("previous_findings", [])]
    carried = carry_forward(previous, follow_up) if follow_up is not None else []
    kept = recheck_carried(carried, changes=changes, candidates=candidates, kept=checked.findings)
    findings = checked.findings + kept.findings
    notes = list(state["notes"]) + checked.notes
    if checked.dropped:
        reasons = "; ".join(checked.dropped[:MAX_REASONS_IN_NOTE])
        notes.append(DROPPED_NOTE.format(n=len(checked.dropped), reasons=reasons))
    if kept.findings:
        notes.append(CARRIED_NOTE.format(n=len(kept.findings)))
    if kept.dropped:
        notes.append(CARRIED_DROPPED_NOTE.format(n=len(kept.dropped),
                                                 reasons="; ".join(kept.dropped[:MAX_REASONS_IN_NOTE])))
    masked = int(state.get("secrets_masked", 0))
    if masked:
        notes.append(MASKED_NOTE.format(n=masked, s="" if masked == 1 else "s"))
    usage = Usage.model_validate(state["usage"])
    if not usage.priced:
        notes.append(UNPRICED_NOTE.format(model=state["model"]))
    done = state.get("finished") or {}
    return SpecialistResult(
        findings=findings,
        dropped=len(checked.dropped),
        dropped_reasons=checked.dropped,
        notes=notes,
        degraded=degraded,
        complete=bool(state.get("finished")),
        stop_reason=state.get("stop_reason"),
        usage=usage,
        model=state["model"],
        prompts=dict(state["prompts"]),
        turns=state["turns"],
        summary=str(done.get("summary", ""))[:4000],
        assumptions=[str(a)[:500] for a in done.get("assumptions", [])][:20],
        questions=[str(q)[:500] for q in done.get("questions", [])][:20],
        handoffs=[str(h)[:300] for h in done.get("handoffs", [])][:20],
        rollback_plan=str(done.get("rollback_plan", ""))[:3000],
        monitoring_plan=str(done.get("monitoring_plan", ""))[:3000],
        plan=list(state["plan"]),
        since=state.get("since"),
        carried=len(kept.findings),
        verdicts=[] if degraded else checked_verdicts(state, candidates),
    )
