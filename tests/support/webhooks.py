"""Webhook payload builders and signing shared by the receiver, handler and end-to-end tests.

Shapes follow GitHub's documented payloads (only the fields the App reads, plus padding where a
test needs a realistic size).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from bot.core.security import sign

REPO = "octo/shop"
INSTALLATION = 4242


def _repo(full_name: str = REPO) -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {"id": 1, "full_name": full_name, "name": name, "owner": {"login": owner, "type": "Organization"}}


def pull_request(action: str = "opened", *, number: int = 7, head: str = "a" * 40, base: str = "b" * 40,
                 draft: bool = False, state: str = "open", repo: str = REPO, pad: int = 0,
                 before: str | None = None) -> dict[str, Any]:
    body = "x" * pad if pad else "Adds the orders endpoint"
    extra: dict[str, Any] = {"before": before, "after": head} if before is not None else {}
    return {
        **extra,
        "action": action,
        "number": number,
        "pull_request": {
            "number": number, "state": state, "draft": draft, "title": "Orders", "body": body,
            "head": {"sha": head, "ref": "feature", "repo": _repo(repo)},
            "base": {"sha": base, "ref": "main", "repo": _repo(repo)},
            "user": {"login": "alice", "type": "User"},
        },
        "repository": _repo(repo),
        "installation": {"id": INSTALLATION},
        "sender": {"login": "alice", "type": "User"},
    }


def issue_comment(body: str, *, number: int = 7, login: str = "maintainer", user_type: str = "User",
                  on_pr: bool = True, action: str = "created", comment_id: int = 901,
                  via_app: int | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"number": number, "state": "open", "title": "Orders"}
    if on_pr:
        issue["pull_request"] = {"url": f"https://api.github.com/repos/{REPO}/pulls/{number}"}
    comment: dict[str, Any] = {"id": comment_id, "body": body, "user": {"login": login, "type": user_type},
                               "author_association": "MEMBER"}
    comment["performed_via_github_app"] = {"id": via_app, "slug": "scale-review"} if via_app else None
    return {"action": action, "issue": issue, "comment": comment, "repository": _repo(),
            "installation": {"id": INSTALLATION}, "sender": {"login": login, "type": user_type}}


def pull_request_review_comment(body: str, *, comment_id: int, in_reply_to: int | None, number: int = 7,
                                login: str = "maintainer", user_type: str = "User", action: str = "created",
                                head: str = "a" * 40, base: str = "b" * 40, path: str = "app/orders.py",
                                via_app: int | None = None) -> dict[str, Any]:
    """A comment in a PR's review thread (`in_reply_to`: the comment it answers; None starts a thread)."""
    comment: dict[str, Any] = {
        "id": comment_id, "body": body, "user": {"login": login, "type": user_type}, "path": path,
        "in_reply_to_id": in_reply_to, "author_association": "MEMBER", "diff_hunk": "@@ -1 +1 @@",
        "performed_via_github_app": {"id": via_app, "slug": "scale-review"} if via_app else None,
    }
    pr = {"number": number, "state": "open", "draft": False, "head": {"sha": head, "ref": "feature"},
          "base": {"sha": base, "ref": "main"}}
    return {"action": action, "comment": comment, "pull_request": pr, "repository": _repo(),
            "installation": {"id": INSTALLATION}, "sender": {"login": login, "type": user_type}}


def check_run(action: str = "rerequested", *, identifier: str = "", number: int | None = 7,
              head: str = "a" * 40, name: str = "Scalability review", run_id: int = 55,
              external_id: str | None = None, app_id: int = 1) -> dict[str, Any]:
    """`app_id`: the App that created the run (the receiver ignores runs of other Apps)."""
    prs = [{"number": number, "head": {"sha": head}}] if number else []
    payload: dict[str, Any] = {
        "action": action,
        "check_run": {"id": run_id, "name": name, "head_sha": head, "external_id": external_id,
                      "app": {"id": app_id, "slug": "scale-review"}, "pull_requests": prs, "status": "completed"},
        "repository": _repo(), "installation": {"id": INSTALLATION}, "sender": {"login": "maintainer"},
    }
    if identifier:
        payload["requested_action"] = {"identifier": identifier}
    return payload


def check_suite(action: str = "rerequested", *, number: int | None = 7, head: str = "a" * 40,
                before: str | None = None) -> dict[str, Any]:
    prs = [{"number": number}] if number else []
    suite = {"id": 77, "head_sha": head, "after": head, "pull_requests": prs,
             **({"before": before} if before is not None else {})}
    return {"action": action, "check_suite": suite,
            "repository": _repo(), "installation": {"id": INSTALLATION}, "sender": {"login": "maintainer"}}


def installation(action: str = "created") -> dict[str, Any]:
    return {"action": action, "installation": {"id": INSTALLATION, "account": {"login": "octo"}},
            "repositories_added": [_repo()], "sender": {"login": "octo-admin"}}


def ping() -> dict[str, Any]:
    return {"zen": "Keep it logically awesome.", "hook_id": 12, "hook": {"type": "App", "app_id": 1}}


def signed(event: str, payload: dict[str, Any] | bytes, secret: bytes, *, delivery: str | None = None
           ) -> tuple[bytes, dict[str, str]]:
    """The body and headers GitHub would send."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
    }
    return body, headers
