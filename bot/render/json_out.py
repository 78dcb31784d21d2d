"""`--format json`: one object, exactly design.md's contract plus a few extra keys.

Contract keys (never removed): conclusion, summary, findings (each `Finding.json_dict()`), stats.
`summary` is the same Markdown the check run carries. Extras: title, verdict, fail_on, min_confidence,
coverage, notes, accepted, and `pre_existing`: findings (same shape as `findings`) that were already at
the base in statements the change touches; never posted inline, never failing the check. Each finding
also carries `path_kind` (request_handler, background_task, migration, command, test, seed_script,
startup, library), null when unknown, and `verdict` / `verdict_reason`: "confirmed" or "dismissed" by the specialist
with its reason, null when it did not judge the finding, and `also_at`: the other lines of the same file where the
same rule found the same problem, folded into this one comment (empty for most findings).
`dismissed`: low-confidence analyzer findings the
specialist dismissed (same shape, `verdict` "dismissed"); never posted inline, never failing the check.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.model import Review
from bot.render.markdown import render_summary, render_title


def review_dict(review: Review) -> dict[str, Any]:
    """The JSON object as a dict (for callers that embed it)."""
    return {
        "conclusion": review.conclusion.value,
        "summary": render_summary(review),
        "findings": [f.json_dict() for f in review.findings],
        "pre_existing": [f.json_dict() for f in review.pre_existing],
        "dismissed": [f.json_dict() for f in review.dismissed],
        "stats": review.stats,
        "title": render_title(review),
        "verdict": review.verdict,
        "fail_on": review.fail_on.value,
        "min_confidence": review.min_confidence,
        "coverage": [
            {"path": c.path, "status": c.status.value, "reason": c.reason, "analyzers": list(c.analyzers)}
            for c in review.coverage
        ],
        "notes": list(review.notes),
        "accepted": [{"finding_id": a.finding_id, "by": a.by, "reason": a.reason} for a in review.accepted],
    }


def render_json(review: Review) -> str:
    """The review as one JSON object (UTF-8 text, stable key order, ends with a newline)."""
    return json.dumps(review_dict(review), indent=2, ensure_ascii=False, default=str) + "\n"
