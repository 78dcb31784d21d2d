"""What a finished specialist review remembers for the next push, and when it may be reused.

The bot keeps no database of its own (design.md): the check run of a reviewed head carries, in a
hidden comment of its output text, the head it reviewed, the model and prompts used and the
specialist's validated findings. A follow-up push reads it back from the previous head's run and
the specialist reviews only the commits since (bot.app.review_flow). Only our App can write our check
runs, and what comes back is validated like any input: no readable memory means a full review.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

from pydantic import BaseModel, Field, ValidationError

from bot.core.model import Finding
from bot.core.verdicts import Verdict
from bot.specialist.outcome import SpecialistResult
from bot.specialist.prompts import load_prompt

VERSION = 1
PREFIX = f"<!-- scale-review:memory v{VERSION} "
SUFFIX = " -->"
MAX_CHARS = 60_000  # the check run's output text holds 65,535; the rest of the text is ours too
MAX_FINDINGS = 200
MAX_DECODED_BYTES = 2_000_000
_BLOCK = re.compile(re.escape(PREFIX) + r"([A-Za-z0-9+/=]{1,200000})" + re.escape(SUFFIX))
_SHA = re.compile(r"[0-9a-f]{40}")
# the prompts whose change makes earlier findings stale (the scope prompt differs by design)
STABLE_PROMPTS = ("system", "task")

WHY_NO_RUN = "the previous head {sha} has no completed review of ours"
WHY_NO_MEMORY = "the review of {sha} did not finish with the specialist (or predates incremental reviews)"
WHY_OTHER_HEAD = "the review found for {sha} describes another commit"
WHY_MODEL = "the model changed ({old} -> {new})"
WHY_PROMPTS = "the prompts changed ({old} -> {new})"


class ReviewMemory(BaseModel):
    """The specialist side of one reviewed head, as the next push needs it."""

    head_sha: str
    model: str
    prompts: dict[str, str] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    verdicts: list[Verdict] = Field(default_factory=list)  # on low-confidence analyzer findings (absent: none)


def remember(result: SpecialistResult | None, head_sha: str) -> ReviewMemory | None:
    """A memory only for a review the specialist finished: a partial one must not be built upon."""
    if result is None or not result.complete or result.degraded:
        return None
    return ReviewMemory(head_sha=head_sha, model=result.model, prompts=dict(result.prompts),
                        findings=list(result.findings), verdicts=list(result.verdicts))


def encode(memory: ReviewMemory, limit: int = MAX_CHARS) -> str | None:
    """The hidden block for the check run's text; without suggestions if it must; None if it cannot fit
    (then the next push gets a full review, which is slower but never wrong)."""
    for slim in (False, True):
        kept = memory if not slim else memory.model_copy(
            update={"findings": [f.model_copy(update={"suggestion": None}) for f in memory.findings]})
        raw = kept.model_dump_json(exclude_defaults=True).encode()
        block = PREFIX + base64.b64encode(zlib.compress(raw, 9)).decode() + SUFFIX
        if len(block) <= limit:
            return block
    return None


def decode(text: str | None) -> ReviewMemory | None:
    """The memory in a check run's text, or None when there is none or it does not validate."""
    match = _BLOCK.search(text or "")
    if match is None:
        return None
    try:
        unzip = zlib.decompressobj()
        raw = unzip.decompress(base64.b64decode(match.group(1), validate=True), MAX_DECODED_BYTES)
        if unzip.unconsumed_tail:
            return None
        memory = ReviewMemory.model_validate_json(raw)
    except (binascii.Error, zlib.error, ValidationError, ValueError):
        return None
    if not _SHA.fullmatch(memory.head_sha) or max(len(memory.findings), len(memory.verdicts)) > MAX_FINDINGS:
        return None
    return memory


def current_prompts(system: str = "system", task: str = "task") -> dict[str, str]:
    """The refs (id@version) of the prompts a review would use now, for `reuse_problem`."""
    return {"system": load_prompt(system).ref, "task": load_prompt(task).ref}


def reuse_problem(memory: ReviewMemory, before_sha: str, model: str, prompts: dict[str, str]) -> str | None:
    """Why `memory` cannot be the base of an incremental review now, or None when it can."""
    if memory.head_sha != before_sha:
        return WHY_OTHER_HEAD.format(sha=before_sha[:12])
    if memory.model != model:
        return WHY_MODEL.format(old=memory.model, new=model)
    old = [memory.prompts.get(k, "") for k in STABLE_PROMPTS]
    new = [prompts.get(k, "") for k in STABLE_PROMPTS]
    if old != new:
        return WHY_PROMPTS.format(old=", ".join(old), new=", ".join(new))
    return None
