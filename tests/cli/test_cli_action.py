"""`scale-review action` as a workflow step runs it: a subprocess, event files built from GitHub's published
webhook examples, the fake GitHub as the API, the workflow token as the only credential."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.core.commands import UNAUTHORISED_TEXT
from tests.conftest import PR_FILES
from tests.support.contract import rest_description
from tests.support.fakegithub import FakeGitHub
from tests.support.workflow_events import ACTIONS_APP_ID, ACTIONS_SLUG, comment_event, pr_event, run_action

REPO = "octo/shop"
WRITES = ("POST", "PATCH", "PUT", "DELETE")
MARKER = "<!-- scale-review:finding="


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    """GitHub as a workflow sees it: the token's App is GitHub Actions."""
    with FakeGitHub(app_id=ACTIONS_APP_ID, app_slug=ACTIONS_SLUG) as fake:
        fake.add_repo(REPO, {"README.md": "hi\n"})
        fake.add_pull(REPO, 7, PR_FILES, title="Orders endpoint")
        fake.set_permission(REPO, "maintainer", "write")
        fake.set_permission(REPO, "reader", "read")
        yield fake


def writes(gh: FakeGitHub) -> list[str]:
    return [f"{c.method} {c.path}" for c in gh.calls if c.method in WRITES and c.path != "/graphql"]


def contract_problems(gh: FakeGitHub) -> list[str]:
    """Requests GitHub's REST description (`@octokit/openapi`) would refuse."""
    desc = rest_description()
    return [p for c in gh.calls if (p := desc.problem(c.method, c.path, c.json))]


def app_credential_calls(gh: FakeGitHub) -> list[str]:
    """Calls only an App with its own key could make (the JWT, installation tokens)."""
    return [f"{c.method} {c.path}" for c in gh.calls if c.path.startswith(("/app", "/installation"))]


def test_an_opened_pull_request_gets_the_apps_check_run_and_inline_review(gh: FakeGitHub, tmp_path: Any) -> None:
    pull = gh.store.repos[REPO].pulls[7]
    run = run_action(gh, "pull_request", pr_event("opened", pull, REPO), tmp_path, repo=REPO)
    assert run.code == 0, run.stderr
    [check] = gh.check_runs(REPO)
    assert check["name"] == "Scalability review" and check["status"] == "completed"
    assert check["conclusion"] == "failure" and check["head_sha"] == pull.head_sha
    [review] = gh.reviews(REPO, 7)
    comments = gh.review_comments(REPO, 7)
    assert comments and all(MARKER in c["body"] for c in comments)
    assert any("```suggestion" in c["body"] for c in comments)
    assert review["user"]["login"] == "github-actions[bot]"
    assert app_credential_calls(gh) == []
    tokens = {c.headers.get("authorization") for c in gh.calls}
    assert len(tokens) == 1  # the workflow token, on every call
    assert "Scalability review: merge blocked" in run.summary
    assert f"https://github.example/{REPO}/runs/{check['id']}" in run.summary

    assert contract_problems(gh) == []


def test_a_push_gets_a_new_check_run_and_comments_only_on_new_findings(gh: FakeGitHub, tmp_path: Any) -> None:
    pull = gh.store.repos[REPO].pulls[7]
    first = run_action(gh, "pull_request", pr_event("opened", pull, REPO), tmp_path / "one", repo=REPO)
    assert first.code == 0, first.stderr
    before = pull.head_sha
    earlier = {c["body"].split(MARKER)[1][:13] for c in gh.review_comments(REPO, 7)}
    gh.push(REPO, 7, {"app/cache.py": "import requests\n\n\ndef warm(url):\n    return requests.get(url).json()\n"})
    second = run_action(gh, "pull_request", pr_event("synchronize", pull, REPO, before=before), tmp_path / "two",
                        repo=REPO)
    assert second.code == 0, second.stderr
    runs = sorted(gh.check_runs(REPO), key=lambda r: r["id"])
    assert [r["head_sha"] for r in runs] == [before, pull.head_sha]
    assert all(r["status"] == "completed" for r in runs)
    ids = [c["body"].split(MARKER)[1][:13] for c in gh.review_comments(REPO, 7)]
    assert len(ids) == len(set(ids))  # never the same comment twice
    new = set(ids) - earlier
    assert new and all(c["path"] == "app/cache.py" for c in gh.review_comments(REPO, 7)
                       if c["body"].split(MARKER)[1][:13] in new)
    assert len(gh.reviews(REPO, 7)) == 2
    assert contract_problems(gh) == []


