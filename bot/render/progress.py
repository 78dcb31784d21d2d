"""The in-progress check run's summary while the specialist works: its plan, as it changes.

The plan's steps are model text, so they are neutralised like every other field a review posts.
"""

from __future__ import annotations

from bot.render.sanitize import neutralize, one_line

PROGRESS = "Reviewing `{sha}`: the specialist is on turn {turn} of at most {max_turns}. Its plan:\n\n{steps}"
STEP = {"done": "- [x] {step}", "in_progress": "- [ ] **{step}** (now)", "pending": "- [ ] {step}"}
MAX_STEPS = 20
MAX_STEP_CHARS = 200


def render_progress(head_sha: str, plan: list[dict[str, str]], turn: int, max_turns: int) -> str:
    """The plan as a checklist (at most MAX_STEPS steps), with the turn the specialist is on."""
    rows = [STEP.get(p.get("status", "pending"), STEP["pending"]).format(
        step=neutralize(one_line(str(p.get("step", "")), MAX_STEP_CHARS))) for p in plan[:MAX_STEPS]]
    if len(plan) > MAX_STEPS:
        rows.append(f"- … {len(plan) - MAX_STEPS} more")
    return PROGRESS.format(sha=head_sha[:12], turn=turn, max_turns=max_turns, steps="\n".join(rows))
