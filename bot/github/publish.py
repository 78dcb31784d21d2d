"""Publishing a review: one PR review per run with inline comments, plus the check run (re-exported
from `checks`).

Inline comments sit only on lines the diff shows (validated against the ChangeSet, so GitHub never
answers 422), at most 30 per review call; the rest are summarised in the review body. Each finding
carries its hidden marker, and the review body repeats the markers of every finding it covers, so
listing our reviews once tells what is already on the PR: a finding is never posted twice, and a
retried or resumed post finds its own review instead of creating a second one. "Our" reviews are the
ones GitHub attributes to our App's bot user (identity.py), never any review carrying the marker text.
Never APPROVE.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pydantic import BaseModel, Field

from bot.core.diff import ChangeSet
from bot.core.model import Finding, Review
from bot.github.checks import (
    CHECK_NAME,
    complete_check_run,
    conclude_check_run,
    conclude_superseded,
    start_check_run,
    update_check_progress,
)
from bot.github.client import GitHubGateway
from bot.github.retry import GitHubError
from bot.render.comment import FINDING_ID_PATTERN, find_markers, marker, render_inline_comment
from bot.render.sanitize import MARKER_PREFIX, one_line

__all__ = [
    "CHECK_NAME", "PostResult", "complete_check_run", "conclude_check_run", "conclude_superseded",
    "outdated_findings", "post_review", "start_check_run", "update_check_progress",
]

MAX_INLINE = 30
LISTING_LIMITS = (100, 40, 10, 0)  # rows per listing, tried in turn until the body fits
MAX_BODY_CHARS = 65_000  # GitHub refuses bodies over 65,536 characters; the fallback note needs room
REVIEW_MARKER = MARKER_PREFIX + "review={key} -->"
_MARKABLE = re.compile(FINDING_ID_PATTERN)  # ids that cannot carry a marker stay in the check run only
_REVIEW_MARKER_RE = re.compile(re.escape(MARKER_PREFIX) + r"review=([0-9a-f:]+) -->")
BODY_HEADER = "**Scalability review** of {sha}: {n} new finding(s). The check run has the full summary."
BODY_INLINE = "{n} are commented inline below."
BODY_MORE = "#### More findings (over the {limit} inline comments one review may carry)"
BODY_OUTSIDE = "#### Findings outside the lines this diff shows"
BODY_ROW = "- **{severity}** {title} — `{path}:{start}-{end}` ({id})"
BODY_CUT = "- … {n} more: see the check run."
BODY_FALLBACK = "_GitHub refused the inline comments; every finding is listed here instead._"
ALLOWED_EVENTS = ("COMMENT", "REQUEST_CHANGES")


class PostResult(BaseModel):
    """What `post_review` did. `existing_ids`: finding markers already on the PR before this post."""

    review_id: int | None = None
    inline: list[str] = Field(default_factory=list)
    in_body: list[str] = Field(default_factory=list)
    outside_diff: list[str] = Field(default_factory=list)
    already_posted: list[str] = Field(default_factory=list)
    existing_ids: list[str] = Field(default_factory=list)
    reused: bool = False  # an identical review of ours was already there (retry or resumed run)


def outdated_findings(existing_ids: set[str] | list[str], review: Review) -> list[str]:
    """Finding ids posted earlier on the PR that this review no longer finds ("fixed by a later push")."""
    current = {f.id for f in review.findings}
    return sorted(set(existing_ids) - current)


def _our_reviews(gw: GitHubGateway, repo: str, number: int) -> list[dict[str, Any]]:
    """Reviews GitHub attributes to our App (its bot user) that carry our review marker: a marker in
    anyone else's review is only text and counts for nothing."""
    me = gw.identity()
    reviews = gw.paginate(f"/repos/{repo}/pulls/{number}/reviews", max_pages=10)
    return [r for r in reviews if me.wrote(r) and _REVIEW_MARKER_RE.search(r.get("body") or "")]


def _anchor(f: Finding, changes: ChangeSet) -> tuple[Finding, dict[str, Any]] | None:
    """The finding (suggestion dropped if its lines had to be clamped) and its comment anchor."""
    fc = changes.get(f.path)
    if fc is None or not fc.reviewable:
        return None
    span = fc.anchor(f.start_line, f.end_line)
    if span is None or not fc.can_comment_range(*span):
        return None
    start, end = span
    if (start, end) != (f.start_line, f.end_line) and f.suggestion is not None:
        f = f.model_copy(update={"suggestion": None})
    where: dict[str, Any] = {"path": f.path, "line": end, "side": "RIGHT"}
    if start < end:
        where.update(start_line=start, start_side="RIGHT")
    return f, where


def _row(f: Finding) -> str:
    return BODY_ROW.format(severity=f.severity.value, title=one_line(f.title, 160), path=one_line(f.path, 200),
                           start=f.start_line, end=f.end_line, id=f.id)


