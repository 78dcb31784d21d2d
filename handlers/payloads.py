"""The parts of a webhook delivery the handlers read, typed at the edge (unknown fields ignored).

One model for every event: the receiver parses the raw body once, in `Envelope.parse`.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

_SHA = re.compile(r"[0-9a-f]{40}")


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(_Part):
    login: str = ""
    type: str = ""  # User | Bot | Organization


class App(_Part):
    id: int = 0
    slug: str | None = None
    client_id: str | None = None


class Installation(_Part):
    id: int = 0
    account: Account | None = None


class Repository(_Part):
    full_name: str = ""


class GitRef(_Part):
    sha: str = ""
    ref: str = ""
    repo: Repository | None = None


class PullRequest(_Part):
    number: int = 0
    state: str = "open"
    draft: bool | None = False
    head: GitRef = Field(default_factory=GitRef)
    base: GitRef = Field(default_factory=GitRef)


class IssuePullLink(_Part):
    url: str | None = None


class Issue(_Part):
    number: int = 0
    state: str = "open"
    pull_request: IssuePullLink | None = None


class Comment(_Part):
    id: int = 0
    body: str | None = ""
    user: Account = Field(default_factory=Account)
    performed_via_github_app: App | None = None
    in_reply_to_id: int | None = None  # pull_request_review_comment: the comment this one answers
    path: str | None = None


class PullNumber(_Part):
    number: int = 0


class CheckRun(_Part):
    id: int = 0
    name: str = ""
    head_sha: str = ""
    external_id: str | None = None
    app: App | None = None
    pull_requests: list[PullNumber] = Field(default_factory=list)


class CheckSuite(_Part):
    id: int = 0
    head_sha: str = ""
    before: str | None = ""  # the head before the push that created this suite (zeros for a new branch)
    app: App | None = None
    pull_requests: list[PullNumber] = Field(default_factory=list)


class RequestedAction(_Part):
    identifier: str = ""


class Envelope(_Part):
    """Every field a handler may need, from any event; absent ones keep their defaults."""

    action: str = ""
    before: str | None = ""  # pull_request.synchronize: the head sha before the push
    installation: Installation | None = None
    repository: Repository | None = None
    sender: Account | None = None
    number: int = 0
    pull_request: PullRequest | None = None
    issue: Issue | None = None
    comment: Comment | None = None
    check_run: CheckRun | None = None
    check_suite: CheckSuite | None = None
    requested_action: RequestedAction | None = None
    zen: str | None = None
    hook_id: int = 0
    repositories_added: list[Repository] = Field(default_factory=list)
    repositories_removed: list[Repository] = Field(default_factory=list)

    @property
    def installation_id(self) -> int:
        return self.installation.id if self.installation else 0

    @property
    def repo(self) -> str:
        return self.repository.full_name if self.repository else ""

    @property
    def pushed_from(self) -> str:
        """The commit a push moved the head from (synchronize, or the check suite of a push); "" when the
        payload has none, a new branch (zeros) or anything but a 40-hex sha."""
        before = self.check_suite.before if self.check_suite else self.before
        return before if before and _SHA.fullmatch(before) and before.strip("0") else ""

    @property
    def sender_login(self) -> str:
        return self.sender.login if self.sender else ""

    @classmethod
    def parse(cls, body: bytes) -> Envelope:
        """Parse the raw body; raises pydantic.ValidationError when it is not a JSON object of this shape."""
        return cls.model_validate_json(body)
