"""Accepted risks, read back from the pull request's conversation (GitHub is the source of truth).

Two sources: `/scale-review accept <id> <reason>` comments (trusted only when their author has the
configured permission, checked by the caller), and the App's own comment written when someone
clicks the check run's "Accept risk" button (trusted when GitHub says our App wrote it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.core.commands import parse_command
from bot.core.model import Acceptance
from bot.render.sanitize import MARKER_PREFIX, one_line

ACCEPT_MARKER = MARKER_PREFIX + "accept by={login} ids={ids} -->"
ACCEPT_COMMENT = (
    "Risk accepted by @{login} from the check run's **Accept risk** button for {n} finding(s): {listing}.\n"
    "They no longer fail the `Scalability review` check.\n\n{marker}"
)
BUTTON_REASON = "accepted from the check run"
_MARKER_RE = re.compile(re.escape(MARKER_PREFIX) + r"accept by=([A-Za-z0-9-]{1,39}) ids=([A-Za-z0-9,_.:-]{1,4000}) -->")
MAX_IDS_PER_COMMENT = 200

PERMISSION_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}


def permits(have: str, needed: str) -> bool:
    """GitHub answers admin/write/read/none (maintain shows as write, triage as read)."""
    return PERMISSION_RANK.get(have, 0) >= PERMISSION_RANK.get(needed, PERMISSION_RANK["write"])


@dataclass(frozen=True)
class Claimed:
    """An accept command whose author's permission is not yet checked."""

    login: str
    finding_id: str
    reason: str


def acceptance_comment(login: str, ids: list[str]) -> str:
    ids = ids[:MAX_IDS_PER_COMMENT]
    listing = ", ".join(f"`{i}`" for i in ids)
    marker = ACCEPT_MARKER.format(login=login, ids=",".join(ids))
    return ACCEPT_COMMENT.format(login=login, n=len(ids), listing=listing, marker=marker)


def read_acceptances(comments: Iterable[dict[str, Any]], ours: Callable[[dict[str, Any]], bool],
                     ) -> tuple[list[Acceptance], list[Claimed]]:
    """(acceptances our App recorded, accept commands whose authors the caller must still authorise).
    `ours(comment)`: whether GitHub attributes the comment to our App (AppIdentity.wrote)."""
    trusted: list[Acceptance] = []
    claimed: list[Claimed] = []
    for c in comments:
        body = c.get("body") or ""
        user = c.get("user") or {}
        if ours(c):
            for match in _MARKER_RE.finditer(body):
                login, ids = match.group(1), match.group(2).split(",")
                trusted += [Acceptance(finding_id=i, by=login, reason=BUTTON_REASON) for i in ids if i]
            continue
        if user.get("type") == "Bot":
            continue
        cmd = parse_command(body)
        if cmd is not None and cmd.kind == "accept":
            claimed.append(Claimed(str(user.get("login", "")), cmd.finding_id, one_line(cmd.reason, 300)))
    return trusted, claimed


def merge(trusted: list[Acceptance], allowed: list[Claimed]) -> list[Acceptance]:
    """One acceptance per finding id: the first one recorded wins."""
    out: dict[str, Acceptance] = {}
    for a in trusted + [Acceptance(finding_id=c.finding_id, by=c.login, reason=c.reason) for c in allowed]:
        out.setdefault(a.finding_id, a)
    return list(out.values())
