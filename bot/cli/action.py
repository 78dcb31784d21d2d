"""`scale-review action`: the review as a step of a GitHub Actions workflow (`action.yml` runs it).

The event file goes through the App's own handlers and durable review flow, in this process, on the
embedded SQLite store (a fresh file under `RUNNER_TEMP`), authenticated with the workflow's token
instead of an installation token: the same check run, inline review, incremental follow-ups and
`/scale-review` commands (permission checked through the API). Where the token may not write (a fork's
`pull_request`, Dependabot's, or `mode: summary`) it runs the static review read-only and publishes
nothing. A fork's code never reaches the model. Every run writes a short job summary.

Exit codes: 0 done (the gate passed, or `fail-on` is `never`), 1 the gate `fail-on` asked for failed or
could not be decided, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot import __version__
from bot.cli.action_inputs import ActionInputs, WorkflowEnv, add_input_flags, read_inputs, read_workflow_env
from bot.core.model import Conclusion, Review, Severity
from bot.render.job_summary import JobReport, render_job_summary

EXIT_OK, EXIT_GATE, EXIT_USAGE = 0, 1, 2
EVENTS = {"pull_request": "pull_request", "pull_request_target": "pull_request", "issue_comment": "issue_comment"}
ACTION_INSTALLATION = 1  # jobs carry an installation id; in a workflow the token stands for it
PROBLEM = "::error title=scale-review::{problem}"
UNREADABLE_EVENT = "cannot read the event file {path}: {error}"
UNSUPPORTED_EVENT = ("event '{event}' is not reviewed: run this action on pull_request, pull_request_target "
                     "or issue_comment")
FORK_READ_ONLY = ("this pull request comes from a fork ({head}): GitHub gives its `pull_request` workflow a "
                  "read-only token and no secrets, so nothing was posted to the pull request and the model did "
                  "not run. The static review is here{sarif}.")
DEPENDABOT_READ_ONLY = ("Dependabot's pull requests get a read-only token and no secrets on `pull_request`, so "
                        "nothing was posted and the model did not run. The static review is here{sarif}.")
SUMMARY_MODE = "`mode: summary` publishes nothing; the static review is here{sarif}."
SARIF_TOO = " and in the SARIF file"
COMMANDS_NEED_WRITES = "comment commands publish their result; with `mode: summary` nothing is published"
NOTICE = "::notice title=scale-review::{text}"
WARNING = "::warning title=scale-review::{text}"
PERMISSION_HINT = (" (give the job `permissions: checks: write, pull-requests: write, contents: read`; a fork's "
                   "`pull_request` gets a read-only token, which this action detects by itself)")
LOG_LINE = "scale-review: {text}"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._/-]")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("action", help="review the pull request of a GitHub Actions workflow run")
    add_input_flags(p)
    p.set_defaults(func=cmd_action)


def cmd_action(args: argparse.Namespace) -> int:
    problems: list[str] = []
    wf = read_workflow_env(os.environ, problems)
    inputs = read_inputs(args, os.environ, problems)
    payload = _load_event(wf, problems) if not problems else {}
    if problems:
        for problem in problems:
            print(PROBLEM.format(problem=_plain(problem)), file=sys.stderr)
        if wf.step_summary:
            write_summary(wf, JobReport(mode="not run", version=__version__, detail="; ".join(problems)))
        return EXIT_USAGE
    event = EVENTS.get(wf.event_name)
    why = read_only_reason(wf, inputs, payload) if event is not None else None
    if why is not None:
        print(NOTICE.format(text=_plain(why)), flush=True)
    with workflow_commands_paused():  # the review logs text from the pull request
        if event is None:
            report = JobReport(mode="nothing to do", version=__version__,
                               detail=UNSUPPORTED_EVENT.format(event=_safe(wf.event_name)))
        elif why is not None:
            report = run_read_only(wf, inputs, payload, why)
        else:
            report = run_published(wf, inputs, event, payload)
    return finish(wf, inputs, report)


@contextlib.contextmanager
def workflow_commands_paused() -> Iterator[None]:
    """GitHub's runner acts on log lines such as `::add-mask::` or `::error::`; while the review runs (its
    logs may quote file names and error messages from the pull request) it is told to ignore them."""
    token = secrets.token_hex(16)
    print(f"::stop-commands::{token}", flush=True)
    try:
        yield
    finally:
        sys.stderr.flush()
        print(f"::{token}::", flush=True)


def _load_event(wf: WorkflowEnv, problems: list[str]) -> dict[str, Any]:
    try:
        data = json.loads(Path(wf.event_path).read_bytes())
    except (OSError, ValueError) as exc:
        problems.append(UNREADABLE_EVENT.format(path=wf.event_path, error=exc))
        return {}
    if not isinstance(data, dict):
        problems.append(UNREADABLE_EVENT.format(path=wf.event_path, error="not a JSON object"))
        return {}
    return data


def _safe(name: Any) -> str:
    """A repository or event name for our own text: GitHub's name characters only, bounded."""
    return _SAFE_NAME.sub("", str(name or ""))[:100] or "unknown"


