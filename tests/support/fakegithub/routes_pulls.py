"""Pull request routes: the PR, its diff and files, compare, reviews and review comments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .gitdata import HunkMap, changed_paths, hunk_map, hunks_text
from .routes_repo import MAX_COMMENT_BODY, _public, _user, repo_of
from .routing import Req, Resp, paginate, route
from .state import HttpError, Pull, Repo

if TYPE_CHECKING:
    from .fake import FakeGitHub

DIFF_TOO_LARGE = ("Sorry, the diff exceeded the maximum number of files (300). Consider using 'List pull "
                  "requests files' API or locally cloning the repository instead.")
LINE_NOT_IN_DIFF = "Pull request review thread line must be part of the diff"
START_NOT_IN_DIFF = "Pull request review thread start line must be part of the diff"
START_NOT_BEFORE = "Pull request review thread start line must precede the end line."
START_OTHER_HUNK = "Pull request review thread start line must be part of the same hunk as the line."
PATH_UNKNOWN = "Pull request review thread path could not be resolved"
REVIEW_STATES = {"COMMENT": "COMMENTED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "APPROVE": "APPROVED"}


def pull_json(fake: FakeGitHub, repo: Repo, pr: Pull) -> dict[str, Any]:
    files = fake.store.pull_files(repo, pr)
    repo_ref = {"full_name": repo.full_name, "name": repo.name, "owner": _user(repo.owner, "Organization"),
                "fork": False}
    head_ref: dict[str, Any] | None = repo_ref
    if pr.head_repo is None:
        head_ref = None
    elif pr.head_repo:
        owner, name = pr.head_repo.split("/")
        head_ref = {"full_name": pr.head_repo, "name": name, "owner": _user(owner), "fork": True}
    return {
        "url": f"{fake.url}/repos/{repo.full_name}/pulls/{pr.number}", "id": pr.number * 7919,
        "number": pr.number, "state": pr.state, "draft": pr.draft, "title": pr.title, "body": pr.body,
        "user": _user(pr.user, pr.user_type), "merged": False, "mergeable": None,
        "head": {"sha": pr.head_sha, "ref": pr.head_ref, "repo": head_ref, "label": f"{repo.owner}:{pr.head_ref}"},
        "base": {"sha": pr.base_sha, "ref": pr.base_ref, "repo": repo_ref, "label": f"{repo.owner}:{pr.base_ref}"},
        "html_url": f"https://github.com/{repo.full_name}/pull/{pr.number}",
        "changed_files": len(files), "additions": sum(f["additions"] for f in files),
        "deletions": sum(f["deletions"] for f in files),
    }


def _too_large() -> HttpError:
    return HttpError(406, DIFF_TOO_LARGE, [{"resource": "PullRequest", "field": "diff", "code": "too_large"}])


@route("GET", "/repos/{owner}/{repo}/pulls/{number}")
def get_pull(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    pr = fake.store.pull(repo.owner, repo.name, int(req.params["number"]))
    if "diff" in req.accept or "patch" in req.accept:
        if pr.diff_too_large:
            raise _too_large()
        return Resp(200, raw=fake.store.pull_diff(pr).encode(), content_type="text/plain; charset=utf-8")
    return Resp(200, pull_json(fake, repo, pr))


@route("GET", "/repos/{owner}/{repo}/pulls/{number}/files")
def list_pull_files(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    pr = fake.store.pull(repo.owner, repo.name, int(req.params["number"]))
    return paginate(fake, req, fake.store.pull_files(repo, pr)[:3000])


@route("GET", "/repos/{owner}/{repo}/commits/{sha}/pulls")
def pulls_for_commit(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    sha = req.params["sha"]
    items = [pull_json(fake, repo, pr) for pr in repo.pulls.values() if pr.head_sha == sha]
    return paginate(fake, req, items)


@route("GET", "/repos/{owner}/{repo}/compare/{basehead}")
def compare(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    base_ref, sep, head_ref = req.params["basehead"].partition("...")
    if not sep:
        raise HttpError(404, "Not Found")
    base, head = fake.store.resolve(repo, base_ref), fake.store.resolve(repo, head_ref)
    status, merge_base = fake.store.compare_status(base.sha, head.sha)
    if merge_base is None:
        raise HttpError(404, f"No common ancestor between {base_ref} and {head_ref}.")
    if "diff" in req.accept:
        return Resp(200, raw=fake.store.diff_between(merge_base, head.sha).encode(), content_type="text/plain")
    ahead = fake.store.ancestors(head.sha)
    commits = list(reversed(ahead[: ahead.index(merge_base)]))
    behind = fake.store.ancestors(base.sha)
    files = fake.store.files_between(repo, merge_base, head.sha, fake.compare_no_patch)
    return Resp(200, {
        "url": f"{fake.url}/repos/{repo.full_name}/compare/{req.params['basehead']}", "status": status,
        "ahead_by": len(commits), "behind_by": behind.index(merge_base), "total_commits": len(commits),
        "base_commit": {"sha": base.sha}, "merge_base_commit": {"sha": merge_base},
        "commits": [{"sha": c} for c in commits[: int(req.q("per_page") or 250)]],
        "files": files[:300],
    })


def _hunk_maps(fake: FakeGitHub, pr: Pull, commit_id: str) -> dict[str, HunkMap]:
    base, head = fake.store.commits[pr.base_sha].tree, fake.store.commits[commit_id].tree
    return {p: hunk_map(hunks_text(base.get(p, b""), head.get(p, b""))) for p in changed_paths(base, head)}


def _check_comment(c: Any, maps: dict[str, HunkMap]) -> str | None:
    """None when GitHub would accept this review comment, else its error message."""
    if not isinstance(c, dict) or not isinstance(c.get("path"), str) or not isinstance(c.get("body"), str):
        return "path and body are required"
    if len(c["body"]) > MAX_COMMENT_BODY:
        return "Body is too long (maximum is 65536 characters)"
    if "position" in c:
        return "position is retired; anchor with line and side"
    hm = maps.get(c["path"])
    if hm is None:
        return PATH_UNKNOWN
    side = c.get("side", "RIGHT")
    line = c.get("line")
    lines = hm.right if side == "RIGHT" else hm.left if side == "LEFT" else None
    if lines is None or not isinstance(line, int) or line not in lines:
        return LINE_NOT_IN_DIFF
    if c.get("start_line") is None:
        return None
    start = c["start_line"]
    start_lines = hm.right if c.get("start_side", side) == "RIGHT" else hm.left
    if not isinstance(start, int) or start not in start_lines:
        return START_NOT_IN_DIFF
    if start >= line:
        return START_NOT_BEFORE
    if start_lines[start] != lines[line]:
        return START_OTHER_HUNK
    return None


@route("POST", "/repos/{owner}/{repo}/pulls/{number}/reviews")
def create_review(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    pr = fake.store.pull(repo.owner, repo.name, int(req.params["number"]))
    data = req.body_json()
    commit_id = data.get("commit_id") or pr.head_sha
    if commit_id not in pr.heads:
        raise HttpError(422, "Unprocessable Entity", ["commit_id is not part of the pull request"])
    event = data.get("event")
    if event is not None and event not in REVIEW_STATES:
        raise HttpError(422, "Unprocessable Entity", [f"event {event!r} is not valid"])
    body = data.get("body") or ""
    if event in ("COMMENT", "REQUEST_CHANGES") and not body:
        raise HttpError(422, "Unprocessable Entity", ["Review body is required"])
    if len(body) > MAX_COMMENT_BODY:
        raise HttpError(422, "Unprocessable Entity", ["Body is too long (maximum is 65536 characters)"])
    comments = data.get("comments") or []
    maps = _hunk_maps(fake, pr, commit_id)
    errors = [e for e in (_check_comment(c, maps) for c in comments) if e]
    if errors:
        raise HttpError(422, "Unprocessable Entity", errors)
    key = (repo.full_name.lower(), pr.number)
    rid = fake.store.next_id()
    review = {"id": rid, "user": _user(fake.bot_login, "Bot"), "body": body, "commit_id": commit_id,
              "state": REVIEW_STATES.get(event or "", "PENDING"), "submitted_at": "2026-01-01T00:00:00Z",
              "_key": key, "_app": fake.app_id}
    fake.store.reviews[rid] = review
    for c in comments:
        cid = fake.store.next_id()
        fake.store.review_comments[cid] = {
            "id": cid, "pull_request_review_id": rid, "path": c["path"], "line": c["line"],
            "side": c.get("side", "RIGHT"), "start_line": c.get("start_line"),
            "start_side": c.get("start_side") if c.get("start_line") else None, "body": c["body"],
            "commit_id": commit_id, "original_commit_id": commit_id, "user": _user(fake.bot_login, "Bot"),
            "in_reply_to_id": None, "created_at": "2026-01-01T00:00:00Z", "_key": key, "_app": fake.app_id,
        }
    return Resp(200, _public(review))


@route("GET", "/repos/{owner}/{repo}/pulls/{number}/reviews")
def list_reviews(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    key = (repo.full_name.lower(), int(req.params["number"]))
    return paginate(fake, req, [_public(r) for r in fake.store.reviews.values() if r["_key"] == key])


@route("GET", "/repos/{owner}/{repo}/pulls/{number}/comments")
def list_review_comments(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    key = (repo.full_name.lower(), int(req.params["number"]))
    return paginate(fake, req, [_public(c) for c in fake.store.review_comments.values() if c["_key"] == key])


def new_review_reply(fake: FakeGitHub, key: tuple[str, int], parent_id: int, body: str, login: str,
                     user_type: str = "User") -> int:
    """A reply in the thread of review comment `parent_id` (GitHub files it under the thread's first comment)."""
    parent = fake.store.review_comments.get(parent_id)
    if parent is None or parent["_key"] != key:
        raise HttpError(404, "Not Found")
    if not isinstance(body, str) or not body:
        raise HttpError(422, "Unprocessable Entity", ["body is required"])
    if len(body) > MAX_COMMENT_BODY:
        raise HttpError(422, "Unprocessable Entity", ["Body is too long (maximum is 65536 characters)"])
    top = parent.get("in_reply_to_id") or parent_id
    cid = fake.store.next_id()
    fake.store.review_comments[cid] = {
        **{k: parent[k] for k in ("path", "line", "side", "start_line", "start_side", "commit_id",
                                  "original_commit_id", "pull_request_review_id")},
        "id": cid, "body": body, "user": _user(login, user_type), "in_reply_to_id": top, "_key": key,
        "diff_hunk": parent.get("diff_hunk", ""),
    }
    return cid


@route("GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id}")
def get_review_comment(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    c = fake.store.review_comments.get(int(req.params["comment_id"]))
    if c is None or c["_key"][0] != repo.full_name.lower():
        raise HttpError(404, "Not Found")
    return Resp(200, _public(c))


@route("POST", "/repos/{owner}/{repo}/pulls/{number}/comments/{comment_id}/replies")
def create_review_reply(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    key = (repo.full_name.lower(), int(req.params["number"]))
    cid = new_review_reply(fake, key, int(req.params["comment_id"]), req.body_json().get("body"), fake.bot_login,
                           "Bot")
    return Resp(201, _public(fake.store.review_comments[cid]))