def _listing(heading: str, findings: list[Finding], limit: int) -> list[str]:
    if not findings:
        return []
    rows = [_row(f) for f in findings[:limit]]
    if len(findings) > limit:
        rows.append(BODY_CUT.format(n=len(findings) - limit))
    return ["", heading, *rows]


def _body(head_sha: str, key: str, inline: list[Finding], more: list[Finding], outside: list[Finding]) -> str:
    """The review body: counts, the findings not commented inline, and the markers of all it lists.

    Listings shrink until the body fits GitHub's limit; unlisted findings carry no marker, so a
    later run can still post them."""
    body = ""
    for limit in LISTING_LIMITS:
        total = len(inline) + len(more) + len(outside)
        lines = [BODY_HEADER.format(sha=head_sha[:12], n=total)]
        if inline:
            lines.append(BODY_INLINE.format(n=len(inline)))
        lines += _listing(BODY_MORE.format(limit=MAX_INLINE), more, limit)
        lines += _listing(BODY_OUTSIDE, outside, limit)
        listed = inline + more[:limit] + outside[:limit]
        lines += ["", REVIEW_MARKER.format(key=key), *(marker(f.id) for f in listed)]
        body = "\n".join(lines)
        if len(body) <= MAX_BODY_CHARS:
            break
    return body


def _review_key(head_sha: str, ids: list[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]
    return f"{head_sha}:{digest}"


def _split(review: Review, changes: ChangeSet, known: set[str]) -> tuple[list[tuple[Finding, dict[str, Any]]],
                                                                         list[Finding], list[Finding]]:
    accepted = {a.finding_id for a in review.accepted}
    unique = {f.id: f for f in reversed(review.findings)}  # one comment per id (the first one wins)
    fresh = [f for f in unique.values()
             if f.id not in known and f.id not in accepted and _MARKABLE.fullmatch(f.id)]
    fresh.sort(key=lambda f: (-f.severity.rank, f.path, f.start_line))
    anchored: list[tuple[Finding, dict[str, Any]]] = []
    outside: list[Finding] = []
    for f in fresh:
        placed = _anchor(f, changes)
        if placed is None:
            outside.append(f)
        else:
            anchored.append(placed)
    more = [f for f, _ in anchored[MAX_INLINE:]]
    return anchored[:MAX_INLINE], more, outside


def post_review(gw: GitHubGateway, repo: str, number: int, head_sha: str, review: Review, changes: ChangeSet,
                *, event: str = "COMMENT") -> PostResult:
    """Post one review of `head_sha` with the findings not yet on the PR (nothing new: no review)."""
    if event not in ALLOWED_EVENTS:
        event = "COMMENT"
    ours = _our_reviews(gw, repo, number)
    known: set[str] = set()
    for r in ours:
        known |= find_markers(r.get("body") or "")
    inline, more, outside = _split(review, changes, known)
    result = PostResult(existing_ids=sorted(known),
                        already_posted=sorted({f.id for f in review.findings} & known))
    if not (inline or more or outside):
        return result
    ids = [f.id for f, _ in inline] + [f.id for f in more + outside]
    key = _review_key(head_sha, ids)
    for r in ours:
        if REVIEW_MARKER.format(key=key) in (r.get("body") or ""):
            return result.model_copy(update={"review_id": int(r["id"]), "reused": True})
    comments = [{**where, "body": render_inline_comment(f)} for f, where in inline]
    body = _body(head_sha, key, [f for f, _ in inline], more, outside)
    posted = _post(gw, repo, number, head_sha, key, body, comments, event)
    if posted is None:  # GitHub refused an anchor after all: everything goes in the body instead
        flat = [f for f, _ in inline] + more
        body = BODY_FALLBACK + "\n\n" + _body(head_sha, key, [], flat, outside)
        posted = _post(gw, repo, number, head_sha, key, body, [], event)
        if posted is None:
            raise GitHubError(422, "GitHub refused a review without inline comments")
        return result.model_copy(update={"review_id": posted, "in_body": [f.id for f in flat],
                                         "outside_diff": [f.id for f in outside]})
    return result.model_copy(update={"review_id": posted, "inline": [f.id for f, _ in inline],
                                     "in_body": [f.id for f in more], "outside_diff": [f.id for f in outside]})


def _post(gw: GitHubGateway, repo: str, number: int, head_sha: str, key: str, body: str,
          comments: list[dict[str, Any]], event: str) -> int | None:
    """The new review's id; None when GitHub answered 422 and there were inline comments."""
    payload = {"commit_id": head_sha, "event": event, "body": body, "comments": comments}
    tag = REVIEW_MARKER.format(key=key)

    def existing() -> dict[str, Any] | None:
        return next((r for r in _our_reviews(gw, repo, number) if tag in (r.get("body") or "")), None)

    try:
        data = gw.write_carefully("POST", f"/repos/{repo}/pulls/{number}/reviews", payload, already_done=existing)
    except GitHubError as err:
        if err.status == 422 and comments:
            return None
        raise
    return int(data["id"])
