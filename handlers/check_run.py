"""`check_run`: "Re-run" from the checks UI, and our `rerun` / `accept` buttons."""

from __future__ import annotations

from bot.core.jobs import Decision, Ignored, Job
from handlers.context import CHECK_RUN_NAME, Delivery
from handlers.payloads import CheckRun, Envelope

BUTTONS = frozenset({"rerun", "accept"})


def pr_number(run: CheckRun, repo: str) -> int:
    """The PR the run belongs to: `pull_requests` (empty for forks), else our external_id `repo#n@sha`."""
    if run.pull_requests:
        return run.pull_requests[0].number
    ref = run.external_id or ""
    prefix = f"{repo}#"
    if ref.startswith(prefix):
        number = ref[len(prefix) :].split("@", 1)[0]
        return int(number) if number.isascii() and number.isdigit() else 0
    return 0


def handle(delivery: Delivery, env: Envelope) -> Decision:
    run = env.check_run
    if env.action not in ("rerequested", "requested_action") or run is None:
        return Ignored(f"check_run action '{env.action}' needs no work")
    if run.name != CHECK_RUN_NAME:
        return Ignored(f"check run '{run.name[:80]}' is not ours")
    if run.app is not None and not delivery.owns(run.app.id, run.app.client_id):
        return Ignored("check run was created by another App")
    identifier = env.requested_action.identifier if env.requested_action else ""
    if env.action == "requested_action" and identifier not in BUTTONS:
        return Ignored(f"unknown check run button '{identifier[:40]}'")
    number = pr_number(run, env.repo)
    if not number or not env.installation_id or not env.repo:
        return Ignored("check run is not linked to a pull request")
    is_accept = identifier == "accept"
    return Job(
        kind="check_action" if is_accept else "review",
        trigger="check_run",
        delivery_id=delivery.delivery_id,
        installation_id=env.installation_id,
        repo=env.repo,
        number=number,
        head_sha=run.head_sha,
        actor=env.sender_login,
        check_run_id=run.id,
        action=identifier or env.action,
    )
