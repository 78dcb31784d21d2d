"""The GitHub Action against the App on the same pull request (not a test): GitHub calls per review, and
the wall-clock time of `scale-review action` as a workflow step runs it.

    SCALE_REVIEW_OCTOKIT_DIR=... .venv/bin/python bench/action.py

Both review the 10-file PR of bench/github_calls.py, then the follow-up after a 1-file push. The App runs
in this process (signed deliveries, DBOS, a cached installation token); the Action runs as a subprocess
(`python -m bot.cli action`, event files from @octokit/webhooks-examples, the workflow token), each
against its own FakeGitHub, which counts the calls.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from github_calls import NUMBER, breakdown, pr_files  # noqa: E402
from github_calls import measure as measure_app  # noqa: E402

from tests.support import webhooks as wh  # noqa: E402
from tests.support.fakegithub import FakeGitHub  # noqa: E402
from tests.support.workflow_events import ACTIONS_APP_ID, ACTIONS_SLUG, pr_event, run_action  # noqa: E402

PUSH = {"svc/mod3.py": "import requests\n\n\ndef f3(url):\n    return requests.get(url, timeout=5).json()\n"}


def one_action_run(gh: FakeGitHub, payload: dict[str, Any], workdir: Path) -> dict[str, Any]:
    gh.reset_calls()
    started, cpu = time.perf_counter(), _children_cpu()
    run = run_action(gh, "pull_request", payload, workdir, repo=wh.REPO)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if run.code != 0:
        raise RuntimeError(f"scale-review action exited {run.code}: {run.stderr[-2000:]}")
    return {"calls": len(gh.calls), "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "endpoints": breakdown(gh)}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_action() -> dict[str, Any]:
    with FakeGitHub(app_id=ACTIONS_APP_ID, app_slug=ACTIONS_SLUG) as gh, \
            tempfile.TemporaryDirectory(prefix="sr-bench-action-") as tmp:
        gh.add_repo(wh.REPO, {"README.md": "hi\n"})
        pull = gh.add_pull(wh.REPO, NUMBER, pr_files(), title="ten files")
        first = one_action_run(gh, pr_event("opened", pull, wh.REPO), Path(tmp) / "one")
        before = pull.head_sha
        gh.push(wh.REPO, NUMBER, PUSH)
        follow = one_action_run(gh, pr_event("synchronize", pull, wh.REPO, before=before), Path(tmp) / "two")
    return {"first": first, "follow_up": follow}


def run(quick: bool) -> dict[str, Any]:
    """For bench/run.py: the Action's GitHub calls for the first review against the App's on the same PR."""
    del quick
    app, action = measure_app(), measure_action()
    ours, baseline = action["first"]["calls"], app["first"]["calls"]
    notes = (f"Action: {ours} calls first, {action['follow_up']['calls']} after a push; App: {baseline} first "
             f"(token minting and GET /app included), {app['follow_up']['calls']} after a push. Action run: "
             f"{action['first']['seconds']} s wall, {action['first']['cpu_seconds']} s CPU")
    return {"name": "action", "ours": ours, "baseline": baseline, "ratio": round(baseline / ours, 3) if ours else None,
            "unit": "GitHub calls per first review of a 10-file PR (App / Action)", "notes": notes,
            "details": {"app": app, "action": action}}


if __name__ == "__main__":
    from bot.app.logging_setup import configure_logging

    configure_logging("error", "console")  # on stderr: the App's logs would mix with the JSON on stdout
    app = measure_app()
    action = measure_action()
    print(json.dumps({
        "app": {k: {"calls": v["calls"], "endpoints": v["endpoints"]} for k, v in app.items()},
        "action": action,
    }, indent=2))
