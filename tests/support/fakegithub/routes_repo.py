"""Repository routes: contents, git trees and blobs, permissions, issue comments and reactions."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from .gitdata import blob_sha
from .routing import Req, Resp, paginate, route
from .state import HttpError, Repo

if TYPE_CHECKING:
    from .fake import FakeGitHub

MAX_COMMENT_BODY = 65536
REACTIONS = {"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}
CONTENTS_JSON_LIMIT = 1_000_000
BODY_TOO_LONG = "Body is too long (maximum is 65536 characters)"


def repo_of(fake: FakeGitHub, req: Req) -> Repo:
    repo = fake.store.repo(req.params["owner"], req.params["repo"])
    if req.installation_id is not None and repo.installation_id != req.installation_id:
        raise HttpError(404, "Not Found")
    return repo


def _user(login: str, user_type: str = "User") -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": user_type}


@route("GET", "/repos/{owner}/{repo}")
def get_repo(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    return Resp(200, {"id": abs(hash(repo.full_name)) % 10**8, "name": repo.name, "full_name": repo.full_name,
                      "owner": _user(repo.owner, "Organization"), "default_branch": repo.default_branch,
                      "private": True, "url": f"{fake.url}/repos/{repo.full_name}"})


@route("GET", "/repos/{owner}/{repo}/contents/{path+}")
def get_contents(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    commit = fake.store.resolve(repo, req.q("ref"))
    path = req.params["path"].strip("/")
    data = commit.tree.get(path)
    if data is None:
        entries = sorted({p[len(path) + 1:].split("/")[0] for p in commit.tree if p.startswith(path + "/")})
        if not entries:
            raise HttpError(404, "Not Found")
        return Resp(200, [{"name": e, "path": f"{path}/{e}",
                           "type": "file" if f"{path}/{e}" in commit.tree else "dir"} for e in entries])
    if "raw" in req.accept:
        return Resp(200, raw=data, content_type="application/vnd.github.raw")
    too_big = len(data) > CONTENTS_JSON_LIMIT
    return Resp(200, {
        "type": "symlink" if path in commit.symlinks else "file", "name": path.rsplit("/", 1)[-1], "path": path,
        "sha": blob_sha(data), "size": len(data), "encoding": "none" if too_big else "base64",
        "content": "" if too_big else base64.encodebytes(data).decode(),
    })


@route("GET", "/repos/{owner}/{repo}/git/trees/{sha}")
def get_tree(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    commit = fake.store.resolve(repo, req.params["sha"])
    if req.q("recursive") in (None, "", "0", "false"):
        raise HttpError(422, "the fake serves recursive trees only (?recursive=1)")
    entries: list[dict[str, Any]] = []
    dirs: set[str] = set()
    for path in sorted(commit.tree):
        parts = path.split("/")
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
        data = commit.tree[path]
        mode = "120000" if path in commit.symlinks else "100644"
        entries.append({"path": path, "mode": mode, "type": "blob", "sha": blob_sha(data), "size": len(data)})
    entries += [{"path": d, "mode": "040000", "type": "tree", "sha": "0" * 40} for d in sorted(dirs)]
    return Resp(200, {"sha": commit.sha, "tree": entries, "truncated": False})


@route("GET", "/repos/{owner}/{repo}/git/blobs/{sha}")
def get_blob(fake: FakeGitHub, req: Req) -> Resp:
    repo_of(fake, req)
    data = fake.store.blobs.get(req.params["sha"])
    if data is None:
        raise HttpError(404, "Not Found")
    if "raw" in req.accept:
        return Resp(200, raw=data, content_type="application/vnd.github.raw")
    return Resp(200, {"sha": req.params["sha"], "size": len(data), "encoding": "base64",
                      "content": base64.encodebytes(data).decode()})


@route("GET", "/repos/{owner}/{repo}/collaborators/{login}/permission")
def get_permission(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    perm = repo.permissions.get(req.params["login"])
    if perm is None:
        raise HttpError(404, "Not Found")
    return Resp(200, {"permission": perm, "role_name": perm, "user": _user(req.params["login"])})


def new_issue_comment(fake: FakeGitHub, key: str, number: int, body: str, login: str, user_type: str,
                      via_app: dict[str, Any] | None = None) -> int:
    """A conversation comment; one our App's token writes names our App in `performed_via_github_app`,
    one seeded for another App (`via_app`, its integration object) names that App and its bot user."""
    if len(body) > MAX_COMMENT_BODY:
        raise HttpError(422, "Validation Failed", [{"resource": "IssueComment", "code": "custom", "field": "body",
                                                   "message": BODY_TOO_LONG}])
    cid = fake.store.next_id()
    fake.store.issue_comments[cid] = {
        "id": cid, "body": body, "user": _user(login, user_type), "_key": (key, number),
        "html_url": f"https://github.com/{key}/pull/{number}#issuecomment-{cid}",
        "performed_via_github_app": via_app or (fake.app_object() if login == fake.bot_login else None),
        "_app": (via_app or {}).get("id") or (fake.app_id if login == fake.bot_login else None),
    }
    return cid


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


@route("POST", "/repos/{owner}/{repo}/issues/{number}/comments")
def create_issue_comment(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    body = req.body_json().get("body")
    if not isinstance(body, str) or not body:
        raise HttpError(422, "Validation Failed", [{"field": "body", "code": "missing_field"}])
    number = int(req.params["number"])
    if number not in repo.pulls:
        raise HttpError(404, "Not Found")
    cid = new_issue_comment(fake, repo.full_name.lower(), number, body, fake.bot_login, "Bot")
    return Resp(201, _public(fake.store.issue_comments[cid]))


@route("GET", "/repos/{owner}/{repo}/issues/{number}/comments")
def list_issue_comments(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    key = (repo.full_name.lower(), int(req.params["number"]))
    items = [_public(c) for c in fake.store.issue_comments.values() if c["_key"] == key]
    return paginate(fake, req, items)


def _comment(fake: FakeGitHub, req: Req) -> dict[str, Any]:
    repo = repo_of(fake, req)
    c = fake.store.issue_comments.get(int(req.params["comment_id"]))
    if c is None or c["_key"][0] != repo.full_name.lower():
        raise HttpError(404, "Not Found")
    return c


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_issue_comment(fake: FakeGitHub, req: Req) -> Resp:
    return Resp(200, _public(_comment(fake, req)))


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def edit_issue_comment(fake: FakeGitHub, req: Req) -> Resp:
    c = _comment(fake, req)
    body = req.body_json().get("body")
    if not isinstance(body, str) or len(body) > MAX_COMMENT_BODY:
        raise HttpError(422, "Validation Failed", [{"field": "body", "code": "invalid"}])
    c["body"] = body
    return Resp(200, _public(c))


@route("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def add_reaction(fake: FakeGitHub, req: Req) -> Resp:
    c = _comment(fake, req)
    content = req.body_json().get("content")
    if content not in REACTIONS:
        raise HttpError(422, "Validation Failed", [{"field": "content", "code": "invalid"}])
    existing = fake.store.reactions.setdefault(c["id"], [])
    for r in existing:
        if r["content"] == content and r["user"]["login"] == fake.bot_login:
            return Resp(200, r)
    reaction = {"id": fake.store.next_id(), "content": content, "user": _user(fake.bot_login, "Bot")}
    existing.append(reaction)
    return Resp(201, reaction)
