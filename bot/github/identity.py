"""Who we are on GitHub, to tell our own reviews, comments and check runs from anyone else's.

A hidden marker is only text: another App (or a person) can copy it. What another App cannot copy is
GitHub's own attribution: a check run's `app`, a comment's `performed_via_github_app`, and the author
of a review, which for an App is its bot user `<slug>[bot]` (reviews carry no App field). The slug
comes from `GET /app` (App JWT), asked once per process and cached (`IdentityCache`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AppIdentity:
    app_id: str  # the numeric id
    client_id: str
    slug: str

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"

    def is_app(self, app: Any) -> bool:
        """Whether an `app` / `performed_via_github_app` object of GitHub's names this App."""
        if not isinstance(app, dict):
            return False
        return str(app.get("id") or "") == self.app_id or (bool(self.client_id)
                                                            and app.get("client_id") == self.client_id)

    def wrote(self, item: dict[str, Any]) -> bool:
        """A review or comment GitHub attributes to this App: written by our bot user, and, where GitHub
        says which App acted (`performed_via_github_app`: comments), by this App."""
        user = item.get("user") or {}
        if user.get("type") != "Bot" or str(user.get("login", "")).lower() != self.bot_login.lower():
            return False
        via = item.get("performed_via_github_app")
        return via is None or self.is_app(via)

    def owns_run(self, run: dict[str, Any]) -> bool:
        """A check run this App created."""
        return self.is_app(run.get("app"))


GITHUB_ACTIONS_SLUG = "github-actions"


@dataclass(frozen=True)
class WorkflowIdentity(AppIdentity):
    """GitHub Actions, the App a workflow's `GITHUB_TOKEN` belongs to (check runs name it in `app`, comments
    and reviews are by `github-actions[bot]`). Known by its slug: its numeric id differs on GitHub
    Enterprise Server, and `GET /app` needs an App JWT a workflow does not have. Every workflow of the
    repository writes as this App, so "ours" in a workflow means "written with a workflow token": the
    hidden markers and the check run's name still tell scale-review's work from other steps'."""

    app_id: str = ""
    client_id: str = ""
    slug: str = GITHUB_ACTIONS_SLUG

    def is_app(self, app: Any) -> bool:
        return isinstance(app, dict) and str(app.get("slug") or "") == self.slug


class IdentityCache:
    """The App's identity, fetched at most once per process (thread-safe); `known` skips the fetch."""

    def __init__(self, known: AppIdentity | None = None) -> None:
        self._identity: AppIdentity | None = known
        self._lock = threading.Lock()

    def get(self, fetch: Callable[[], AppIdentity]) -> AppIdentity:
        with self._lock:
            if self._identity is None:
                self._identity = fetch()
            return self._identity
