"""GitHub API calls per review (not a test): one review of a 10-file PR, then the follow-up review after
a push that changes one file, counted by the fake GitHub.

    .venv/bin/python bench/github_calls.py [--quick]

The real review workflow runs in this process (DBOS on SQLite in a temp dir, the worker's GitHub a
`FakeGitHub` on 127.0.0.1), driven by signed `pull_request` deliveries through the real receiver, as
`tests/app/test_workflows.py::test_a_ten_file_pr_costs_at_most_twelve_github_calls` does. Ratio: the
target of 12 calls / ours (> 1: under the target).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import webhooks as wh  # noqa: E402
from tests.support.fakegithub import FakeGitHub  # noqa: E402
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result  # noqa: E402

TARGET_CALLS = 12
FILES = 10
NUMBER = 20
UNIT = "GitHub calls per review of a 10-file PR (target 12 / ours)"
NOTES = ("first review {first} calls, follow-up after a 1-file push {follow} calls (target {target} each); "
         "first: {first_top}")
ID_PATTERN = re.compile(r"/(?:[0-9a-f]{40}|\d+)(?=/|$)")


def pr_files() -> dict[str, tuple[str, str]]:
    return {f"svc/mod{i}.py": (f"def f{i}():\n    return {i}\n",
                               f"import requests\n\n\ndef f{i}(url):\n    return requests.get(url).json()\n")
            for i in range(FILES)}


def endpoint(method: str, path: str) -> str:
    """`GET /repos/octo/shop/pulls/20/files` -> `GET /repos/octo/shop/pulls/{n}/files` (ids and shas folded)."""
    return f"{method} {ID_PATTERN.sub('/{n}', path)}"


def breakdown(gh: FakeGitHub) -> dict[str, int]:
    return dict(Counter(endpoint(c.method, c.path) for c in gh.calls).most_common())


def one_review(gh: FakeGitHub, client: Any, action: str, delivery: str) -> dict[str, Any]:
    """Deliver one signed `pull_request` event for the PR's current head and count what GitHub received."""
    gh.reset_calls()
    head = gh.store.repos[wh.REPO].pulls[NUMBER].head_sha
    response = deliver(client, "pull_request", wh.pull_request(action, number=NUMBER, head=head), delivery=delivery)
    if response.status_code != 202:
        raise RuntimeError(f"delivery {delivery} answered {response.status_code}: {response.text[:200]}")
    result = wait_result(delivery)
    return {"outcome": result.get("outcome"), "calls_reported": result.get("calls"), "calls": len(gh.calls),
            "findings": len(result.get("findings", [])), "endpoints": breakdown(gh)}


def measure() -> dict[str, dict[str, Any]]:
    logging.getLogger("dbos").setLevel(logging.ERROR)
    with FakeGitHub() as gh, tempfile.TemporaryDirectory(prefix="sr-bench-calls-") as tmp:
        gh.add_installation(wh.INSTALLATION, "octo")
        gh.add_repo(wh.REPO, {"README.md": "hi\n"}, installation_id=wh.INSTALLATION)
        gh.add_pull(wh.REPO, NUMBER, pr_files(), title="ten files")
        settings = app_settings(gh, f"sqlite:///{tmp}/bench.db")
        with running_app(settings) as enq, receiver(settings, enq) as client:
            first = one_review(gh, client, "opened", "bench-calls-open")
            gh.push(wh.REPO, NUMBER, {"svc/mod3.py": "import requests\n\n\ndef f3(url):\n"
                                                     "    return requests.get(url, timeout=5).json()\n"})
            follow = one_review(gh, client, "synchronize", "bench-calls-sync")
    return {"first": first, "follow_up": follow}


def top(endpoints: dict[str, int], n: int = 4) -> str:
    return ", ".join(f"{k} x{v}" for k, v in list(endpoints.items())[:n])


def run(quick: bool) -> dict[str, Any]:
    """For bench/run.py: calls for the first review (ours) against the target of 12."""
    del quick  # one review each way is already small
    m = measure()
    first, follow = m["first"]["calls"], m["follow_up"]["calls"]
    notes = NOTES.format(first=first, follow=follow, target=TARGET_CALLS, first_top=top(m["first"]["endpoints"]))
    return {"name": "github_calls", "ours": first, "baseline": TARGET_CALLS,
            "ratio": round(TARGET_CALLS / first, 3) if first else None, "unit": UNIT, "notes": notes,
            "details": {**m, "follow_up_ratio": round(TARGET_CALLS / follow, 3) if follow else None}}


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
