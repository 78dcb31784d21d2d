"""The thread under one of our inline comments: read the comment a reply answers, and answer in that thread.

A thread is ours only when GitHub attributes its first comment to our App (identity.wrote) AND that comment
carries a finding marker: marker text in anyone else's comment counts for nothing. What the comment says about
its finding (rule, severity, title) is read back from the footer and heading `bot.render.comment` wrote.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from bot.github.client import GitHubGateway
from bot.render.comment import SEVERITY_BADGE, find_markers
from bot.render.sanitize import MARKER_PREFIX, clip

MAX_REPLY_BODY = 65_000
REPLY_MARKER = MARKER_PREFIX + "reply-to={comment_id} -->"
_FOOTER = re.compile(r"<sub>scale-review · `([^`]{1,80})` · ([a-z_]{1,40}) · confidence")
_TITLE = re.compile(r"^\*\*(.{1,40}?) · (.{1,300})\*\*$", re.MULTILINE)
_BADGES = {badge: sev.value for sev, badge in SEVERITY_BADGE.items()}


class Thread(BaseModel):
    """Our inline comment a reply answers: the finding it is about and where it sits."""

    comment_id: int
    finding_id: str
    rule: str
    category: str
    severity: str
    title: str
    body: str
    path: str
    start_line: int
    end_line: int
    commit_id: str
    diff_hunk: str = ""


def read_thread(gw: GitHubGateway, repo: str, comment_id: int) -> tuple[Thread | None, str]:
    """(our thread, "") or (None, why it is not one of ours)."""
    data: dict[str, Any] = gw.get(f"/repos/{repo}/pulls/comments/{comment_id}")
    if data.get("in_reply_to_id"):  # GitHub points replies at the thread's first comment; be safe anyway
        data = gw.get(f"/repos/{repo}/pulls/comments/{int(data['in_reply_to_id'])}")
    if not gw.identity().wrote(data):
        return None, "the reply answers a comment the App did not write"
    body = str(data.get("body") or "")
    ids = sorted(find_markers(body))
    if len(ids) != 1:
        return None, "the comment answered carries no finding marker"
    footer = _FOOTER.search(body)
    title = _TITLE.search(body)
    end = int(data.get("original_line") or data.get("line") or 1)
    start = int(data.get("original_start_line") or data.get("start_line") or end)
    source, category = (footer.group(1), footer.group(2)) if footer else ("unknown", "other")
    return Thread(  # the rule as bot.review.suppressions.rule_of names it
        comment_id=int(data["id"]), finding_id=ids[0],
        rule=f"{source}:{category}" if source == "specialist" else source, category=category,
        severity=_BADGES.get(title.group(1), "medium") if title else "medium",
        title=title.group(2) if title else "", body=body, path=str(data.get("path") or ""),
        start_line=min(start, end), end_line=max(start, end),
        commit_id=str(data.get("original_commit_id") or data.get("commit_id") or ""),
        diff_hunk=str(data.get("diff_hunk") or ""),
    ), ""


def reply_in_thread(gw: GitHubGateway, repo: str, number: int, thread_comment_id: int, reply_id: int,
                    text: str) -> int:
    """Answer in the thread (once per reply: the hidden marker names the reply answered)."""
    tag = REPLY_MARKER.format(comment_id=reply_id)
    body = clip(text, MAX_REPLY_BODY - len(tag) - 2) + "\n\n" + tag
    path = f"/repos/{repo}/pulls/{number}/comments/{thread_comment_id}/replies"

    def posted() -> dict[str, Any] | None:
        me = gw.identity()
        comments = gw.paginate(f"/repos/{repo}/pulls/{number}/comments", max_pages=10)
        return next((c for c in comments if me.wrote(c) and tag in (c.get("body") or "")), None)

    return int(gw.write_carefully("POST", path, {"body": body}, already_done=posted)["id"])