def test_comment_commands_check_the_commenters_permission_through_the_api(gh: FakeGitHub, tmp_path: Any) -> None:
    cid = gh.add_issue_comment(REPO, 7, "/scale-review", user="maintainer")
    run = run_action(gh, "issue_comment", comment_event("/scale-review", 7, REPO, login="maintainer",
                                                         comment_id=cid), tmp_path / "w", repo=REPO)
    assert run.code == 0, run.stderr
    assert gh.reactions(cid) == ["eyes", "rocket"]
    assert gh.count("GET", r"/collaborators/maintainer/permission$") == 1
    assert len(gh.check_runs(REPO)) == 1
    gh.reset_calls()
    cid = gh.add_issue_comment(REPO, 7, "/scale-review full", user="reader")
    refused = run_action(gh, "issue_comment", comment_event("/scale-review full", 7, REPO, login="reader",
                                                             comment_id=cid), tmp_path / "r", repo=REPO)
    assert refused.code == 0, refused.stderr
    assert gh.count("GET", r"/collaborators/reader/permission$") == 1
    assert len(gh.check_runs(REPO)) == 1  # no paid work for a reader
    replies = [c["body"] for c in gh.issue_comments(REPO, 7) if c["user"]["login"] == "github-actions[bot]"]
    assert replies == [UNAUTHORISED_TEXT.format(needed="write")]
    assert "nothing reviewed" in refused.summary and "unauthorised" in refused.summary
    assert contract_problems(gh) == []


def test_a_fork_pull_request_posts_nothing_and_says_why(gh: FakeGitHub, tmp_path: Any) -> None:
    pull = gh.store.repos[REPO].pulls[7]
    pull.head_repo = "forker/shop"
    payload = pr_event("opened", pull, REPO, head_repo="forker/shop")
    run = run_action(gh, "pull_request", payload, tmp_path, repo=REPO,
                     inputs={"fail-on": "high", "sarif-file": "scale-review.sarif"})
    assert writes(gh) == [] and gh.check_runs(REPO) == [] and gh.reviews(REPO, 7) == []
    assert run.code == 1  # fail-on: high, and the missing timeout is high
    assert "::notice title=scale-review::this pull request comes from a fork (forker/shop)" in run.stdout
    lines = run.stdout.splitlines()
    paused = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    assert f"::{lines[paused].split('::')[2]}::" in lines[paused + 1:]  # commands resume before our own lines
    assert "Not posted to the pull request:** this pull request comes from a fork" in run.summary
    assert "HTTP call without a timeout" in run.summary and "job gate: fail-on high → failed" in run.summary
    sarif = json.loads((tmp_path / "workspace" / "scale-review.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]} \
        == {"app/orders.py"}
    assert contract_problems(gh) == []


class _ModelEndpoint(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        type(self).hits.append(self.path)
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


def test_pull_request_target_on_a_fork_publishes_the_static_review_and_never_calls_the_model(
        gh: FakeGitHub, tmp_path: Any) -> None:
    pull = gh.store.repos[REPO].pulls[7]
    pull.head_repo = "forker/shop"
    _ModelEndpoint.hits.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ModelEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = run_action(gh, "pull_request_target", pr_event("opened", pull, REPO, head_repo="forker/shop"),
                         tmp_path, repo=REPO, inputs={"anthropic-api-key": "sk-ant-test-key-not-real-000000"},
                         env_update={"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{server.server_address[1]}"})
    finally:
        server.shutdown()
    assert run.code == 0, run.stderr
    assert _ModelEndpoint.hits == []
    [check] = gh.check_runs(REPO)
    assert check["conclusion"] == "failure"
    assert "comes from a fork, and code from a fork is never given to the model" in check["output"]["summary"]


def test_github_enterprise_server_paths_and_the_fail_on_exit_code(tmp_path: Any) -> None:
    with FakeGitHub(app_id=ACTIONS_APP_ID, app_slug=ACTIONS_SLUG, prefix="/api/v3") as ghes:
        ghes.add_repo(REPO, {"README.md": "hi\n"})
        pull = ghes.add_pull(REPO, 7, PR_FILES)
        run = run_action(ghes, "pull_request", pr_event("opened", pull, REPO), tmp_path, repo=REPO,
                         inputs={"fail-on": "high"})
        assert run.code == 1, run.stderr
        assert "::error title=scale-review::the job gate (fail-on high) failed" in run.stdout
        assert ghes.count("POST", "/graphql") >= 1  # GITHUB_GRAPHQL_URL: /api/graphql on a server
        [check] = ghes.check_runs(REPO)
        assert check["conclusion"] == "failure"


def test_a_token_without_the_permissions_gets_a_plain_hint(gh: FakeGitHub, tmp_path: Any) -> None:
    pull = gh.store.repos[REPO].pulls[7]
    gh.fail("POST", r"/check-runs$", 403, body={"message": "Resource not accessible by integration"}, times=20)
    run = run_action(gh, "pull_request", pr_event("opened", pull, REPO), tmp_path, repo=REPO,
                     inputs={"fail-on": "high"})
    assert run.code == 1  # the gate was asked for and could not be decided
    assert "::warning title=scale-review::the review could not finish" in run.stdout
    assert "checks: write, pull-requests: write" in run.stdout
    assert "Resource not accessible by integration" in run.summary
    assert gh.reviews(REPO, 7) == []
