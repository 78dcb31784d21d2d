"""The gate: validated findings + repo config (+ accepted risks) -> conclusion and a one-line verdict.

Computed by code only, never from model prose. The rules, in order:

Only the findings the change introduced are given here (pre-existing ones never gate), and only those
with a confidence of at least `gate.min_confidence` can block; lower ones are shown. The specialist's
verdicts are applied before (bot.core.verdicts): a low-confidence finding it confirmed arrives here raised
to `gate.min_confidence`; one it dismissed does not arrive; confident findings cannot be judged.

1. `failure` when an unaccepted, confident finding at or above `fail_on` stands. This holds even when the
   review was degraded: a problem that was found is real whether or not the rest could be checked.
2. `neutral` when the review could not run fully (`degraded` says why) and nothing fails:
   an incomplete review must not claim the change is safe, nor block it on what it did not see.
   `gate.incomplete: failure` makes it `failure` instead, for required checks.
3. `success` otherwise (findings below `fail_on`, or every blocking one accepted).

`fail_on` given as an argument (the CLI's `--fail-on`) overrides the repo config's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.core.model import Acceptance, Conclusion, Finding, Review, Severity
from bot.core.repo_config import RepoConfig

VERDICT_BLOCKED = "{n} at or above {level}: merge blocked"
VERDICT_BLOCKED_DEGRADED = "{n} at or above {level}: merge blocked (review incomplete: {why})"
VERDICT_DEGRADED = "review incomplete: {why}; {below}"
VERDICT_ACCEPTED = "accepted by {who}: {n} at or above {level}; nothing else blocks the merge"
VERDICT_CLEAN = "no findings at or above {level}"
VERDICT_BELOW = "{n} below {level}: merge not blocked"
VERDICT_UNSURE = "{n} at or above {level} with confidence below {confidence:.0%}: shown, merge not blocked"
DEGRADED_NOTE = "Review incomplete: {why}"


def _count(n: int, noun: str = "finding") -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def apply_acceptances(
    findings: Sequence[Finding], accepted: Iterable[Acceptance]
) -> tuple[list[Finding], list[Finding]]:
    """Split findings into (still open, accepted); an acceptance for an unknown id changes nothing."""
    accepted_ids = {a.finding_id for a in accepted}
    open_: list[Finding] = []
    done: list[Finding] = []
    for f in findings:
        (done if f.id in accepted_ids else open_).append(f)
    return open_, done


def _acceptors(accepted: Sequence[Acceptance], ids: set[str]) -> str:
    names: list[str] = []
    for a in accepted:
        who = "@" + a.by.lstrip("@")
        if a.finding_id in ids and who not in names:
            names.append(who)
    return ", ".join(names)


def decide(
    findings: list[Finding],
    config: RepoConfig,
    *,
    accepted: Sequence[Acceptance] = (),
    degraded: str | None = None,
    fail_on: Severity | None = None,
) -> tuple[Conclusion, str]:
    """The gate's conclusion and the one-line verdict that explains it."""
    level = fail_on or config.fail_on
    sure = config.gate.min_confidence
    open_, done = apply_acceptances(findings, accepted)
    blocking = [f for f in open_ if f.severity.at_least(level) and f.confidence >= sure]
    if blocking:
        template = VERDICT_BLOCKED_DEGRADED if degraded else VERDICT_BLOCKED
        return Conclusion.failure, template.format(n=_count(len(blocking)), level=level.value, why=degraded)
    if degraded:
        below = VERDICT_BELOW.format(n=_count(len(open_)), level=level.value) if open_ else "no findings"
        return Conclusion(config.gate.incomplete), VERDICT_DEGRADED.format(why=degraded, below=below)
    accepted_blocking = [f for f in done if f.severity.at_least(level) and f.confidence >= sure]
    if accepted_blocking:
        who = _acceptors(accepted, {f.id for f in accepted_blocking})
        return Conclusion.success, VERDICT_ACCEPTED.format(
            who=who, n=_count(len(accepted_blocking)), level=level.value
        )
    unsure = [f for f in open_ if f.severity.at_least(level)]
    if unsure:
        return Conclusion.success, VERDICT_UNSURE.format(n=_count(len(unsure)), level=level.value, confidence=sure)
    if open_:
        return Conclusion.success, VERDICT_BELOW.format(n=_count(len(open_)), level=level.value)
    return Conclusion.success, VERDICT_CLEAN.format(level=level.value)


def finalize(
    review: Review, config: RepoConfig, *, degraded: str | None = None, fail_on: Severity | None = None
) -> Review:
    """The review with conclusion, verdict and fail_on filled in (findings sorted most severe first).

    `degraded` (why the review could not run fully) also becomes a note unless one says it already.
    """
    level = fail_on or config.fail_on
    conclusion, verdict = decide(
        review.findings, config, accepted=review.accepted, degraded=degraded, fail_on=level
    )
    notes = list(review.notes)
    if degraded and not any(degraded in n for n in notes):
        notes.append(DEGRADED_NOTE.format(why=degraded))
    ordered = sorted(review.findings, key=lambda f: (-f.severity.rank, f.path, f.start_line, f.id))
    return review.model_copy(
        update={"conclusion": conclusion, "verdict": verdict, "fail_on": level, "notes": notes, "findings": ordered,
                "min_confidence": config.gate.min_confidence}
    )