def _plain(text: str) -> str:
    """One log line: no line breaks (a line starting with `::` would be a workflow command)."""
    return " ".join(str(text).split())[:2000]


def _sarif_note(inputs: ActionInputs) -> str:
    return SARIF_TOO if inputs.sarif_file else ""


def read_only_reason(wf: WorkflowEnv, inputs: ActionInputs, payload: dict[str, Any]) -> str | None:
    """Why this run may not write to the pull request, or None when it may."""
    if inputs.mode == "summary":
        return SUMMARY_MODE.format(sarif=_sarif_note(inputs))
    if wf.event_name != "pull_request":
        return None  # pull_request_target and issue_comment run in the base repository's context
    pr = payload.get("pull_request") or {}
    head = ((pr.get("head") or {}).get("repo") or {}).get("full_name")
    base = ((pr.get("base") or {}).get("repo") or {}).get("full_name") or wf.repository
    if not head or str(head).lower() != str(base).lower():
        return FORK_READ_ONLY.format(head=_safe(head) if head else "a deleted fork", sarif=_sarif_note(inputs))
    if wf.actor == "dependabot[bot]":
        return DEPENDABOT_READ_ONLY.format(sarif=_sarif_note(inputs))
    return None


def workflow_gateway(wf: WorkflowEnv, delivery_id: str) -> Any:
    """Our GitHub client on the workflow token (no App key, GitHub Actions as our identity)."""
    from bot.github.auth import AppCredentials, WorkflowTokenCache
    from bot.github.client import GitHubGateway
    from bot.github.identity import IdentityCache, WorkflowIdentity

    return GitHubGateway(wf.api_url, AppCredentials("", ""), ACTION_INSTALLATION,
                         token_cache=WorkflowTokenCache(wf.token), delivery_id=delivery_id,
                         graphql_url=wf.graphql_url or None, identity_cache=IdentityCache(WorkflowIdentity()),
                         seconds_between_requests=0, seconds_between_writes=0.25)


