"""The fake GitHub itself: it must refuse what GitHub refuses, or our client tests prove nothing."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.fakegithub import SECONDARY_LIMIT_MESSAGE, FakeGitHub

REPO = "acme/shop"
BASE = "".join(f"line {i}\n" for i in range(1, 41))
HEAD = BASE.replace("line 5\n", "line five\n").replace("line 30\n", "line thirty\n")


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO, {"README.md": "hello\n"})
        fake.add_pull(REPO, 7, {"app.py": (BASE, HEAD), "new.py": (None, "x = 1\n")})
        yield fake


def app_jwt(gh: FakeGitHub, key: str | None = None, lifetime: int = 300) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now - 60, "exp": now + lifetime, "iss": str(gh.app_id)},
                      key or gh.private_key_pem, algorithm="RS256")


def token(gh: FakeGitHub) -> str:
    r = requests.post(f"{gh.url}/app/installations/1/access_tokens",
                      headers={"Authorization": f"Bearer {app_jwt(gh)}"}, timeout=5)
    assert r.status_code == 201
    return r.json()["token"]


def api(gh: FakeGitHub, method: str, path: str, tok: str, **kw: object) -> requests.Response:
    headers = {"Authorization": f"token {tok}", **kw.pop("headers", {})}  # type: ignore[dict-item]
    return requests.request(method, gh.url + path, headers=headers, timeout=5, **kw)  # type: ignore[arg-type]


def test_jwt_signed_by_another_key_is_refused(gh: FakeGitHub) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    r = requests.post(f"{gh.url}/app/installations/1/access_tokens",
                      headers={"Authorization": f"Bearer {app_jwt(gh, other)}"}, timeout=5)
    assert r.status_code == 401
    too_long = requests.post(f"{gh.url}/app/installations/1/access_tokens",
                             headers={"Authorization": f"Bearer {app_jwt(gh, lifetime=3600)}"}, timeout=5)
    assert too_long.status_code == 401


def test_token_required_and_expiry(gh: FakeGitHub) -> None:
    assert requests.get(f"{gh.url}/repos/{REPO}/pulls/7", timeout=5).status_code == 401
    tok = token(gh)
    r = api(gh, "GET", f"/repos/{REPO}/pulls/7", tok)
    assert r.status_code == 200 and r.json()["head"]["sha"] == gh.store.repos[REPO].pulls[7].head_sha
    assert int(r.headers["x-ratelimit-remaining"]) < 5000
    gh.expire_tokens()
    assert api(gh, "GET", f"/repos/{REPO}/pulls/7", tok).status_code == 401


def test_diff_media_type_and_too_large(gh: FakeGitHub) -> None:
    tok = token(gh)
    r = api(gh, "GET", f"/repos/{REPO}/pulls/7", tok, headers={"Accept": "application/vnd.github.diff"})
    assert r.text.startswith("diff --git a/app.py b/app.py") and "+line five" in r.text
    gh.store.repos[REPO].pulls[7].diff_too_large = True
    r = api(gh, "GET", f"/repos/{REPO}/pulls/7", tok, headers={"Accept": "application/vnd.github.diff"})
    assert r.status_code == 406 and r.json()["errors"][0]["code"] == "too_large"


def test_files_paginate_with_link_headers(gh: FakeGitHub) -> None:
    gh.add_pull(REPO, 8, {f"f{i}.py": (None, f"v = {i}\n") for i in range(5)})
    tok = token(gh)
    first = api(gh, "GET", f"/repos/{REPO}/pulls/8/files?per_page=2", tok)
    assert [f["filename"] for f in first.json()] == ["f0.py", "f1.py"]
    nxt = first.links["next"]["url"]
    second = requests.get(nxt, headers={"Authorization": f"token {tok}"}, timeout=5)
    assert [f["filename"] for f in second.json()] == ["f2.py", "f3.py"]
    assert "next" not in requests.get(second.links["next"]["url"], headers={"Authorization": f"token {tok}"},
                                      timeout=5).links


def review(gh: FakeGitHub, tok: str, comments: list[dict[str, object]]) -> requests.Response:
    sha = gh.store.repos[REPO].pulls[7].head_sha
    return api(gh, "POST", f"/repos/{REPO}/pulls/7/reviews", tok,
               json={"commit_id": sha, "event": "COMMENT", "body": "review", "comments": comments})


def test_review_comment_outside_diff_rejects_whole_review(gh: FakeGitHub) -> None:
    tok = token(gh)
    good = {"path": "app.py", "line": 5, "side": "RIGHT", "body": "ok"}
    bad = {"path": "app.py", "line": 18, "side": "RIGHT", "body": "outside"}
    r = review(gh, tok, [good, bad])
    assert r.status_code == 422 and "must be part of the diff" in r.text
    assert gh.reviews(REPO, 7) == [] and gh.review_comments(REPO, 7) == []
    assert review(gh, tok, [good]).status_code == 200
    assert [c["line"] for c in gh.review_comments(REPO, 7)] == [5]


@pytest.mark.parametrize(("start", "line", "message"), [
    (7, 5, "precede"),  # start after end
    (5, 30, "same hunk"),  # both in the diff, different hunks
    (1, 5, "start line must be part of the diff"),
])
def test_multiline_rules(gh: FakeGitHub, start: int, line: int, message: str) -> None:
    r = review(gh, token(gh), [{"path": "app.py", "line": line, "start_line": start, "body": "x"}])
    assert r.status_code == 422 and message in r.text


def test_check_run_limits(gh: FakeGitHub) -> None:
    tok = token(gh)
    sha = gh.store.repos[REPO].pulls[7].head_sha
    ann = {"path": "app.py", "start_line": 5, "end_line": 5, "annotation_level": "warning", "message": "m"}
    r = api(gh, "POST", f"/repos/{REPO}/check-runs", tok, json={
        "name": "Scalability review", "head_sha": sha, "status": "in_progress",
        "output": {"title": "t", "summary": "s", "annotations": [ann] * 51}})
    assert r.status_code == 422
    r = api(gh, "POST", f"/repos/{REPO}/check-runs", tok, json={
        "name": "Scalability review", "head_sha": sha, "status": "in_progress",
        "output": {"title": "t", "summary": "s", "annotations": [ann] * 50}})
    rid = r.json()["id"]
    assert api(gh, "PATCH", f"/repos/{REPO}/check-runs/{rid}", tok,
               json={"output": {"title": "t", "summary": "x" * 65536}}).status_code == 422
    assert api(gh, "PATCH", f"/repos/{REPO}/check-runs/{rid}", tok, json={"status": "completed"}).status_code == 422
    four = [{"label": "a", "description": "b", "identifier": f"i{i}"} for i in range(4)]
    assert api(gh, "PATCH", f"/repos/{REPO}/check-runs/{rid}", tok,
               json={"conclusion": "success", "actions": four}).status_code == 422
    done = api(gh, "PATCH", f"/repos/{REPO}/check-runs/{rid}", tok, json={
        "conclusion": "failure", "output": {"title": "t", "summary": "s", "annotations": [ann] * 20}})
    assert done.json()["status"] == "completed" and done.json()["output"]["annotations_count"] == 70
    listed = api(gh, "GET", f"/repos/{REPO}/commits/{sha}/check-runs?check_name=Scalability+review"
                 f"&app_id={gh.app_id}", tok).json()
    assert [c["id"] for c in listed["check_runs"]] == [rid]


def test_faults_are_served_in_order_then_cleared(gh: FakeGitHub) -> None:
    tok = token(gh)
    gh.fail("GET", r"/pulls/7$", 502)
    gh.secondary_rate_limit("GET", r"/pulls/7$", retry_after=3)
    assert api(gh, "GET", f"/repos/{REPO}/pulls/7", tok).status_code == 502
    limited = api(gh, "GET", f"/repos/{REPO}/pulls/7", tok)
    assert limited.status_code == 403 and limited.headers["retry-after"] == "3"
    assert limited.json()["message"] == SECONDARY_LIMIT_MESSAGE
    assert api(gh, "GET", f"/repos/{REPO}/pulls/7", tok).status_code == 200
    assert [c.status for c in gh.calls_to("GET", r"/pulls/7$")] == [502, 403, 200]


def test_content_creation_limit(gh: FakeGitHub) -> None:
    tok = token(gh)
    gh.writes_per_minute = 3
    statuses = [api(gh, "POST", f"/repos/{REPO}/issues/7/comments", tok, json={"body": f"c{i}"}) for i in range(4)]
    assert [r.status_code for r in statuses] == [201, 201, 201, 403]
    assert statuses[-1].json()["message"] == SECONDARY_LIMIT_MESSAGE and int(statuses[-1].headers["retry-after"]) >= 1
    assert api(gh, "GET", f"/repos/{REPO}/pulls/7", tok).status_code == 200  # reads are not limited


def test_contents_blobs_trees_and_graphql(gh: FakeGitHub) -> None:
    tok = token(gh)
    sha = gh.store.repos[REPO].pulls[7].head_sha
    r = api(gh, "GET", f"/repos/{REPO}/contents/app.py?ref={sha}", tok)
    assert base64.b64decode(r.json()["content"]).decode() == HEAD
    raw = api(gh, "GET", f"/repos/{REPO}/contents/new.py?ref={sha}", tok,
              headers={"Accept": "application/vnd.github.raw+json"})
    assert raw.content == b"x = 1\n"
    assert api(gh, "GET", f"/repos/{REPO}/contents/new.py?ref=main", tok).status_code == 404
    tree = api(gh, "GET", f"/repos/{REPO}/git/trees/{sha}?recursive=1", tok).json()["tree"]
    blob_sha = next(e["sha"] for e in tree if e["path"] == "new.py")
    assert api(gh, "GET", f"/repos/{REPO}/git/blobs/{blob_sha}", tok,
               headers={"Accept": "application/vnd.github.raw+json"}).content == b"x = 1\n"
    query = ('query($o: String!, $n: String!) { repository(owner: $o, name: $n) { '
             f'a: object(expression: "{sha}:app.py") {{ ... on Blob {{ text byteSize }} }} '
             f'b: object(expression: "{sha}:missing.py") {{ ... on Blob {{ text }} }} }} }}')
    data = api(gh, "POST", "/graphql", tok, json={"query": query, "variables": {"o": "acme", "n": "shop"}}).json()
    assert data["data"]["repository"]["a"] == {"text": HEAD, "byteSize": len(HEAD)}
    assert data["data"]["repository"]["b"] is None


def test_comments_reactions_permissions(gh: FakeGitHub) -> None:
    tok = token(gh)
    cid = gh.add_issue_comment(REPO, 7, "/scale-review", user="alice")
    path = f"/repos/{REPO}/issues/comments/{cid}/reactions"
    assert api(gh, "POST", path, tok, json={"content": "eyes"}).status_code == 201
    assert api(gh, "POST", path, tok, json={"content": "eyes"}).status_code == 200
    assert api(gh, "POST", path, tok, json={"content": "thumbsup"}).status_code == 422
    assert gh.reactions(cid) == ["eyes"]
    assert api(gh, "POST", f"/repos/{REPO}/issues/7/comments", tok, json={"body": "x" * 65537}).status_code == 422
    gh.set_permission(REPO, "alice", "write")
    assert api(gh, "GET", f"/repos/{REPO}/collaborators/alice/permission", tok).json()["permission"] == "write"
    assert api(gh, "GET", f"/repos/{REPO}/collaborators/mallory/permission", tok).status_code == 404


@pytest.mark.parametrize(("method", "path", "body", "op"), [
    ("POST", "/repos/acme/shop/check-runs", {"name": "x", "head_sha": "a", "conclusion": "passed"}, "checks/create"),
    ("PATCH", "/repos/acme/shop/check-runs/1", {"actions": [{"label": "x" * 21, "description": "d",
                                                             "identifier": "i"}]}, "checks/update"),
    ("PATCH", "/repos/acme/shop/check-runs/1", {"actions": [{"label": "a", "description": "d", "identifier": "i"}] * 4},
     "checks/update"),
    ("POST", "/repos/acme/shop/issues/comments/5/reactions", {"content": "thumbsup"},
     "reactions/create-for-issue-comment"),
    ("POST", "/repos/acme/shop/pulls/7/reviews", {"event": "LGTM", "body": "x"}, "pulls/create-review"),
    ("POST", "/repos/acme/shop/pulls/7/reviews", {"comments": [{"path": "a", "body": "b", "line": "5"}]},
     "pulls/create-review"),
])
def test_github_contract_refuses_what_github_refuses(method: str, path: str, body: dict, op: str) -> None:
    from tests.support.fakegithub import contract
    from tests.support.fakegithub.routing import Req

    problem = contract.check(Req(method, path, {}, {}, b"", body))
    assert problem is not None and problem.startswith(op)


def test_contract_is_enforced_over_http(gh: FakeGitHub) -> None:
    tok = token(gh)
    sha = gh.store.repos[REPO].pulls[7].head_sha
    r = api(gh, "POST", f"/repos/{REPO}/check-runs", tok, json={"name": "n", "head_sha": sha, "status": "waiting"})
    assert r.status_code == 422 and "checks/create" in r.text
    good = {"name": "n", "head_sha": sha, "status": "in_progress", "output": {"title": "t", "summary": "s"}}
    assert api(gh, "POST", f"/repos/{REPO}/check-runs", tok, json=good).status_code == 201


def test_seed_a_pull_from_a_local_git_repository(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.gitrepo import GitRepo

    local = GitRepo(tmp_path / "r")
    local.write("a.py", "x = 1\n")
    local.write("keep.md", "same\n")
    base = local.commit("base")
    local.write("a.py", "x = 2\n")
    local.write("b.py", "y = 1\n")
    head = local.commit("head")
    with FakeGitHub() as fake:
        pr = fake.add_pull_from_git("acme/local", 3, str(local.root), base, head, title="From git")
        diff = fake.pull_diff("acme/local", 3)
        assert "diff --git a/a.py b/a.py" in diff and "+y = 1" in diff and "keep.md" not in diff
        assert fake.store.commits[pr.head_sha].tree["keep.md"] == b"same\n"
        expected = local.git("diff", base, head)
        assert diff.count("\n+") == expected.count("\n+") and diff.count("\n-") == expected.count("\n-")


def test_deliveries_and_manifest(gh: FakeGitHub) -> None:
    did = gh.add_delivery("guid-1", "pull_request", "opened", status_code=503)
    auth = {"Authorization": f"Bearer {app_jwt(gh)}"}
    listed = requests.get(f"{gh.url}/app/hook/deliveries", headers=auth, timeout=5).json()
    assert listed[0]["guid"] == "guid-1" and listed[0]["status_code"] == 503
    assert requests.post(f"{gh.url}/app/hook/deliveries/{did}/attempts", headers=auth, timeout=5).status_code == 202
    assert gh.store.redeliveries == ["guid-1"]
    gh.add_manifest_code("c0de")
    conv = requests.post(f"{gh.url}/app-manifests/c0de/conversions", timeout=5)
    assert conv.status_code == 201 and "PRIVATE KEY" in conv.json()["pem"]
    assert requests.post(f"{gh.url}/app-manifests/c0de/conversions", timeout=5).status_code == 404
