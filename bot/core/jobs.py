"""What a handler decides for a delivery: a Job for the worker, or Ignored with a reason.

A Job carries IDs only (installation, repo, PR, head sha, delivery id, the command): never a
token or a payload. It crosses the durable queue as a plain dict (`to_dict` / `from_dict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bot.core.commands import Command

JobKind = Literal["review", "command", "check_action", "reply"]
Trigger = Literal["pull_request", "issue_comment", "check_run", "check_suite", "replay", "pull_request_review_comment"]


@dataclass(frozen=True)
class Job:
    kind: JobKind
    trigger: Trigger
    delivery_id: str
    installation_id: int
    repo: str  # owner/name
    number: int
    head_sha: str = ""  # empty when the payload has none (comments): the worker reads the PR
    before_sha: str = ""  # synchronize: the head before the push (an incremental review starts there)
    draft: bool = False
    only_if_new: bool = False  # check_suite.requested: skip when a run for this sha exists
    actor: str = ""  # who asked (comment author, button clicker)
    comment_id: int = 0
    command: Command | None = None
    check_run_id: int = 0
    action: str = ""  # check_run requested_action identifier
    body_key: str = ""  # hash of the delivery's event and body: the receiver refuses its replay (replay_guard)
    base_sha: str = ""  # reply: the PR's base at the time (the repo config is read there)
    reply_to: int = 0  # reply: the inline comment it answers (in_reply_to_id)
    reply_text: str = ""  # reply: the reply's text, bounded (bot.core.reply_words.MAX_REPLY_CHARS)

    @property
    def partition_key(self) -> str:
        """One review at a time per pull request."""
        return f"{self.repo}#{self.number}"

    @property
    def reply_key(self) -> str:
        """A reply's second idempotency key: its comment (a redelivery under a new id is not answered twice)."""
        return f"reply:{self.repo}:{self.comment_id}"

    @property
    def installation_key(self) -> str:
        return str(self.installation_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        values = dict(data)
        cmd = values.get("command")
        if isinstance(cmd, dict):
            values["command"] = Command(**{**cmd, "areas": tuple(cmd.get("areas", ())), "words": ()})
        return cls(**values)


@dataclass(frozen=True)
class Ignored:
    """Nothing to do; `reason` goes back to GitHub in the 202 body and into the logs."""

    reason: str
    status: Literal["ignored", "logged", "pong"] = "ignored"
    fields: dict[str, Any] = field(default_factory=dict, compare=False)


Decision = Job | Ignored