def delivery_id_for(wf: WorkflowEnv, payload: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    return f"action-{_safe(wf.run_id) if wf.run_id else 'local'}-{_safe(wf.run_attempt or '1')}-{digest}"


def run_read_only(wf: WorkflowEnv, inputs: ActionInputs, payload: dict[str, Any], why: str) -> JobReport:
    """The static review through GET and GraphQL reads only; nothing is written to GitHub."""
    from bot.review.pull_static import review_pull_static
    from handlers.pull_request import REVIEW_ACTIONS

    number = (payload.get("pull_request") or {}).get("number") or payload.get("number")
    if wf.event_name == "issue_comment":
        return JobReport(mode="summary only", version=__version__, detail=COMMANDS_NEED_WRITES, not_posted=why)
    if not isinstance(number, int) or payload.get("action") not in REVIEW_ACTIONS:
        detail = f"pull_request action '{_safe(payload.get('action'))}' is not reviewed"
        return JobReport(mode="summary only", version=__version__, detail=detail, not_posted=why)
    gw = workflow_gateway(wf, delivery_id_for(wf, payload))
    review = review_pull_static(gw, wf.repository, number, config_path=inputs.config_path)
    return JobReport(mode="summary only", version=__version__, calls=gw.calls, review=review, not_posted=why)


def run_published(wf: WorkflowEnv, inputs: ActionInputs, event: str, payload: dict[str, Any]) -> JobReport:
    from bot.cli.action_flow import run_through_app_flow

    result, review = run_through_app_flow(wf, inputs, event, payload, delivery_id_for(wf, payload))
    outcome = str(result.get("outcome") or "")
    run_id = result.get("check_run_id")
    url = f"{wf.server_url}/{wf.repository}/runs/{run_id}" if run_id else ""
    return JobReport(mode="published", version=__version__, calls=int(result.get("calls") or 0), review=review,
                     outcome=outcome, detail=f"{outcome}: {result.get('detail') or ''}".strip(": "),
                     check_run_url=url)


def gate_failed(inputs: ActionInputs, report: JobReport) -> bool:
    """Whether the job fails: only when `fail-on` asks, on the published (or read-only) review."""
    if inputs.fail_on == "never":
        return False
    if report.outcome == "error":
        return True  # the gate was asked for and could not be decided
    review = report.review
    if review is None:
        return False
    if inputs.fail_on == "gate":
        return review.conclusion == Conclusion.failure
    return bool(blocking(review, Severity(inputs.fail_on)))


def blocking(review: Review, level: Severity) -> list[str]:
    """Introduced, unaccepted findings at or above `level` confident enough to gate (bot.core.policy's rule)."""
    accepted = {a.finding_id for a in review.accepted}
    return [f.id for f in review.findings
            if f.severity.at_least(level) and f.id not in accepted and f.confidence >= review.min_confidence]


def finish(wf: WorkflowEnv, inputs: ActionInputs, report: JobReport) -> int:
    failed = gate_failed(inputs, report)
    fail_on = inputs.fail_on if inputs.fail_on != "never" else ""
    report = dataclasses.replace(report, fail_on=fail_on, gate_failed=failed)
    if wf.step_summary:
        write_summary(wf, report)
    if inputs.sarif_file:
        write_sarif(wf.path_in_workspace(inputs.sarif_file), report.review)
    review = report.review
    said = review.verdict if review is not None else report.detail
    print(LOG_LINE.format(text=_plain(f"{report.mode}: {said}")))
    if report.outcome == "error":
        hint = PERMISSION_HINT if re.search(r"\b40[34]\b", report.detail) else ""
        print(WARNING.format(text=_plain(f"the review could not finish: {report.detail}{hint}")))
    if failed:
        print(PROBLEM.format(problem=_plain(f"the job gate (fail-on {inputs.fail_on}) failed: {said}")))
    return EXIT_GATE if failed else EXIT_OK


def write_summary(wf: WorkflowEnv, report: JobReport) -> None:
    with open(wf.step_summary, "a", encoding="utf-8") as out:
        out.write(render_job_summary(report))


def write_sarif(path: Path, review: Review | None) -> None:
    """SARIF 2.1.0 for code scanning upload; an empty run when nothing was reviewed (the upload still works)."""
    from bot.render.sarif import render_sarif, rules_from_analyzers
    from bot.review.pipeline import builtin_analyzers

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_sarif(review or Review(), rules_from_analyzers(builtin_analyzers())), encoding="utf-8")


def database_dir(wf: WorkflowEnv) -> str:
    """A fresh folder for the embedded SQLite store (the runner's temp folder when there is one)."""
    return tempfile.mkdtemp(prefix="scale-review-", dir=wf.runner_temp or None)
