"""Every request the App makes, checked against GitHub's REST OpenAPI description (`@octokit/openapi`).

Complete flows run through the receiver, the durable workflows and the fake GitHub; then every
recorded call must name a method and path GitHub describes, and its JSON body must validate against
the operation's request schema (OAS 3.0 semantics: `nullable`, `readOnly`). POST /graphql is not a
REST operation (GitHub describes GraphQL in its own schema) and is the one exception.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from bot.app.redelivery import redeliver_failed
from tests.support import webhooks as wh
from tests.support.contract import NOT_REST, OPENAPI_FILE, require_octokit, rest_description
from tests.support.fakegithub.clients import make_gateway
from tests.support.fakegithub.routes_app import iso
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result


@pytest.fixture(scope="module")
def description() -> Any:
    require_octokit(OPENAPI_FILE)
    return rest_description()


def problems(gh: Any, desc: Any) -> list[str]:
    return [f"{p} (answered {c.status})" for c in gh.calls if (p := desc.problem(c.method, c.path, c.json))]


def test_the_checker_refuses_what_github_would_refuse(description: Any) -> None:
    ok_run = {"name": "Scalability review", "head_sha": "a" * 40, "status": "in_progress"}
    assert description.problem("POST", "/repos/o/r/check-runs", ok_run) is None
    bad = [
        ("POST", "/repos/o/r/check-runs", {**ok_run, "conclusion": "passed"}, "conclusion"),
        ("POST", "/repos/o/r/check-runs", {"head_sha": "a"}, "'name' is a required property"),
        ("PATCH", "/repos/o/r/check-runs/5", {"actions": [{"label": "x" * 21, "description": "d",
                                                           "identifier": "accept"}]}, "label"),
        ("POST", "/repos/o/r/issues/comments/5/reactions", {"content": "thumbsup"}, "thumbsup"),
        ("POST", "/repos/o/r/pulls/7/reviews", {"event": "LGTM"}, "LGTM"),
        ("DELETE", "/app", None, "allows only GET"),
        ("GET", "/repos/o/r/pull/7", None, "no such path"),
        ("POST", "/repos/o/r/issues/7/comments", None, "a body is required"),
    ]
    for method, path, body, expected in bad:
        found = description.problem(method, path, body)
        assert found is not None and expected in found, (method, path, found)
    assert description.operation("GET", "/repos/o/r/contents/src/deep/app.py").operation_id == "repos/get-content"
    assert description.operation("GET", "/repos/o/r/compare/a1...b2").operation_id == (
        "repos/compare-commits-with-basehead")
    assert description.template_for("/graphql") is None and ("POST", "/graphql") in NOT_REST


def test_a_complete_review_and_its_follow_ups_send_only_requests_github_describes(
        fake_github: Any, sqlite_backend: Any, description: Any) -> None:
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "pull_request", wh.pull_request("opened", head=head), delivery="oa-open")
        first = wait_result("oa-open")
        pushed = gh.push(wh.REPO, 7, {"app/cache.py": "import redis\n\nr = redis.Redis()\n"})
        deliver(client, "pull_request", wh.pull_request("synchronize", head=pushed), delivery="oa-push")
        second = wait_result("oa-push")
        cid = gh.add_issue_comment(wh.REPO, 7, "/scale-review full", user="maintainer")
        deliver(client, "issue_comment", wh.issue_comment("/scale-review full", comment_id=cid), delivery="oa-cmd")
        wait_result("oa-cmd")
        cid = gh.add_issue_comment(wh.REPO, 7, "/scale-review help", user="reader")
        deliver(client, "issue_comment", wh.issue_comment("/scale-review help", login="reader", comment_id=cid),
                delivery="oa-help")
        wait_result("oa-help")
        button = wh.check_run("requested_action", identifier="accept", head=pushed,
                              run_id=second["check_run_id"], app_id=gh.app_id)
        deliver(client, "check_run", button, delivery="oa-accept")
        wait_result("oa-accept")
    gh.add_delivery("oa-lost", "pull_request", "opened", status_code=502, delivered_at=iso(time.time() - 60))
    redeliver_failed(lambda: make_gateway(gh, delivery_id=None), time.time() - 3600)

    assert first["outcome"] == "failure" and gh.reviews(wh.REPO, 7) and gh.store.redeliveries == ["oa-lost"]
    assert problems(gh, description) == []
    operations = Counter(op.operation_id for c in gh.calls if (op := description.operation(c.method, c.path)))
    # the flows above really exercised the App's writes, not just reads
    for expected in ("checks/create", "checks/update", "pulls/create-review", "issues/create-comment",
                     "reactions/create-for-issue-comment", "repos/get-collaborator-permission-level",
                     "apps/create-installation-access-token", "apps/list-webhook-deliveries",
                     "apps/redeliver-webhook-delivery"):
        assert operations[expected] >= 1, (expected, operations)
    assert all(c.status < 400 for c in gh.calls), [(c.method, c.path, c.status) for c in gh.calls if c.status >= 400]


def test_the_fake_github_takes_its_rules_from_the_installed_description_and_the_extract_is_current(
        fake_github: Any, description: Any) -> None:
    import json

    import requests

    from tests.support.fakegithub import contract as fake_contract
    from tests.support.fakegithub.build_openapi_subset import build

    assert fake_contract.source() == "npm"
    # the checked-in extract (the fallback on laptops) says exactly what the installed description says
    assert json.loads(fake_contract.SUBSET.read_text()) == json.loads(json.dumps(build(description.spec)))
    cid = fake_github.add_issue_comment(wh.REPO, 7, "hello")
    gw = make_gateway(fake_github, installation_id=wh.INSTALLATION)
    gw.add_reaction(wh.REPO, cid, "eyes")  # mints an installation token
    auth = {"Authorization": f"token {next(iter(fake_github.store.tokens))}"}
    url = f"{fake_github.url}/repos/{wh.REPO}/issues/comments/{cid}/reactions"
    r = requests.post(url, json={"content": "thumbsup"}, headers=auth, timeout=5)
    assert r.status_code == 422 and "reactions/create-for-issue-comment" in r.text, r.text
    assert fake_github.reactions(cid) == ["eyes"]


def test_every_route_the_fake_serves_is_an_operation_github_describes_and_bodies_are_checked(
        description: Any) -> None:
    """So every request of every end-to-end test (they all go to the fake) names a real operation, and the
    fake validates each JSON body against that operation's schema before answering."""
    import re

    from tests.support.fakegithub import contract as fake_contract
    from tests.support.fakegithub.routing import ROUTES

    enforced = {(op["method"], op["template"]) for op in fake_contract.operations().values()}
    for r in ROUTES:
        template = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: "{" + m.group(1) + "}", r.pattern.pattern).strip("^$")
        concrete = re.sub(r"\{(\w+)\}", lambda m: "a...b" if m.group(1) == "basehead" else "x1", template)
        if (r.method, concrete) in NOT_REST:
            continue
        op = description.operation(r.method, concrete)
        assert op is not None, (r.method, template)
        takes_body = "requestBody" in description.spec["paths"][op.template][op.method.lower()]
        assert not takes_body or (op.method, op.template) in enforced, (op.operation_id, "body not enforced")
