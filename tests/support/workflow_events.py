"""GitHub Actions event files built from GitHub's published webhook examples (`@octokit/webhooks-examples`),
and `scale-review action` run as a subprocess against a FakeGitHub, as a workflow step runs it.

A workflow's event file is the webhook payload without `installation`; the examples are patched to name
the fake's repository, pull request and commits.

    payload = pr_event("opened", pull)                       # pull: the fake's Pull
    run = run_action(gh, "pull_request", payload, tmp_path, inputs={"fail-on": "high"})
    run.code, run.summary, run.stdout, run.stderr
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.contract import ROOT, examples, require_octokit
from tests.support.fakegithub import FakeGitHub, Pull

ACTIONS_APP_ID = 15368  # GitHub Actions on github.com: the App a workflow's GITHUB_TOKEN belongs to
ACTIONS_SLUG = "github-actions"
TIMEOUT = 180


def _example(event: str, action: str, *, with_pr: bool = False) -> dict[str, Any]:
    require_octokit()
    for payload in examples(event):
        if payload.get("action") == action:
            payload.pop("installation", None)  # a workflow's event file has none
            return payload
    raise LookupError(f"no {event}.{action} example in @octokit/webhooks-examples")


def _name_repo(obj: dict[str, Any], full_name: str) -> None:
    owner, name = full_name.split("/")
    obj["full_name"], obj["name"] = full_name, name
    obj.setdefault("owner", {})["login"] = owner


def pr_event(action: str, pull: Pull, repo: str, *, before: str | None = None, head_repo: str | None = None,
             sender: str = "alice") -> dict[str, Any]:
    """A `pull_request` event file for the fake's pull request (`head_repo`: a fork's owner/name)."""
    payload = _example("pull_request", action)
    _name_repo(payload["repository"], repo)
    pr = payload["pull_request"]
    pr.update(number=pull.number, state="open", draft=False)
    pr["head"]["sha"], pr["base"]["sha"] = pull.head_sha, pull.base_sha
    _name_repo(pr["base"]["repo"], repo)
    _name_repo(pr["head"]["repo"], head_repo or repo)
    payload["number"] = pull.number
    payload["sender"]["login"] = sender
    if action == "synchronize":
        payload["before"], payload["after"] = before or pull.base_sha, pull.head_sha
    return payload


def comment_event(body: str, number: int, repo: str, *, login: str, comment_id: int) -> dict[str, Any]:
    """An `issue_comment.created` event file for a comment on the fake's pull request."""
    payload = _example("issue_comment", "created")
    _name_repo(payload["repository"], repo)
    payload["issue"].update(number=number, pull_request={"url": f"https://api.github.com/repos/{repo}/pulls/{number}"})
    payload["comment"].update(id=comment_id, body=body, performed_via_github_app=None)
    payload["comment"]["user"].update(login=login, type="User")
    payload["sender"].update(login=login, type="User")
    return payload


@dataclass
class ActionRun:
    code: int
    stdout: str
    stderr: str
    summary: str
    workdir: Path


def workflow_env(gh: FakeGitHub, event: str, event_path: Path, workdir: Path, repo: str,
                 inputs: dict[str, str] | None = None, token: str | None = None) -> dict[str, str]:
    """The variables a runner gives a step, pointed at the fake (`GITHUB_API_URL`, `GITHUB_GRAPHQL_URL`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "ANTHROPIC_", "RUNNER_"))}
    if token is None:
        with gh.lock:
            token = gh.issue_token(gh.store.repo(*repo.split("/")).installation_id).token
    graphql = gh.origin + ("/api/graphql" if gh.prefix else "/graphql")
    env.update({
        "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": repo, "GITHUB_TOKEN": token, "GITHUB_API_URL": gh.url, "GITHUB_GRAPHQL_URL": graphql,
        "GITHUB_SERVER_URL": "https://github.example", "GITHUB_WORKSPACE": str(workdir / "workspace"),
        "GITHUB_STEP_SUMMARY": str(workdir / "summary.md"), "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_ACTOR": "alice", "RUNNER_TEMP": str(workdir / "temp"), "SCALE_REVIEW_LOG_LEVEL": "warning",
    })
    env.update({"INPUT_" + name.upper(): value for name, value in (inputs or {}).items()})
    return env


def run_action(gh: FakeGitHub, event: str, payload: dict[str, Any], workdir: Path, *, repo: str,
               inputs: dict[str, str] | None = None, args: tuple[str, ...] = (),
               env_update: dict[str, str] | None = None) -> ActionRun:
    """`python -m bot.cli action` in a subprocess, as the composite action's step runs it."""
    for sub in ("workspace", "temp"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    event_path = workdir / f"event-{len(list(workdir.glob('event-*.json')))}.json"
    event_path.write_text(json.dumps(payload))
    summary = workdir / "summary.md"
    summary.write_text("")
    env = workflow_env(gh, event, event_path, workdir, repo, inputs)
    env.update(env_update or {})
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "action", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    return ActionRun(proc.returncode, proc.stdout, proc.stderr, summary.read_text(), workdir)
